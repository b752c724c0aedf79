"""/language: Chinese or English; until chosen, the language Telegram reports is followed."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import LanguagePick
from handlers.routes import Routes
from locales import LANGUAGES
from storage.services import people

router = Routes("language")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@router.message(Command("language"))
async def choose_language(message: Message) -> None:
    await message.answer(
        _("Choose the language:"),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=LANGUAGE_NAMES[code], callback_data=LanguagePick(code=code).pack()
                    )
                    for code in LANGUAGES
                ]
            ]
        ),
    )


@router.callback_query(LanguagePick.filter())
async def language_picked(
    query: CallbackQuery,
    callback_data: LanguagePick,
    session: AsyncSession,
    i18n: I18n,
    staff_ids: tuple[int, ...],
) -> None:
    code = callback_data.code
    if code not in LANGUAGES:
        await query.answer(_("That button is no longer in use."), show_alert=True)
        return
    await people.set_language(session, query.from_user.id, code, staff_ids)
    with i18n.use_locale(code):
        await query.answer()
        await query.message.edit_text(
            _("Language set to {language}. Send /report to continue.").format(
                language=LANGUAGE_NAMES[code]
            )
        )
