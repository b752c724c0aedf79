"""/console: a one-time link that signs the staff member into the office's web console.

Thin: storage.services.staff_web makes the link (and checks that the person is staff); the
link goes to the person's private chat only, with no link preview (a preview fetch must not
reach it; the console only uses a link on the button press of its page anyway).
"""

from __future__ import annotations

import datetime as dt

from aiogram.filters import Command
from aiogram.types import LinkPreviewOptions, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_console
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from storage.services import staff_web
from storage.services.staff import StaffError, StaffMember

router = Routes("staff_console")


@router.message(Command("console"), IsStaff())
async def console_command(
    message: Message, session: AsyncSession, staff: StaffMember, settings, now: dt.datetime
) -> None:
    if message.chat.type != "private":
        await message.answer(_(render_console.PRIVATE_ONLY))
        return
    base_url = settings.web.base_url
    if not base_url:
        await message.answer(_(render_console.NO_ADDRESS))
        return
    try:
        made = await staff_web.create_login_link(session, staff, now=now)
    except StaffError as error:
        await refuse(message, error)
        return
    link = staff_web.login_url(base_url, made.token)
    language = get_i18n().current_locale
    await message.answer(
        render_console.link_text(link, language),
        reply_markup=render_console.link_keyboard(link, language),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
