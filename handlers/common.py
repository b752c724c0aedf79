"""/cancel, and friendly answers to what the bot cannot use."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.routes import Routes
from scheduler import notices

router = Routes("common")


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await state.set_state(None)
    await state.set_data({"unit": data.get("unit")} if data.get("unit") else {})
    await message.answer(
        _("Left the current step. Everything you saved is kept; /report continues."),
        reply_markup=ReplyKeyboardRemove(),
    )


@router.message(
    F.sticker
    | F.voice
    | F.video_note
    | F.location
    | F.animation
    | F.audio
    | F.video
    | F.poll
    | F.dice
    | F.venue
)
async def unsupported(message: Message) -> None:
    await message.answer(
        _(
            "I can only keep text, photos and documents. Please write your progress as text; "
            "photos and documents are kept as evidence."
        )
    )


@router.message(F.photo | F.document)
async def file_outside_a_task(message: Message) -> None:
    await message.answer(
        _("To attach evidence, open the task first (/report), then send the photo or document.")
    )


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("Unknown command. /help lists what I understand."))


@router.message()
async def anything_else(message: Message) -> None:
    await message.answer(_("Send /report to fill in your unit's progress, or /help for help."))


@router.my_chat_member(F.chat.type == "private")
async def blocked_or_unblocked(
    update: ChatMemberUpdated,
    session: AsyncSession,
    staff_ids: tuple[int, ...],
    default_locale: str,
    now: dt.datetime,
    event_update: Update,
) -> None:
    status = update.new_chat_member.status
    blocked = status in ("kicked", "left")
    await notices.change_reachability(
        session,
        not blocked,
        cause=f"update:{event_update.update_id}",
        telegram_user_id=update.from_user.id,
        reason="blocked the bot" if blocked else "",
        staff_ids=staff_ids,
        default_language=default_locale,
        now=now,
    )


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("That button is no longer in use."), show_alert=True)
