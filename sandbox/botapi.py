"""The Bot API methods the stand-in serves, answering as Telegram does.

Each method gets a `Call` with already type-checked parameters (see spec.py) and returns
the `result` (or an `Answer` when Telegram adds a description) or raises ApiError.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    EDIT_NOT_FOUND,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    bad_request,
)
from sandbox.formatting import FormattedText, format_text
from sandbox.media import guess_mime_type, image_size
from sandbox.spec import Upload
from sandbox.state import (
    MAX_DOWNLOAD,
    BotState,
    ChatLog,
    StoredFile,
    StoredMessage,
    Webhook,
    World,
    unix_now,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTONS = 100
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
BUTTON_KINDS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Hooks(Protocol):
    """What methods need from the server around them."""

    def webhook_changed(self, bot: BotState) -> None: ...

    @property
    def stopping(self) -> asyncio.Event: ...


@dataclass
class Call:
    world: World
    bot: BotState
    params: dict[str, Any]
    hooks: Hooks


@dataclass
class Answer:
    """A result Telegram sends with a description, e.g. setWebhook's "Webhook was set"."""

    result: Any
    description: str


Method = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(func: Method) -> Method:
        METHODS[name.lower()] = func
        return func

    return register


# ---------------------------------------------------------------- identity and updates


@method("getMe")
async def get_me(call: Call) -> Any:
    return call.bot.me()


@method("close")
@method("logOut")
async def log_out(call: Call) -> Any:
    return True


@method("getUpdates")
async def get_updates(call: Call) -> Any:
    bot, params = call.bot, call.params
    if bot.webhook:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    if "allowed_updates" in params:
        bot.allowed_updates = params["allowed_updates"] or None
    call.world.confirm(bot, params.get("offset", 0))
    limit = min(max(params.get("limit", 100), 1), 100)
    timeout = min(max(params.get("timeout", 0), 0), 50)
    bot.poll_generation += 1
    bot.get_updates_started += 1
    generation = bot.poll_generation
    bot.signal()  # an older long poll ends with 409, as in Telegram
    bot.polls_waiting += 1
    try:
        await _wait_for_updates(call, generation, timeout)
    finally:
        bot.polls_waiting -= 1
    return [update.payload for update in list(bot.updates)[:limit]]


async def _wait_for_updates(call: Call, generation: int, timeout: float) -> None:
    bot = call.bot
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not bot.updates and not call.hooks.stopping.is_set():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        wakeup = asyncio.ensure_future(bot.wakeup.wait())
        stop = asyncio.ensure_future(call.hooks.stopping.wait())
        await asyncio.wait({wakeup, stop}, timeout=remaining, return_when="FIRST_COMPLETED")
        for waiter in (wakeup, stop):
            waiter.cancel()
        if generation != bot.poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )


@method("setWebhook")
async def set_webhook(call: Call) -> Any:
    bot, params = call.bot, call.params
    url = params.get("url", "")
    if not url:
        return await delete_webhook(call)
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not SECRET_TOKEN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.get("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    same = bot.webhook is not None and bot.webhook.url == url
    allowed = params.get("allowed_updates", bot.allowed_updates)
    bot.webhook = Webhook(url, secret, max_connections, allowed or None)
    call.hooks.webhook_changed(bot)
    return Answer(True, "Webhook is already set" if same else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(call: Call) -> Any:
    bot = call.bot
    if call.params.get("drop_pending_updates"):
        bot.updates.clear()
    if bot.webhook is None:
        return Answer(True, "Webhook is already deleted")
    bot.webhook = None
    call.hooks.webhook_changed(bot)
    return Answer(True, "Webhook was deleted")


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> Any:
    bot = call.bot
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    hook = bot.webhook
    if hook is None:
        return info
    info.update(url=hook.url, max_connections=hook.max_connections, ip_address="127.0.0.1")
    if hook.allowed_updates:
        info["allowed_updates"] = hook.allowed_updates
    if hook.last_error_date:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


# ---------------------------------------------------------------- checks shared by senders


def _text(
    raw: str, parse_mode: str | None, entities: Any, *, limit: int, name: str
) -> FormattedText:
    formatted = format_text(raw, parse_mode, entities)
    if len(formatted.text) > limit:
        raise bad_request(f"{name} is too long")
    return formatted


def _message_text(params: dict[str, Any]) -> FormattedText:
    formatted = _text(
        params.get("text", ""),
        params.get("parse_mode"),
        params.get("entities"),
        limit=MAX_TEXT,
        name="message",
    )
    if not formatted.text:
        raise bad_request("message text is empty")
    return formatted


def _caption(params: dict[str, Any]) -> FormattedText | None:
    if not params.get("caption"):
        return None
    return _text(
        params["caption"],
        params.get("parse_mode"),
        params.get("caption_entities"),
        limit=MAX_CAPTION,
        name="message caption",
    )


def check_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Telegram's checks of a keyboard beyond its JSON shape."""
    if markup is None or "inline_keyboard" not in markup:
        return markup
    buttons = [button for row in markup["inline_keyboard"] for button in row]
    if len(buttons) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    for button in buttons:
        _check_inline_button(button)
    markup["inline_keyboard"] = [row for row in markup["inline_keyboard"] if row]
    return markup


def _check_inline_button(button: dict[str, Any]) -> None:
    if not any(kind in button for kind in BUTTON_KINDS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"^(https?://[^\s/]+|tg://)\S*$", url):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _reply_to(log: ChatLog, params: dict[str, Any]) -> dict[str, Any] | None:
    reply = params.get("reply_parameters")
    if not reply:
        return None
    stored = log.messages.get(reply["message_id"])
    if stored is None or stored.deleted:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    quoted = dict(stored.message)
    quoted.pop("reply_to_message", None)
    return quoted


def _gate(call: Call, log: ChatLog) -> None:
    """Flood control for a message about to be sent (checked last, like Telegram)."""
    call.world.limiter.check(call.bot.id, log.id, log.is_group)


def post_bot_message(
    call: Call, log: ChatLog, body: dict[str, Any], markup: dict[str, Any] | None
) -> dict[str, Any]:
    """Store a message from the bot, apply its keyboard to the chat, and tell listeners."""
    message: dict[str, Any] = {"from": call.bot.user_json(), "chat": log.chat, "date": unix_now()}
    reply_to = _reply_to(log, call.params)
    if reply_to:
        message["reply_to_message"] = reply_to
    message.update(body)
    if markup and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    elif markup and "keyboard" in markup:
        log.reply_keyboard, log.force_reply = markup, None
    elif markup and "remove_keyboard" in markup:
        log.reply_keyboard = None
    elif markup and "force_reply" in markup:
        log.force_reply = markup
    message_id = log.add(message, call.bot.id, markup)
    log.action = None
    call.world.touch(call.bot, log)
    return log.messages[message_id].message


def _with_entities(key: str, formatted: FormattedText | None, entities_key: str) -> dict[str, Any]:
    if formatted is None or not formatted.text:
        return {}
    body: dict[str, Any] = {key: formatted.text}
    if formatted.entities:
        body[entities_key] = formatted.entities
    return body


# ---------------------------------------------------------------- sending


@method("sendMessage")
async def send_message(call: Call) -> Any:
    log = call.world.chat_for_bot(call.bot, call.params["chat_id"])
    formatted = _message_text(call.params)
    markup = check_markup(call.params.get("reply_markup"))
    _reply_to(log, call.params)
    _gate(call, log)
    return post_bot_message(call, log, _with_entities("text", formatted, "entities"), markup)


@method("sendDocument")
async def send_document(call: Call) -> Any:
    return await _send_file(call, "document")


@method("sendPhoto")
async def send_photo(call: Call) -> Any:
    return await _send_file(call, "photo")


async def _send_file(call: Call, kind: str) -> Any:
    log = call.world.chat_for_bot(call.bot, call.params["chat_id"])
    caption = _caption(call.params)
    markup = check_markup(call.params.get("reply_markup"))
    _reply_to(log, call.params)
    stored = _input_file(call.world, call.params[kind], kind)
    _gate(call, log)
    body: dict[str, Any] = (
        {"document": stored.document_json()}
        if kind == "document"
        else {"photo": stored.photo_json()}
    )
    body.update(_with_entities("caption", caption, "caption_entities"))
    return post_bot_message(call, log, body, markup)


def _input_file(world: World, value: Upload | str, kind: str) -> StoredFile:
    if isinstance(value, str):
        if value in world.files:
            return world.files[value]
        if re.match(r"^https?://", value):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")
    if kind == "photo":
        size = image_size(value.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if sum(size) > 10000 or max(size) > 20 * max(1, min(size)):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return world.store_file(value.data, value.filename, "image/jpeg", "photos", size)
    mime_type = guess_mime_type(value.filename, value.content_type)
    return world.store_file(value.data, value.filename, mime_type, "documents")


@method("sendChatAction")
async def send_chat_action(call: Call) -> Any:
    log = call.world.chat_for_bot(call.bot, call.params["chat_id"])
    action = call.params["action"]
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    log.action = (action, asyncio.get_running_loop().time())
    call.world.touch(call.bot, log)
    return True


# ---------------------------------------------------------------- editing and deleting


def _own_message(call: Call, missing: str) -> tuple[ChatLog, StoredMessage]:
    params = call.params
    if "inline_message_id" in params:
        raise bad_request("MESSAGE_ID_INVALID")  # the stand-in has no inline messages
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")
    log = call.world.chat_for_bot(call.bot, params["chat_id"])
    stored = log.messages.get(params["message_id"])
    if stored is None or stored.deleted:
        raise bad_request(missing)
    return log, stored


def _apply_edit(
    call: Call, log: ChatLog, stored: StoredMessage, body: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    """Set `keys` of the message from `body` (and its inline keyboard), or say nothing changed."""
    message = stored.message
    markup = call.params.get("reply_markup")
    new = {key: body.get(key) for key in keys}
    old = {key: message.get(key) for key in keys}
    if new == old and markup == message.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    for key in keys:
        message.pop(key, None)
        if body.get(key):
            message[key] = body[key]
    message.pop("reply_markup", None)
    if markup:
        message["reply_markup"] = markup
    stored.markup = markup
    message["edit_date"] = unix_now()
    call.world.touch(call.bot, log)
    return message


def _check_editable(call: Call, stored: StoredMessage) -> None:
    if stored.sender_id != call.bot.id:
        raise bad_request("message can't be edited")


@method("editMessageText")
async def edit_message_text(call: Call) -> Any:
    log, stored = _own_message(call, EDIT_NOT_FOUND)
    _check_editable(call, stored)
    if "text" not in stored.message:
        raise bad_request("there is no text in the message to edit")
    formatted = _message_text(call.params)
    check_markup(call.params.get("reply_markup"))
    body = _with_entities("text", formatted, "entities")
    return _apply_edit(call, log, stored, body, ("text", "entities"))


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> Any:
    log, stored = _own_message(call, EDIT_NOT_FOUND)
    _check_editable(call, stored)
    if "text" in stored.message:
        raise bad_request("there is no caption in the message to edit")
    check_markup(call.params.get("reply_markup"))
    body = _with_entities("caption", _caption(call.params), "caption_entities")
    return _apply_edit(call, log, stored, body, ("caption", "caption_entities"))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> Any:
    log, stored = _own_message(call, EDIT_NOT_FOUND)
    _check_editable(call, stored)
    check_markup(call.params.get("reply_markup"))
    return _apply_edit(call, log, stored, {}, ())


@method("deleteMessage")
async def delete_message(call: Call) -> Any:
    log, stored = _own_message(call, "message to delete not found")
    stored.deleted = True
    call.world.touch(call.bot, log)
    return True


@method("deleteMessages")
async def delete_messages(call: Call) -> Any:
    log = call.world.chat_for_bot(call.bot, call.params["chat_id"])
    for message_id in call.params["message_ids"]:
        stored = log.messages.get(message_id)
        if stored:
            stored.deleted = True
    call.world.touch(call.bot, log)
    return True


# ---------------------------------------------------------------- callbacks


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> Any:
    params = call.params
    query = call.bot.callback_queries.get(params["callback_query_id"])
    if query is None or query.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    if len(params.get("text", "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": params.get("text"),
        "show_alert": params.get("show_alert", False),
        "url": params.get("url"),
        "cache_time": params.get("cache_time", 0),
    }
    log = call.bot.chats.get(query.chat_id)
    if log:
        call.world.touch(call.bot, log)
    return True


# ---------------------------------------------------------------- files


@method("getFile")
async def get_file(call: Call) -> Any:
    stored = call.world.files.get(call.params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return stored.file_json()


# ---------------------------------------------------------------- commands and menu


def scope_key(world: World, scope: dict[str, Any] | None) -> tuple[Any, ...]:
    scope = scope or {"type": "default"}
    key: tuple[Any, ...] = (scope["type"],)
    if "chat_id" in scope:
        chat_id = scope["chat_id"]
        if isinstance(chat_id, str) or (
            chat_id not in world.groups and chat_id not in world.users
        ):
            raise bad_request(CHAT_NOT_FOUND)
        key += (chat_id,)
    if "user_id" in scope:
        key += (scope["user_id"],)
    return key


def _language(params: dict[str, Any]) -> str:
    language = params.get("language_code", "")
    if language and not re.match(r"^[a-z]{2}$", language):
        raise bad_request("LANG_CODE_INVALID")
    return language


@method("setMyCommands")
async def set_my_commands(call: Call) -> Any:
    commands = call.params["commands"]
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND.match(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = (scope_key(call.world, call.params.get("scope")), _language(call.params))
    if commands:
        call.bot.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
    else:
        call.bot.commands.pop(key, None)
    _touch_all(call)
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> Any:
    key = (scope_key(call.world, call.params.get("scope")), _language(call.params))
    return call.bot.commands.get(key, [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> Any:
    key = (scope_key(call.world, call.params.get("scope")), _language(call.params))
    call.bot.commands.pop(key, None)
    _touch_all(call)
    return True


def _touch_all(call: Call) -> None:
    for log in call.bot.chats.values():
        call.world.touch(call.bot, log)


DEFAULT_MENU_BUTTON = {"type": "commands"}


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> Any:
    chat_id = call.params.get("chat_id")
    if chat_id is not None and chat_id not in call.world.users:
        raise bad_request(CHAT_NOT_FOUND)
    button = call.params.get("menu_button") or {"type": "default"}
    if button["type"] == "default":
        call.bot.menu_buttons.pop(chat_id, None)
    else:
        call.bot.menu_buttons[chat_id] = button
    _touch_all(call)
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> Any:
    buttons = call.bot.menu_buttons
    chat_id = call.params.get("chat_id")
    return buttons.get(chat_id) or buttons.get(None) or DEFAULT_MENU_BUTTON


def _stored_text(kind: str, json_key: str) -> tuple[Method, Method]:
    """setMy<Kind>/getMy<Kind>: a per-language text such as the bot's description."""

    async def setter(call: Call) -> Any:
        language = _language(call.params)
        value = call.params.get(json_key, "")
        if value:
            call.bot.texts[(kind, language)] = value
        else:
            call.bot.texts.pop((kind, language), None)
        if kind == "name" and not language:
            call.bot.first_name = value or "Sandbox Bot"
        return True

    async def getter(call: Call) -> Any:
        texts = call.bot.texts
        language = _language(call.params)
        default = call.bot.first_name if kind == "name" else ""
        return {json_key: texts.get((kind, language)) or texts.get((kind, ""), default)}

    return setter, getter


for _kind, _key, _name in (
    ("name", "name", "Name"),
    ("description", "description", "Description"),
    ("short", "short_description", "ShortDescription"),
):
    _setter, _getter = _stored_text(_kind, _key)
    method(f"setMy{_name}")(_setter)
    method(f"getMy{_name}")(_getter)


# ---------------------------------------------------------------- chats


@method("getChat")
async def get_chat(call: Call) -> Any:
    chat_id = call.params["chat_id"]
    with contextlib.suppress(ApiError):
        log = call.world.chat_for_bot(call.bot, chat_id)
        return {
            **log.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
                 "gifts_from_channels"),
                False,
            ),
        }  # fmt: skip
    if chat_id in call.bot.blocked:
        raise ApiError(403, f"Forbidden: {BLOCKED}")
    raise bad_request(CHAT_NOT_FOUND)


@method("getChatMember")
async def get_chat_member(call: Call) -> Any:
    world, params = call.world, call.params
    user_id = params["user_id"]
    log = world.chat_for_bot(call.bot, params["chat_id"])
    if user_id == call.bot.id:
        return {"status": "member", "user": call.bot.user_json()}
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    members = world.members(log)
    if user_id not in members:
        return {"status": "left", "user": user.to_json()}
    group = world.groups.get(log.id)
    if group and user_id in group.admin_ids:
        return {"status": "creator", "user": user.to_json(), "is_anonymous": False}
    return {"status": "member", "user": user.to_json()}
