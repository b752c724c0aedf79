"""/status: a round's status — who has reported, per unit kind and per task, the chart,
one unit's answers, and nudges.

Thin: the rules, and the check that the person is staff (and an admin, to nudge), live in
storage.services.status and scheduler.nudges; the screens are drawn in render_status. Each
button has its own handler, chosen by its payload's `act`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_status
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from handlers.staff_callbacks import NudgeAct, StatusView, UnitView
from ledger.status_chart import render_status_chart
from scheduler import nudges
from storage.services import status
from storage.services.errors import NotFound
from storage.services.staff import StaffError, StaffMember
from storage.services.status import StatusError

log = logging.getLogger(__name__)
router = Routes("staff_status")


def _problem(error: Exception) -> str:
    if isinstance(error, StatusError) and error.code == "round_closed":
        return _("This round is closed: its units are no longer reminded.")
    if isinstance(error, StatusError):
        return _("This unit has no task in this round.")
    return _("This round or unit no longer exists.")


async def _guarded(event: Message | CallbackQuery, work: Callable[[], Awaitable[Any]]) -> None:
    """Run the screen's work; a refusal of the service is told, and nothing changes."""
    try:
        await work()
    except StaffError as error:
        await refuse(event, error)
    except (StatusError, NotFound) as error:
        if isinstance(event, CallbackQuery):
            await event.answer(_problem(error), show_alert=True)
        else:
            await event.answer(_problem(error))


async def _show(event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Edit the pressed message in place; a command, or a message that cannot be edited,
    gets a new one."""
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest as error:
                if "not modified" not in error.message:
                    log.info("cannot edit message %s: %s", message.message_id, error.message)
                    await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
            await event.answer()
            return
        await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
        await event.answer()
        return
    await event.answer(text, reply_markup=markup)


async def _round_screen(
    event: Message | CallbackQuery,
    session: AsyncSession,
    member: StaffMember,
    round_id: int,
    now: dt.datetime,
) -> None:
    if not round_id:
        found = await status.default_round(session)
        if found is None:
            choices = await status.rounds_to_pick(session, member)
            await _show(
                event, render_status.no_round_text(), render_status.rounds_keyboard(choices)
            )
            return
        round_id = found.id
    result = await status.round_status(session, member, round_id, now=now)
    await _show(
        event, render_status.status_text(result), render_status.status_keyboard(result, member)
    )


@router.message(Command("status"), IsStaff())
async def status_command(
    message: Message, session: AsyncSession, staff: StaffMember, now: dt.datetime
) -> None:
    await _guarded(message, lambda: _round_screen(message, session, staff, 0, now))


@router.callback_query(StatusView.filter(F.act == "show"), IsStaff())
async def status_screen(
    query: CallbackQuery,
    callback_data: StatusView,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    await _guarded(query, lambda: _round_screen(query, session, staff, callback_data.round, now))


@router.callback_query(StatusView.filter(F.act == "pick"), IsStaff())
async def pick_round(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        choices = await status.rounds_to_pick(session, staff)
        await _show(
            query, render_status.rounds_text(choices), render_status.rounds_keyboard(choices)
        )

    await _guarded(query, work)


@router.callback_query(StatusView.filter(F.act == "tasks"), IsStaff())
async def per_task(
    query: CallbackQuery,
    callback_data: StatusView,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        result = await status.round_status(session, staff, callback_data.round, now=now)
        page = callback_data.page
        await _show(
            query,
            render_status.tasks_text(result, page),
            render_status.tasks_keyboard(result, page),
        )

    await _guarded(query, work)


@router.callback_query(StatusView.filter(F.act == "units"), IsStaff())
async def units_list(
    query: CallbackQuery,
    callback_data: StatusView,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        result = await status.round_status(session, staff, callback_data.round, now=now)
        page = callback_data.page
        await _show(
            query,
            render_status.units_text(result, page),
            render_status.units_keyboard(result, page),
        )

    await _guarded(query, work)


@router.callback_query(StatusView.filter(F.act == "chart"), IsStaff())
async def chart(
    query: CallbackQuery,
    callback_data: StatusView,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        result = await status.round_status(session, staff, callback_data.round, now=now)
        await query.answer(_("Drawing the chart…"))
        data = render_status.chart_data(result)
        png = await asyncio.to_thread(render_status_chart, data)
        await query.bot.send_photo(
            query.from_user.id,
            BufferedInputFile(png, filename=f"status-{result.round_id}.png"),
            caption=render_status.chart_caption(result),
        )

    await _guarded(query, work)


@router.callback_query(UnitView.filter(F.act == "show"), IsStaff())
async def unit_screen(
    query: CallbackQuery, callback_data: UnitView, session: AsyncSession, staff: StaffMember
) -> None:
    async def work() -> None:
        detail = await status.unit_detail(session, staff, callback_data.round, callback_data.unit)
        page = callback_data.page
        await _show(
            query,
            render_status.unit_text(detail, page),
            render_status.unit_keyboard(detail, page, staff),
        )

    await _guarded(query, work)


async def _nudge(
    query: CallbackQuery,
    session: AsyncSession,
    member: StaffMember,
    round_id: int,
    unit_id: int | None,
    now: dt.datetime,
    default_locale: str,
) -> None:
    result = await nudges.nudge(
        session, member, round_id, now=now, unit_id=unit_id, default_language=default_locale
    )
    await query.answer()
    await query.bot.send_message(query.from_user.id, render_status.nudge_text(result))


@router.callback_query(NudgeAct.filter(F.act == "all"), IsStaff())
async def nudge_all(
    query: CallbackQuery,
    callback_data: NudgeAct,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
    default_locale: str,
) -> None:
    await _guarded(
        query,
        lambda: _nudge(query, session, staff, callback_data.round, None, now, default_locale),
    )


@router.callback_query(NudgeAct.filter(F.act == "unit"), IsStaff())
async def nudge_unit(
    query: CallbackQuery,
    callback_data: NudgeAct,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
    default_locale: str,
) -> None:
    await _guarded(
        query,
        lambda: _nudge(
            query, session, staff, callback_data.round, callback_data.unit, now, default_locale
        ),
    )
