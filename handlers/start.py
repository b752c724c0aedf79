"""/start and /help."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

router = Router(name="start")


@router.message(CommandStart())
async def start(message: Message) -> None:
    await message.answer(
        _(
            "Welcome to taizhang, the task-ledger reporting assistant.\n\n"
            "To report for your unit you need an invite link from the government "
            "affairs office. Open the link they sent you, or ask them for one."
        )
    )


@router.message(Command("help"))
async def help_(message: Message) -> None:
    await message.answer(
        _(
            "Commands:\n"
            "/start – begin, or bind your account with an invite link\n"
            "/report – report your unit's progress\n"
            "/cancel – leave the current step (what is saved stays)\n"
            "/language – choose the language\n"
            "/help – this list"
        )
    )
