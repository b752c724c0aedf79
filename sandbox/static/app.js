// The sandbox web chat: act as a simulated user and chat with the bot as on a phone.
// Plain JS, no build step. Talks to the stand-in's /_sandbox API; live through server-sent events.
"use strict";

const API = "/_sandbox";
const $ = (selector) => document.querySelector(selector);

const state = {
  users: [],
  user: null, // the simulated user we act as
  chats: [],
  chatId: null,
  view: null,
  seenAnswers: new Set(),
  events: null,
  loadTicket: 0,
};

// ------------------------------------------------------------------ API

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  const body = await response.json().catch(() => ({ ok: false, error: response.statusText }));
  if (!body.ok) {
    const error = new Error(body.error || "request failed");
    error.status = response.status;
    throw error;
  }
  return body.result;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

// ------------------------------------------------------------------ helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
};

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "i");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function initials(name) {
  return (name || "?").trim().slice(0, 1).toUpperCase();
}

function fullName(user) {
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function clock(unix) {
  const date = new Date(unix * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function dayLabel(unix) {
  return new Date(unix * 1000).toLocaleDateString([], { month: "long", day: "numeric" });
}

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(url || "") ? url : null;
}

let toastTimer = null;
function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 3000);
}

function alertBox(text) {
  $("#alert-text").textContent = text;
  $("#alert-dialog").showModal();
}

function notice(text) {
  const box = $("#notice");
  box.textContent = text || "";
  box.hidden = !text;
}

// ------------------------------------------------------------------ entities -> DOM

// Telegram entities (UTF-16 offsets, which JS strings use natively) as nested elements.
// Entities from parse modes nest; a partial overlap (possible with raw entities) is clipped.
function renderText(text, entities) {
  const spans = (entities || [])
    .map((e) => ({ start: e.offset, end: e.offset + e.length, entity: e, children: [] }))
    .filter((s) => s.start >= 0 && s.end <= text.length && s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const root = { start: 0, end: text.length, entity: null, children: [] };
  const stack = [root];
  for (const span of spans) {
    while (stack.length > 1 && stack[stack.length - 1].end <= span.start) stack.pop();
    const parent = stack[stack.length - 1];
    span.end = Math.min(span.end, parent.end);
    parent.children.push(span);
    stack.push(span);
  }
  return renderSpan(root, text);
}

function renderSpan(span, text) {
  const node = elementFor(span.entity, text.slice(span.start, span.end));
  let position = span.start;
  for (const child of span.children) {
    if (child.start < position) continue;
    node.append(text.slice(position, child.start), renderSpan(child, text));
    position = child.end;
  }
  node.append(text.slice(position, span.end));
  return node;
}

function elementFor(entity, piece) {
  if (!entity) return document.createDocumentFragment();
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre", { "data-language": entity.language });
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler":
      return el("span", { class: "spoiler", onclick: (e) => e.currentTarget.classList.add("shown") });
    case "text_link": {
      const url = safeUrl(entity.url);
      return url ? el("a", { href: url, target: "_blank", rel: "noopener" }) : el("span");
    }
    case "url": {
      const url = safeUrl(/^[a-z]+:/i.test(piece) ? piece : `https://${piece}`);
      return url ? el("a", { href: url, target: "_blank", rel: "noopener" }) : el("span");
    }
    case "email": return el("a", { href: `mailto:${piece}` });
    case "bot_command":
      return el("span", { class: "command", onclick: () => sendText(piece) });
    case "mention":
    case "hashtag":
    case "cashtag":
    case "text_mention": return el("span", { class: entity.type === "hashtag" ? "hashtag" : "mention" });
    default: return el("span");
  }
}

// ------------------------------------------------------------------ rendering

function renderMessages() {
  const box = $("#messages");
  const view = state.view;
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren();
  if (!view) return;
  if (!view.messages.length) {
    box.append(el("div", { class: "empty" }, `Say hello to ${view.bot.first_name}: tap / or send /start.`));
  }
  let lastDay = null;
  for (const message of view.messages) {
    const day = dayLabel(message.date);
    if (day !== lastDay) box.append(el("div", { class: "day" }, day));
    lastDay = day;
    box.append(renderMessage(message));
  }
  if (stick || state.forceScroll) box.scrollTop = box.scrollHeight;
  state.forceScroll = false;
}

function renderMessage(message) {
  const mine = message.from && message.from.id === state.user.id;
  const inGroup = message.chat.type !== "private";
  const bubble = el("div", { class: "bubble", "data-message-id": message.message_id });
  if (inGroup && !mine) bubble.append(el("div", { class: "sender" }, fullName(message.from)));
  if (message.reply_to_message) {
    const quoted = message.reply_to_message;
    bubble.append(el("div", { class: "reply-quote" }, quoted.text || quoted.caption || "…"));
  }
  bubble.append(...renderContent(message));
  const meta = `${message.edit_date ? "edited " : ""}${clock(message.date)}`;
  bubble.append(el("span", { class: "meta" }, meta));
  const row = el("div", { class: `row ${mine ? "out" : "in"}` }, bubble);
  if (message.reply_markup && message.reply_markup.inline_keyboard) {
    row.append(renderInlineKeyboard(message));
  }
  return row;
}

function renderContent(message) {
  const parts = [];
  if (message.photo) {
    const largest = message.photo[message.photo.length - 1];
    parts.push(el("img", { class: "photo", src: `${API}/files/${largest.file_id}`, alt: "photo" }));
  }
  if (message.document) parts.push(renderDocument(message.document));
  if (message.contact) {
    const c = message.contact;
    parts.push(
      el("div", { class: "contact" },
        el("div", { class: "file-icon" }, icon("person")),
        el("div", {}, el("div", { class: "file-name" }, fullName(c)), el("div", { class: "file-size" }, c.phone_number)),
      ),
    );
  }
  if (message.text !== undefined) parts.push(renderText(message.text, message.entities));
  if (message.caption) parts.push(renderText(message.caption, message.caption_entities));
  return parts;
}

function renderDocument(document_) {
  const name = document_.file_name || "file";
  return el("a", { class: "file", href: `${API}/files/${document_.file_id}`, download: name },
    el("div", { class: "file-icon" }, icon("download")),
    el("div", {}, el("div", { class: "file-name" }, name), el("div", { class: "file-size" }, fileSize(document_.file_size || 0))),
  );
}

function renderInlineKeyboard(message) {
  const rows = message.reply_markup.inline_keyboard.map((row) =>
    el("div", { class: "inline-row" }, ...row.map((button) => renderInlineButton(message, button))),
  );
  return el("div", { class: "inline-keyboard" }, ...rows);
}

function renderInlineButton(message, button) {
  const url = safeUrl(button.url);
  if (url) return el("a", { href: url, target: "_blank", rel: "noopener" }, `${button.text} ↗`);
  return el("button", {
    type: "button",
    "data-callback": button.callback_data,
    onclick: (event) => pressButton(event.currentTarget, message, button),
  }, button.text);
}

function renderReplyKeyboard() {
  const box = $("#keyboard");
  const keyboard = state.view && state.view.reply_keyboard;
  box.replaceChildren();
  box.hidden = !keyboard;
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    box.append(el("div", { class: "key-row" }, ...row.map((button) =>
      el("button", { type: "button", onclick: () => tapKey(button) },
        button.request_contact ? `📱 ${button.text}` : button.text),
    )));
  }
  const placeholder = keyboard.input_field_placeholder;
  $("#text").placeholder = placeholder || "Message";
}

function renderHeader() {
  const view = state.view;
  const chat = state.chats.find((c) => c.id === state.chatId);
  $("#chat-avatar").textContent = initials(chat && chat.type !== "private" ? chat.title : view ? view.bot.first_name : "B");
  const status = $("#status");
  if (!view) {
    status.textContent = "";
  } else if (view.chat_action) {
    status.textContent = view.chat_action === "typing" ? "typing…" : `${view.chat_action.replaceAll("_", " ")}…`;
    status.classList.add("active");
  } else {
    status.classList.remove("active");
    status.textContent = chat && chat.type !== "private"
      ? `group · with @${view.bot.username}`
      : `bot · @${view.bot.username}`;
  }
  $("#blocked-bar").hidden = !(view && view.blocked);
  $("#composer").hidden = Boolean(view && view.blocked);
  $("#block-item").textContent = view && view.blocked ? "Unblock bot" : "Block bot";
  $("#user-name").textContent = state.user ? fullName(state.user) : "Choose user";
}

function renderCommands() {
  const box = $("#commands");
  box.replaceChildren();
  const commands = (state.view && state.view.commands) || [];
  if (!commands.length) {
    box.append(el("button", { type: "button", onclick: () => sendText("/start") },
      el("span", { class: "cmd" }, "/start"), el("span", { class: "desc" }, "the bot set no commands")));
  }
  for (const command of commands) {
    box.append(el("button", { type: "button", onclick: () => { box.hidden = true; sendText(`/${command.command}`); } },
      el("span", { class: "cmd" }, `/${command.command}`), el("span", { class: "desc" }, command.description)));
  }
}

function showNewAnswers() {
  for (const query of state.view.callback_answers) {
    if (!query.answered || state.seenAnswers.has(query.callback_query_id)) continue;
    state.seenAnswers.add(query.callback_query_id);
    const answer = query.answer;
    if (answer.text && answer.show_alert) alertBox(answer.text);
    else if (answer.text) toast(answer.text);
    if (answer.url && safeUrl(answer.url)) window.open(answer.url, "_blank", "noopener");
  }
  for (const button of document.querySelectorAll(".inline-row button.pending")) {
    button.classList.remove("pending");
  }
}

function render() {
  renderHeader();
  renderMessages();
  renderReplyKeyboard();
  renderCommands();
  if (state.view) showNewAnswers();
}

// ------------------------------------------------------------------ loading

async function loadView() {
  if (!state.user || state.chatId === null) return;
  const ticket = ++state.loadTicket; // answers may overtake each other: keep the newest
  try {
    const view = await api(`/chats/${state.chatId}?user_id=${state.user.id}`);
    if (ticket !== state.loadTicket) return;
    state.view = view;
    notice(null);
  } catch (error) {
    if (ticket !== state.loadTicket) return;
    state.view = null;
    if (error.status === 409) notice("Waiting for the bot to connect…");
    else notice(error.message);
  }
  render();
}

async function loadChats() {
  const select = $("#chat-select");
  try {
    state.chats = await api(`/chats?user_id=${state.user.id}`);
  } catch (error) {
    state.chats = [];
    if (error.status === 409) notice("Waiting for the bot to connect…");
    select.replaceChildren(el("option", {}, "Bot sandbox"));
    return;
  }
  if (!state.chats.some((c) => c.id === state.chatId)) state.chatId = state.user.id;
  select.replaceChildren(...state.chats.map((chat) =>
    el("option", { value: chat.id, selected: chat.id === state.chatId }, chat.title || chat.first_name)));
}

async function loadUsers() {
  state.users = await api("/users");
  if (state.user) state.user = state.users.find((u) => u.id === state.user.id) || null;
}

async function chooseUser(user) {
  state.user = user;
  state.chatId = user.id;
  state.seenAnswers = new Set();
  state.forceScroll = true;
  localStorage.setItem("sandbox-user", String(user.id));
  $("#user-dialog").close();
  listen(); // first, so no change between loading and listening is missed
  await loadChats();
  await loadView();
  await followDeepLink();
  // answers given before we arrived are old news
  if (state.view) for (const q of state.view.callback_answers) state.seenAnswers.add(q.callback_query_id);
}

let mailEvents = 0; // mail events seen: a count asked for before one of them is out of date

async function loadMailCount() {
  const asked = mailEvents;
  const { count } = await api("/mail?limit=0").catch(() => ({ count: 0 }));
  if (asked === mailEvents) showMailCount(count);
}

function showMailCount(count) {
  const badge = $("#mail-count");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = !count;
  $("#mail-link").title = count ? `Mailbox: ${count} caught` : "Mailbox: mail the bot sent";
}

async function refresh() {
  loadMailCount();
  await loadUsers();
  if (!state.user) return;
  await loadChats();
  await loadView();
}

function listen() {
  if (state.events) state.events.close();
  state.events = new EventSource(`${API}/events?user_id=${state.user.id}`);
  state.events.onopen = () => refresh(); // also after a reconnect: catch up on what we missed
  state.events.onmessage = async (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "chat" && event.chat_id === state.chatId) await loadView();
    if (event.type === "users" || event.type === "bots") await refresh();
    if (event.type === "mail") {
      mailEvents += 1;
      showMailCount(event.count);
    }
    if (event.type === "reset") location.reload();
  };
}

// ------------------------------------------------------------------ actions

async function act(promise) {
  try {
    return await promise;
  } catch (error) {
    toast(error.message);
    return null;
  }
}

async function sendText(text) {
  text = text.trim();
  if (!text || !state.user) return;
  const body = { user_id: state.user.id, text };
  const view = state.view;
  if (view && view.force_reply) {
    const last = [...view.messages].reverse().find((m) => m.from && m.from.is_bot);
    if (last) body.reply_to_message_id = last.message_id;
  }
  state.forceScroll = true;
  await act(post(`/chats/${state.chatId}/messages`, body));
}

async function sendFile(file) {
  const form = new FormData();
  form.append("user_id", String(state.user.id));
  form.append("kind", /^image\/(png|jpeg|gif|webp)$/.test(file.type) ? "photo" : "document");
  const caption = $("#text").value.trim();
  if (caption) form.append("caption", caption);
  form.append("file", file, file.name);
  state.forceScroll = true;
  const sent = await act(api(`/chats/${state.chatId}/messages`, { method: "POST", body: form }));
  if (sent) $("#text").value = "";
}

async function pressButton(node, message, button) {
  node.classList.add("pending");
  const result = await act(post(`/chats/${state.chatId}/press`, {
    user_id: state.user.id,
    message_id: message.message_id,
    data: button.callback_data,
  }));
  if (!result) node.classList.remove("pending");
}

async function tapKey(button) {
  if (button.request_contact && !state.user.phone_number) {
    toast("This user has no phone number: create one with a phone to share it.");
    return;
  }
  state.forceScroll = true;
  await act(post(`/chats/${state.chatId}/keyboard`, { user_id: state.user.id, text: button.text }));
}

async function setBlocked(blocked) {
  await act(post(`/users/${state.user.id}/${blocked ? "block" : "unblock"}`, {}));
  await loadView();
}

// /?start=<payload> works like t.me/<bot>?start=<payload>: it sends "/start <payload>" once.
async function followDeepLink() {
  const params = new URLSearchParams(location.search);
  const payload = params.get("start");
  if (payload === null || !state.view) return;
  params.delete("start");
  history.replaceState(null, "", `${location.pathname}${params.size ? `?${params}` : ""}`);
  if (state.chatId !== state.user.id) {
    state.chatId = state.user.id;
    await loadView();
  }
  await sendText(/^[A-Za-z0-9_-]{1,64}$/.test(payload) ? `/start ${payload}` : "/start");
}

// ------------------------------------------------------------------ dialogs

function openUserDialog() {
  const list = $("#user-list");
  list.replaceChildren(...state.users.map((user) =>
    el("button", { type: "button", onclick: () => chooseUser(user) },
      el("div", { class: "avatar" }, initials(user.first_name)),
      el("div", { class: "who" },
        el("span", {}, fullName(user)),
        el("span", { class: "sub" }, [user.language_code, user.phone_number, `id ${user.id}`].filter(Boolean).join(" · "))),
    )));
  if (!state.users.length) list.append(el("p", { class: "hint" }, "No users yet."));
  const form = $("#user-form");
  form.phone_number.value = `+86 138 ${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const dialog = $("#user-dialog");
  if (!dialog.open) dialog.showModal();
}

async function createUser(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    first_name: form.first_name.value.trim(),
    last_name: form.last_name.value.trim() || null,
    language_code: form.language_code.value || null,
    phone_number: form.phone_number.value.trim() || null,
  };
  if (!body.first_name) return;
  const user = await act(post("/users", body));
  if (!user) return;
  form.reset();
  await loadUsers();
  await chooseUser(user);
}

function openGroupDialog() {
  const members = $("#group-members");
  members.replaceChildren(...state.users.map((user) =>
    el("label", {}, el("input", { type: "checkbox", value: user.id, checked: user.id === state.user.id }), fullName(user))));
  $("#group-dialog").showModal();
}

async function createGroup(event) {
  event.preventDefault();
  const form = event.target;
  const memberIds = [...form.querySelectorAll("input[type=checkbox]:checked")].map((c) => Number(c.value));
  const group = await act(post("/groups", { title: form.title.value.trim(), member_ids: memberIds }));
  $("#group-dialog").close();
  if (!group) return;
  form.reset();
  state.chatId = group.id;
  await loadChats();
  await loadView();
}

// ------------------------------------------------------------------ wiring

function wire() {
  const text = $("#text");
  $("#composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value;
    text.value = "";
    autosize();
    await sendText(value);
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  const autosize = () => {
    text.style.height = "auto";
    text.style.height = `${Math.min(text.scrollHeight, 120)}px`;
  };
  text.addEventListener("input", autosize);
  $("#file-input").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) await sendFile(file);
  });
  $("#menu-button").addEventListener("click", () => {
    const box = $("#commands");
    box.hidden = !box.hidden;
  });
  $("#user-button").addEventListener("click", openUserDialog);
  $("#more-button").addEventListener("click", (event) => {
    event.stopPropagation();
    $("#more-menu").hidden = !$("#more-menu").hidden;
  });
  document.addEventListener("click", () => ($("#more-menu").hidden = true));
  $("#more-menu").addEventListener("click", (event) => {
    const action = event.target.dataset.action;
    if (action === "switch-user") openUserDialog();
    if (action === "new-group" && state.user) openGroupDialog();
    if (action === "toggle-block" && state.view) setBlocked(!state.view.blocked);
  });
  $("#unblock-button").addEventListener("click", () => setBlocked(false));
  $("#chat-select").addEventListener("change", async (event) => {
    state.chatId = Number(event.target.value);
    state.forceScroll = true;
    await loadView();
  });
  $("#user-form").addEventListener("submit", createUser);
  $("#group-form").addEventListener("submit", createGroup);
  $("#group-cancel").addEventListener("click", () => $("#group-dialog").close());
  setInterval(() => {
    if (state.view && state.view.chat_action) loadView(); // let "typing…" expire
    if (state.user && !state.view) refresh(); // still waiting for the bot
  }, 2500);
}

async function main() {
  wire();
  loadMailCount();
  await loadUsers();
  const wanted = Number(new URLSearchParams(location.search).get("user") || localStorage.getItem("sandbox-user"));
  const user = state.users.find((u) => u.id === wanted);
  if (user) await chooseUser(user);
  else openUserDialog();
}

main();
