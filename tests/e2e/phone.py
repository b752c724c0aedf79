"""Reading the chat as the person holding the phone sees it."""

from __future__ import annotations

from typing import Any

from sandbox.client import ChatView, SimulatedUser, button_texts


def is_reminder(message: dict[str, Any]) -> bool:
    """The bot's own reminders (⏰ …), which may arrive in the middle of any dialog."""
    return text_of(message).startswith("⏰")


def text_of(message: dict[str, Any] | None) -> str:
    return (message or {}).get("text") or (message or {}).get("caption") or ""


def last_reply(user: SimulatedUser, view: ChatView) -> dict[str, Any] | None:
    """The bot's newest message, past those the person looks past (reminders)."""
    replies = [m for m in view.messages if user.is_reply(m)]
    return replies[-1] if replies else None


async def screen(user: SimulatedUser, *words: str, timeout: float = 8.0) -> dict[str, Any]:
    """Wait until the bot's newest reply shows every word; return that message."""

    def shows(view) -> bool:
        return all(word in text_of(last_reply(user, view)) for word in words)

    try:
        view = await user.wait_until(shows, timeout=timeout)
    except TimeoutError:
        last = text_of(last_reply(user, await user.read_chat()))
        raise AssertionError(f"expected {words!r} on screen; it shows:\n{last}") from None
    return last_reply(user, view)


async def message_with(
    user: SimulatedUser, *words: str, timeout: float = 8.0, live: bool = False
) -> dict[str, Any]:
    """Wait until any bot message shows every word (edits applied); return the newest such.

    `live`: only a message that still carries buttons (older cards lose theirs)."""

    def matching(view) -> list[dict[str, Any]]:
        return [
            m
            for m in view.bot_messages
            if all(w in text_of(m) for w in words) and (not live or button_texts(m))
        ]

    try:
        view = await user.wait_until(lambda v: bool(matching(v)), timeout=timeout)
    except TimeoutError:
        texts = "\n---\n".join(text_of(m) for m in (await user.read_chat()).bot_messages[-3:])
        raise AssertionError(f"no message shows {words!r}; the last ones:\n{texts}") from None
    return matching(view)[-1]


async def buttons(user: SimulatedUser) -> list[str]:
    return button_texts(last_reply(user, await user.read_chat()))


async def press(user: SimulatedUser, text: str) -> str | None:
    """Press the button with this text; return the bot's popup answer, if any."""
    pressed = await user.press(text)
    return pressed.text


async def press_containing(user: SimulatedUser, fragment: str) -> str | None:
    """Press the button whose text contains `fragment`, on the newest message that has one."""
    from sandbox.client import inline_buttons

    view = await user.read_chat()
    for message in reversed(view.bot_messages):
        for button in inline_buttons(message):
            if fragment in button["text"]:
                pressed = await user.press(
                    data=button["callback_data"], message_id=message["message_id"]
                )
                return pressed.text
    raise AssertionError(f"no button contains {fragment!r}")


async def writing_task_1(taizhang, name: str = "周琪") -> SimulatedUser:
    """A new contact of 医保局 who opened task 1 and pressed 填写进展."""
    contact = await taizhang.contact(name)
    await contact.send("/report")
    await screen(contact, "已填 0 /")
    await press_containing(contact, "第一个未填")
    await screen(contact, "序号 1")
    await press(contact, "✍️ 填写进展")
    await message_with(contact, "请发送进展落实情况")
    return contact
