"""/console as a message: the one-time link to the office's web console, and its button."""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from locales import N_, gettext_for

LINK_TEXT = N_(
    "🖥 <b>Office web console</b>\n"
    "Open this link in your browser to sign in (valid for 10 minutes, once):\n{link}\n"
    "Do not forward it: whoever opens it first is signed in as you."
)
OPEN = N_("🖥 Open the web console")
NO_ADDRESS = N_(
    "The web console has no public address yet: the server's WEB__BASE_URL is not set."
)
PRIVATE_ONLY = N_("Send /console in your private chat with the bot: the link is personal.")


def link_text(link: str, language: str) -> str:
    return gettext_for(language)(LINK_TEXT).format(link=html.escape(link))


def link_keyboard(link: str, language: str) -> InlineKeyboardMarkup | None:
    """A button for the link where Telegram takes one (a public https address)."""
    if not link.startswith("https://"):
        return None
    label = gettext_for(language)(OPEN)
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=link)]])


def link_payload(chat_id: int, link: str, language: str) -> dict:
    """The same message as an outbox payload (`taizhang staff login-link`)."""
    payload: dict = {
        "chat_id": chat_id,
        "text": link_text(link, language),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    keyboard = link_keyboard(link, language)
    if keyboard is not None:
        payload["reply_markup"] = keyboard.model_dump(exclude_none=True)
    return payload
