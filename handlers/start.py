"""/start (with or without an invite), sharing a phone number, and /help."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import UnitPick
from handlers.render import esc
from handlers.routes import Routes
from handlers.staff_access import STAFF_COMMANDS, show_staff_menu
from storage.services import invites, people, reporting, staff
from storage.services.people import Identity

router = Routes("start")


def how_to_get_an_invite() -> str:
    return _(
        "To report for your unit you need an invite link from the government affairs office. "
        "Ask the office for one (they create it for your unit) and open it on this phone."
    )


@router.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    identity: Identity,
    now: dt.datetime,
) -> None:
    user = message.from_user
    try:
        contact, unit, new = await invites.redeem_invite(
            session,
            command.args or "",
            telegram_user_id=user.id,
            chat_id=message.chat.id,
            name=user.full_name,
            now=now,
        )
    except invites.InviteProblem as problem:
        await message.answer(invite_problem_text(problem))
        return
    duties = await reporting.unit_duties(session, unit.id)
    lines = [
        _("Hello, {name}! You now report for <b>{unit}</b>.").format(
            name=esc(user.full_name), unit=esc(unit.name)
        )
        if new
        else _("You already report for <b>{unit}</b>.").format(unit=esc(unit.name)),
        _("Your unit leads {lead} tasks and shares responsibility for {responsible}.").format(
            lead=duties.lead, responsible=duties.responsible
        ),
    ]
    if duties.next_round is not None:
        lines.append(
            _("Next deadline: {date} ({round}).").format(
                date=duties.next_round.due_date.isoformat(), round=esc(duties.next_round.name)
            )
        )
    else:
        lines.append(_("There is no open reporting round at the moment."))
    await message.answer(
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("📋 Start reporting"), callback_data=UnitPick(unit=unit.id).pack()
                    )
                ]
            ]
        ),
    )
    if new and not contact.phone:
        await message.answer(
            _("Optionally, share your phone number so the office can reach you."),
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[
                    [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
                    [KeyboardButton(text=_("Not now"))],
                ],
                resize_keyboard=True,
                one_time_keyboard=True,
            ),
        )


def invite_problem_text(problem: invites.InviteProblem) -> str:
    reasons = {
        "unknown": _("This invite link is not valid."),
        "expired": _("This invite link has expired."),
        "revoked": _("This invite link was withdrawn by the office."),
        "used_up": _("This invite link has already been used."),
    }
    if problem.reason == "throttled":
        minutes = max(1, int(problem.retry_after.total_seconds() // 60) + 1)
        return _("Too many invalid invite links. Please try again in {minutes} minutes.").format(
            minutes=minutes
        )
    return reasons[problem.reason] + "\n\n" + how_to_get_an_invite()


def staff_commands_text() -> str:
    lines = [_("Office staff:")]
    lines += [f"/{name} – {_(text)}" for name, text in STAFF_COMMANDS]
    return "\n".join(lines)


async def offer_staff_menu(message: Message, session: AsyncSession, locale: str) -> bool:
    """A staff member's chat gets the staff commands in its menu; False for anyone else."""
    member = await staff.find(session, message.from_user.id)
    if member is None:
        return False
    await show_staff_menu(message.bot, member, locale)
    return True


@router.message(CommandStart())
async def start(
    message: Message, identity: Identity, session: AsyncSession, default_locale: str
) -> None:
    if identity.staff is not None and not identity.is_contact:
        await offer_staff_menu(message, session, default_locale)
        await message.answer(
            _(
                "You are registered as office staff: notices of submissions, late units and "
                "unreachable contacts arrive in this chat."
            )
            + "\n\n"
            + staff_commands_text()
        )
        return
    if identity.is_contact:
        units = "、".join(esc(m.unit_name) for m in identity.memberships)
        await message.answer(
            _("You report for <b>{units}</b>. Send /report to fill in your progress.").format(
                units=units
            )
        )
        return
    await message.answer(
        _("Welcome to taizhang, the task-ledger reporting assistant.")
        + "\n\n"
        + how_to_get_an_invite()
    )


@router.message(F.contact)
async def shared_contact(message: Message, session: AsyncSession, identity: Identity) -> None:
    if message.contact.user_id != message.from_user.id:
        await message.answer(_("Please share your own number with the button below."))
        return
    await people.set_phone(session, message.from_user.id, message.contact.phone_number)
    await message.answer(_("Thank you, the number is saved."), reply_markup=ReplyKeyboardRemove())


@router.message(F.text == __("Not now"))
async def declined_phone(message: Message) -> None:
    await message.answer(
        _("All right. Send /report when you are ready."), reply_markup=ReplyKeyboardRemove()
    )


@router.message(Command("help"))
async def help_(message: Message, session: AsyncSession, default_locale: str) -> None:
    text = _(
        "Commands:\n"
        "/start – begin, or bind your account with an invite link\n"
        "/report – report your unit's progress\n"
        "/cancel – leave the current step (what is saved stays)\n"
        "/language – choose the language\n"
        "/help – this list"
    )
    if await offer_staff_menu(message, session, default_locale):
        text += "\n\n" + staff_commands_text()
    await message.answer(text)
