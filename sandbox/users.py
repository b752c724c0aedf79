"""What simulated users do: write, send files, share a contact, tap buttons, read their chat.

Each action stores the message in the chat as the user's phone would show it and queues the
update the bot would get from Telegram, with Telegram's shapes (from/chat/date/entities...).
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

from sandbox.botapi import DEFAULT_MENU_BUTTON
from sandbox.formatting import user_text, utf16_slice
from sandbox.media import guess_mime_type, image_size
from sandbox.state import MAX_UPLOAD, BotState, CallbackQuery, ChatLog, SimUser, World, unix_now

ACTION_SECONDS = 5.0  # how long "typing..." shows, as in Telegram's apps


class UserError(Exception):
    """Something a simulated user cannot do (no such button, text too long...)."""


def _post(
    world: World,
    bot: BotState,
    log: ChatLog,
    user: SimUser,
    body: dict[str, Any],
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    if not log.is_group:
        bot.started.add(user.id)
        if user.id in bot.blocked:  # writing again is "Restart bot" in Telegram's apps
            set_blocked(world, bot, user, False)
    message: dict[str, Any] = {"from": user.to_json(), "chat": log.chat, "date": unix_now()}
    if reply_to_message_id is not None:
        message["reply_to_message"] = _quoted(log, reply_to_message_id)
    message.update(body)
    message_id = log.add(message, user.id, None)
    stored = log.messages[message_id].message
    if log.force_reply and reply_to_message_id is not None:
        log.force_reply = None
    world.touch(bot, log)
    if not log.is_group or _bot_sees(bot, stored):
        world.enqueue(bot, "message", copy.deepcopy(stored))
    return stored


def _quoted(log: ChatLog, message_id: int) -> dict[str, Any]:
    stored = log.messages.get(message_id)
    if stored is None or stored.deleted:
        raise UserError(f"no message {message_id} to reply to")
    quoted = dict(stored.message)
    quoted.pop("reply_to_message", None)
    return quoted


def _bot_sees(bot: BotState, message: dict[str, Any]) -> bool:
    """Privacy mode: in groups a bot gets commands, mentions of it and replies to it."""
    if bot.can_read_all_group_messages:
        return True
    text = message.get("text") or message.get("caption") or ""
    entities = message.get("entities") or message.get("caption_entities") or []
    for entity in entities:
        piece = utf16_slice(text, entity["offset"], entity["length"])
        if entity["type"] == "bot_command":
            target = piece.partition("@")[2]
            if not target or target.lower() == bot.username.lower():
                return True
        if entity["type"] == "mention" and piece[1:].lower() == bot.username.lower():
            return True
    reply = message.get("reply_to_message")
    return bool(reply and reply.get("from", {}).get("id") == bot.id)


def send_text(
    world: World,
    bot: BotState,
    log: ChatLog,
    user: SimUser,
    text: str,
    reply_to_message_id: int | None = None,
) -> dict[str, Any]:
    formatted = user_text(text)
    if not formatted.text:
        raise UserError("message text is empty")
    if len(formatted.text) > 4096:
        raise UserError("message is too long")
    body: dict[str, Any] = {"text": formatted.text}
    if formatted.entities:
        body["entities"] = formatted.entities
    return _post(world, bot, log, user, body, reply_to_message_id)


def send_file(
    world: World,
    bot: BotState,
    log: ChatLog,
    user: SimUser,
    data: bytes,
    file_name: str,
    *,
    as_photo: bool = False,
    caption: str | None = None,
    mime_type: str | None = None,
) -> dict[str, Any]:
    if len(data) > MAX_UPLOAD:
        raise UserError("file is too big")
    size = image_size(data) if as_photo else None
    if as_photo and size is None:
        raise UserError("not an image (PNG, JPEG, GIF or WebP)")
    if as_photo:
        stored = world.store_file(data, file_name, "image/jpeg", "photos", size)
        body: dict[str, Any] = {"photo": stored.photo_json()}
    else:
        mime = guess_mime_type(file_name, mime_type)
        stored = world.store_file(data, file_name, mime, "documents")
        body = {"document": stored.document_json()}
    if caption:
        formatted = user_text(caption)
        body["caption"] = formatted.text
        if formatted.entities:
            body["caption_entities"] = formatted.entities
    return _post(world, bot, log, user, body)


def share_contact(
    world: World, bot: BotState, log: ChatLog, user: SimUser, phone_number: str | None = None
) -> dict[str, Any]:
    phone = phone_number or user.phone_number
    if not phone:
        raise UserError(f"user {user.id} has no phone number")
    contact: dict[str, Any] = {"phone_number": phone, "first_name": user.first_name}
    if user.last_name:
        contact["last_name"] = user.last_name
    contact["user_id"] = user.id
    return _post(world, bot, log, user, {"contact": contact})


def tap_keyboard_button(
    world: World, bot: BotState, log: ChatLog, user: SimUser, text: str
) -> dict[str, Any]:
    """Tap a button of the reply keyboard under the input field."""
    keyboard = log.reply_keyboard
    buttons = [b for row in (keyboard or {}).get("keyboard", []) for b in row]
    button = next((b for b in buttons if b["text"] == text), None)
    if keyboard is None or button is None:
        raise UserError(f"no keyboard button {text!r}")
    if keyboard.get("one_time_keyboard"):
        log.reply_keyboard = None
    if button.get("request_contact"):
        return share_contact(world, bot, log, user)
    return send_text(world, bot, log, user, text)


def send_sticker(world: World, bot: BotState, log: ChatLog, user: SimUser) -> dict[str, Any]:
    """A sticker, as a phone sends one (the bot gets a message with `sticker`)."""
    unique = secrets.token_hex(8)
    sticker = {
        "file_id": f"sticker-{unique}",
        "file_unique_id": unique,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return _post(world, bot, log, user, {"sticker": sticker})


def send_location(
    world: World, bot: BotState, log: ChatLog, user: SimUser, latitude: float, longitude: float
) -> dict[str, Any]:
    return _post(
        world, bot, log, user, {"location": {"latitude": latitude, "longitude": longitude}}
    )


def forge_callback(
    world: World,
    bot: BotState,
    log: ChatLog,
    user: SimUser,
    data: str,
    message_id: int | None = None,
) -> dict[str, Any]:
    """A callback query with any data, as a modified client could send: no button is checked.

    It rides on `message_id`, or on the newest bot message in the chat.
    """
    bot_messages = [m for m in log.messages.values() if m.sender_id == bot.id and not m.deleted]
    stored = log.messages.get(message_id) if message_id else (bot_messages or [None])[-1]
    if stored is None:
        raise UserError("no bot message to attach the callback to")
    query = CallbackQuery(
        str(secrets.randbits(63)), user.id, log.id, stored.message["message_id"], data
    )
    bot.callback_queries[query.id] = query
    payload = {
        "id": query.id,
        "from": user.to_json(),
        "message": copy.deepcopy(stored.message),
        "chat_instance": log.chat_instance,
        "data": data,
    }
    world.enqueue(bot, "callback_query", payload)
    world.touch(bot, log)
    return query.to_json()


def press_inline_button(
    world: World,
    bot: BotState,
    log: ChatLog,
    user: SimUser,
    *,
    text: str | None = None,
    data: str | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    """Press an inline button, found by its text or callback data, on the newest message that
    has it (or on `message_id`). A callback button sends a callback_query to the bot."""
    if text is None and data is None:
        raise UserError("say which button: its text or its callback data")
    message, button = _find_button(bot, log, text, data, message_id)
    if "callback_data" not in button:
        return {"message_id": message["message_id"], "button": button}
    query = CallbackQuery(
        str(secrets.randbits(63)), user.id, log.id, message["message_id"], button["callback_data"]
    )
    bot.callback_queries[query.id] = query
    payload = {
        "id": query.id,
        "from": user.to_json(),
        "message": copy.deepcopy(message),
        "chat_instance": log.chat_instance,
        "data": query.data,
    }
    world.enqueue(bot, "callback_query", payload)
    world.touch(bot, log)
    return {**query.to_json(), "button": button}


def _find_button(
    bot: BotState, log: ChatLog, text: str | None, data: str | None, message_id: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    candidates = [log.messages.get(message_id)] if message_id else reversed(log.messages.values())
    for stored in candidates:
        if stored is None or stored.deleted or stored.sender_id != bot.id:
            continue
        rows = stored.message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            if (text is not None and button["text"] == text) or (
                data is not None and button.get("callback_data") == data
            ):
                return stored.message, button
    wanted = f"text {text!r}" if text is not None else f"callback data {data!r}"
    raise UserError(f"no inline button with {wanted}")


def set_blocked(world: World, bot: BotState, user: SimUser, blocked: bool) -> None:
    """Block or unblock the bot as the user; the bot gets a my_chat_member update."""
    if (user.id in bot.blocked) == blocked:
        return
    bot.blocked.symmetric_difference_update({user.id})
    me = bot.user_json()
    old, new = ("member", "kicked") if blocked else ("kicked", "member")
    member = {
        "chat": user.private_chat(),
        "from": user.to_json(),
        "date": unix_now(),
        "old_chat_member": _member(old, me),
        "new_chat_member": _member(new, me),
    }
    world.enqueue(bot, "my_chat_member", member)
    log = bot.chats.get(user.id)
    if log:
        world.touch(bot, log)


def _member(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


# ---------------------------------------------------------------- reading


def effective_commands(
    world: World, bot: BotState, log: ChatLog, user: SimUser
) -> list[dict[str, Any]]:
    """The command list the user's app shows: Telegram's scope and language fallback order."""
    if log.is_group:
        group = world.groups.get(log.id)
        admin = bool(group and user.id in group.admin_ids)
        scopes: list[tuple[Any, ...]] = [("chat_member", log.id, user.id)]
        scopes += [("chat_administrators", log.id)] if admin else []
        scopes += [("chat", log.id)]
        scopes += [("all_chat_administrators",)] if admin else []
        scopes += [("all_group_chats",), ("default",)]
    else:
        scopes = [("chat", log.id), ("all_private_chats",), ("default",)]
    language = (user.language_code or "")[:2]
    for scope in scopes:
        for lang in (language, ""):
            if (scope, lang) in bot.commands:
                return bot.commands[(scope, lang)]
    return []


def chat_view(world: World, bot: BotState, log: ChatLog, user: SimUser) -> dict[str, Any]:
    """The chat as `user` sees it: edits applied, deleted messages gone, keyboards shown."""
    action = None
    if log.action and asyncio.get_running_loop().time() - log.action[1] < ACTION_SECONDS:
        action = log.action[0]
    answers = [
        q.to_json()
        for q in bot.callback_queries.values()
        if q.chat_id == log.id and q.user_id == user.id
    ]
    menu = bot.menu_buttons.get(log.id) or bot.menu_buttons.get(None) or DEFAULT_MENU_BUTTON
    return {
        "bot": bot.me(),
        "chat": log.chat,
        "user": user.info(),
        "version": log.version,
        "messages": log.visible(),
        "reply_keyboard": log.reply_keyboard,
        "force_reply": log.force_reply,
        "chat_action": action,
        "commands": effective_commands(world, bot, log, user),
        "menu_button": menu,
        "blocked": user.id in bot.blocked,
        "callback_answers": answers[-20:],
    }
