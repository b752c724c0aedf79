"""/invite: a unit's invite link and QR code, its contacts and invites, revoking.

Thin: the rules, and the check that the person is staff (an admin, to create or revoke), live in
storage.services.staff_invites. Viewers may look; their screens carry no create or revoke
buttons, and a forged press is refused by the service.
"""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_invite
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from handlers.staff_callbacks import InviteAct
from ledger.qr import qr_png
from storage.services import staff_invites
from storage.services.errors import NotFound
from storage.services.invites import deep_link
from storage.services.staff import StaffError, StaffMember
from storage.services.web_access import web_link

router = Routes("staff_invite")


@router.message(Command("invite"), IsStaff())
async def invite_command(message: Message, session: AsyncSession, staff: StaffMember) -> None:
    try:
        kinds = await staff_invites.unit_kinds(session, staff)
    except StaffError as error:
        await refuse(message, error)
        return
    if not kinds:
        await message.answer(render_invite.no_units_text())
        return
    await message.answer(
        render_invite.kinds_text(), reply_markup=render_invite.kinds_keyboard(kinds)
    )


@router.callback_query(InviteAct.filter(F.act == "kinds"), IsStaff())
async def show_kinds(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    try:
        kinds = await staff_invites.unit_kinds(session, staff)
    except StaffError as error:
        await refuse(query, error)
        return
    await query.answer()
    await _show(query, render_invite.kinds_text(), render_invite.kinds_keyboard(kinds))


@router.callback_query(InviteAct.filter(F.act == "units"), IsStaff())
async def show_units(
    query: CallbackQuery, callback_data: InviteAct, session: AsyncSession, staff: StaffMember
) -> None:
    cb = callback_data
    try:
        units = await staff_invites.units_of_kind(session, staff, cb.kind)
    except StaffError as error:
        await refuse(query, error)
        return
    await query.answer()
    keyboard = render_invite.units_keyboard(cb.kind, units, cb.page)
    await _show(query, render_invite.units_text(cb.kind), keyboard)


@router.callback_query(InviteAct.filter(F.act == "unit"), IsStaff())
async def show_unit(
    query: CallbackQuery,
    callback_data: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    now,
) -> None:
    await _show_desk(query, callback_data, session, staff, now)


@router.callback_query(InviteAct.filter(F.act == "new"), IsStaff())
async def new_invite(
    query: CallbackQuery,
    callback_data: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    bot: Bot,
    now,
) -> None:
    cb = callback_data
    try:
        created = await staff_invites.create_unit_invite(session, staff, cb.unit, now=now)
        desk = await staff_invites.unit_desk(session, staff, cb.unit, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_invite.unknown_unit_text(), show_alert=True)
        return
    link = deep_link((await bot.me()).username, created.token)
    await query.answer(_("Invite #{id} created").format(id=created.invite.id))
    await bot.send_photo(
        query.from_user.id,
        BufferedInputFile(qr_png(link), filename=f"invite-{created.invite.id}.png"),
        caption=render_invite.created_caption(created, link, desk.timezone),
    )
    await _edit_desk(query, desk, cb, staff)


@router.callback_query(InviteAct.filter(F.act == "web"), IsStaff())
async def new_web_link(
    query: CallbackQuery,
    callback_data: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    bot: Bot,
    settings,
    now,
) -> None:
    """A personal link to the web report form (for a contact Telegram cannot reach)."""
    cb = callback_data
    base_url = settings.web.base_url
    if not base_url:
        await query.answer(render_invite.no_web_address_text(), show_alert=True)
        return
    try:
        created = await staff_invites.create_unit_invite(
            session, staff, cb.unit, now=now, web=True
        )
        desk = await staff_invites.unit_desk(session, staff, cb.unit, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_invite.unknown_unit_text(), show_alert=True)
        return
    link = web_link(base_url, created.token)
    await query.answer(_("Invite #{id} created").format(id=created.invite.id))
    await bot.send_photo(
        query.from_user.id,
        BufferedInputFile(qr_png(link), filename=f"web-link-{created.invite.id}.png"),
        caption=render_invite.created_caption(created, link, desk.timezone, web=True),
    )
    await _edit_desk(query, desk, cb, staff)


@router.callback_query(InviteAct.filter(F.act == "revoke"), IsStaff())
async def ask_revoke(
    query: CallbackQuery,
    callback_data: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    now,
) -> None:
    cb = callback_data
    if not staff.is_admin:  # the service refuses it too; no question for a step they cannot take
        await refuse(query, StaffError("admin_only"))
        return
    try:
        desk = await staff_invites.unit_desk(session, staff, cb.unit, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_invite.unknown_unit_text(), show_alert=True)
        return
    await query.answer()
    keyboard = render_invite.revoke_keyboard(cb.unit, cb.invite, cb.kind, cb.page)
    await _show(query, render_invite.revoke_question(desk, cb.invite), keyboard)


@router.callback_query(InviteAct.filter(F.act == "revoke_ok"), IsStaff())
async def revoke(
    query: CallbackQuery,
    callback_data: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    now,
) -> None:
    cb = callback_data
    try:
        revoked = await staff_invites.revoke_unit_invite(session, staff, cb.invite, now=now)
        desk = await staff_invites.unit_desk(session, staff, revoked.unit_id, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_invite.unknown_unit_text(), show_alert=True)
        return
    await query.answer(render_invite.revoked_text(revoked.invite_id, revoked.already))
    await _edit_desk(query, desk, cb, staff)


async def _show_desk(
    query: CallbackQuery,
    cb: InviteAct,
    session: AsyncSession,
    staff: StaffMember,
    now,
) -> None:
    try:
        desk = await staff_invites.unit_desk(session, staff, cb.unit, now=now)
    except StaffError as error:
        await refuse(query, error)
        return
    except NotFound:
        await query.answer(render_invite.unknown_unit_text(), show_alert=True)
        return
    await query.answer()
    await _edit_desk(query, desk, cb, staff)


async def _edit_desk(query: CallbackQuery, desk, cb: InviteAct, staff: StaffMember) -> None:
    text = render_invite.unit_text(desk, admin=staff.is_admin)
    keyboard = render_invite.unit_keyboard(desk, cb.kind, cb.page, admin=staff.is_admin)
    await _show(query, text, keyboard)


async def _show(query: CallbackQuery, text: str, keyboard) -> None:
    """The screen in place of the pressed one (a new message when it cannot be edited)."""
    if query.message is not None:
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):  # the same screen pressed again
                return
        except TelegramAPIError:
            pass
    await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)
