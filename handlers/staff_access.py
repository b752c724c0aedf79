"""Who may use the staff screens: a filter that injects `staff`, and the refusal for others.

The filter only routes: each service checks the rights again (storage.services.staff), so a
forged button changes nothing even where a handler forgot to ask.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, Filter
from aiogram.types import BotCommand, BotCommandScopeChat, CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.routes import Routes
from handlers.staff_callbacks import STAFF_PREFIXES
from locales import N_, gettext_for
from storage.services import staff
from storage.services.staff import StaffError, StaffMember

log = logging.getLogger(__name__)

# Every person's menu, then what staff have besides; both in the chat's own language.
COMMON_COMMANDS = (
    ("start", N_("Begin, or bind your account with an invite link")),
    ("report", N_("Report your unit's progress")),
    ("cancel", N_("Leave the current step")),
    ("language", N_("Choose the language")),
    ("help", N_("What the bot understands")),
)
STAFF_COMMANDS = (
    ("status", N_("Who has reported, and nudges")),
    ("export", N_("Download the ledger, a unit's form or the archive")),
    ("review", N_("Accept or return submitted reports")),
    ("invite", N_("Invite links, contacts and revoking them")),
    ("broadcast", N_("Send a notice to units, with 收到")),
    ("console", N_("A sign-in link to the office's web console")),
)

router = Routes("staff_refusal")


class IsStaff(Filter):
    """Passes for office staff (admins only with `admin=True`) and hands the handler `staff`."""

    def __init__(self, *, admin: bool = False):
        self.admin = admin

    async def __call__(self, event: TelegramObject, session: AsyncSession) -> bool | dict:
        user = getattr(event, "from_user", None)
        if user is None:
            return False
        try:
            member = await staff.authorize(session, user.id, admin=self.admin)
        except StaffError:
            return False
        if not member.name:  # a STAFF_IDS entry has no name: the audit trail takes Telegram's
            member = await staff.remember_name(session, member, user.full_name)
        return {"staff": member}


def staff_refusal(error: StaffError) -> str:
    if error.code == "admin_only":
        return _("Only an office administrator can do this; your role lets you view and export.")
    return _("This is for office staff only.")


@router.message(Command(*(name for name, _ in STAFF_COMMANDS)))
async def staff_command_refused(message: Message) -> None:
    await message.answer(staff_refusal(StaffError("not_staff")))


@router.callback_query(F.data.startswith(STAFF_PREFIXES))
async def staff_button_refused(query: CallbackQuery) -> None:
    await query.answer(staff_refusal(StaffError("not_staff")), show_alert=True)


async def refuse(event: Message | CallbackQuery, error: StaffError) -> None:
    """Tell the person, in a popup for a button, that the service refused."""
    if isinstance(event, CallbackQuery):
        await event.answer(staff_refusal(error), show_alert=True)
    else:
        await event.answer(staff_refusal(error))


async def show_staff_menu(bot: Bot, member: StaffMember, locale: str) -> bool:
    """Give a staff member's chat its own command menu (setMyCommands with a chat scope)."""
    chat_id = member.chat_id or member.telegram_user_id
    if chat_id is None:
        return False
    gettext = gettext_for(member.language or locale)
    commands = [
        BotCommand(command=name, description=gettext(text))
        for name, text in COMMON_COMMANDS + STAFF_COMMANDS
    ]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as error:  # e.g. the person never opened the chat
        log.info("no staff menu for chat %s: %s", chat_id, error)
        return False
    return True
