/* The report form's autosave: every change is sent a moment after typing stops, when a
   field loses focus and when the page is hidden or closed. The server answers with the
   answer's new version; when someone else changed it meanwhile it answers 409 with the
   answer as it stands, which is shown, with the person's own text kept beside it.
   What is typed is also kept in this browser until the server has it, so a closed tab or a
   dropped network loses nothing. Without this file the form still posts and is redirected. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("answer");
  if (!form) { return; }
  var action = form.getAttribute("action");
  var csrf = form.elements._csrf.value;
  var version = form.elements.version;
  var text = form.elements.text;
  var reason = form.elements.reason;
  var reasonBox = document.getElementById("reason-box");
  var state = document.getElementById("save-state");
  var mineBox = document.getElementById("mine-box");
  var mine = document.getElementById("mine");
  var key = "tz-draft:" + action;
  var msg = form.dataset;
  var timer = null, inFlight = false, dirty = false;

  function status() {
    var checked = form.querySelector("input[name=status]:checked");
    return checked ? checked.value : "";
  }
  function setStatus(value) {
    var radio = form.querySelector("input[name=status][value=" + value + "]");
    if (radio) { radio.checked = true; }
    showReason();
  }
  function showReason() {
    if (reasonBox) { reasonBox.hidden = status() !== "not_applicable"; }
  }
  function say(message, kind) {
    if (!state) { return; }
    state.textContent = message;
    state.className = "save-state " + (kind || "ok");
  }
  function remember() {
    try {
      localStorage.setItem(key, JSON.stringify({
        base: version.value, text: text.value, status: status(), reason: reason.value
      }));
    } catch (e) { /* private mode: the server copy is all there is */ }
  }
  function forget() {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  function body() {
    var data = new URLSearchParams();
    data.set("_csrf", csrf);
    data.set("version", version.value);
    data.set("status", status());
    data.set("text", text.value);
    data.set("reason", reason.value);
    return data;
  }
  function showMine(value) {
    if (!mineBox || !value) { return; }
    mine.value = value;
    mineBox.hidden = false;
  }
  function answered(code, answer) {
    inFlight = false;
    if (answer.version !== undefined) { version.value = answer.version; }
    if (code === 409 && answer.stale) {
      var own = text.value;
      text.value = answer.text;
      reason.value = answer.reason;
      setStatus(answer.status);
      dirty = false;
      forget();
      if (own !== answer.text) { showMine(own); }
      say(answer.message, "warn");
      return;
    }
    if (code !== 200) {
      say(answer.message || msg.failed, "error");
      return;
    }
    if (answer.status && answer.status !== status() && !dirty) { setStatus(answer.status); }
    if (answer.code) {
      say(answer.message, "warn");
    } else {
      say(msg.saved + " " + answer.saved_at, "ok");
    }
    if (dirty) { schedule(); } else { forget(); }
  }
  function save() {
    clearTimeout(timer);
    timer = null;
    if (inFlight) { dirty = true; return; }
    if (!dirty) { return; }
    dirty = false;
    inFlight = true;
    say(msg.saving, "busy");
    fetch(action, {
      method: "POST",
      body: body(),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      return response.json().then(function (answer) { answered(response.status, answer); });
    }).catch(function () {
      inFlight = false;
      dirty = true;
      say(msg.offline, "error");
      schedule(5000);
    });
  }
  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay || 700);
  }
  function changed() {
    dirty = true;
    remember();
    showReason();
    schedule();
  }
  function flush() {
    if (!dirty && !timer) { return; }
    clearTimeout(timer);
    timer = null;
    dirty = false;
    var sent = false;
    try {
      fetch(action, {
        method: "POST", body: body(), credentials: "same-origin", keepalive: true,
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      });
      sent = true;
    } catch (e) { sent = false; }
    if (!sent && navigator.sendBeacon) { navigator.sendBeacon(action, body()); }
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  text.addEventListener("blur", function () { if (dirty) { save(); } });
  reason.addEventListener("blur", function () { if (dirty) { save(); } });
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  form.addEventListener("submit", function () { forget(); });

  // What this browser kept and the server may not have: the same version, so it follows on
  // from what the page shows and is saved now; an older one is shown beside it, not saved.
  var kept = null;
  try { kept = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { kept = null; }
  if (kept && (kept.text !== text.value || kept.reason !== reason.value ||
               kept.status !== status())) {
    if (String(kept.base) === version.value) {
      text.value = kept.text;
      reason.value = kept.reason;
      if (kept.status) { setStatus(kept.status); }
      say(msg.restored, "warn");
      dirty = true;
      save();
    } else {
      showMine(kept.text);
      forget();
      say(msg.kept, "warn");
    }
  }
  showReason();
})();
