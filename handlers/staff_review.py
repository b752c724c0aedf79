"""/review: accepting a unit's submission, or returning it (or one task) with a comment.

Thin: the rules, and the check that the person is staff (an admin, to decide), live in
storage.services.review, and telling the unit in scheduler.review_notices; the screens are
drawn in render_review. A return asks for the comment as the next message, then for a
confirmation; only the confirming press returns and tells the unit. Each button has its own
handler, chosen by its payload's `act`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_review
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from handlers.staff_callbacks import ReviewAct
from scheduler import review_notices
from storage.services import review, status
from storage.services.errors import NotFound
from storage.services.review import ReviewError, Target
from storage.services.staff import StaffError, StaffMember

log = logging.getLogger(__name__)
router = Routes("staff_review")


class ReviewFlow(StatesGroup):
    comment = State()  # the next message is the comment of a return


PENDING = "review"  # the FSM data key of the return being written


async def _say(event: Message | CallbackQuery, text: str) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


async def _guarded(
    event: Message | CallbackQuery,
    work: Callable[[], Awaitable[Any]],
    on_stale: Callable[[str], Awaitable[Any]] | None = None,
) -> None:
    """Run the step; a refusal of the service is told, and nothing changes. A stale version
    shows the unit's latest (`on_stale`)."""
    try:
        await work()
    except StaffError as error:
        await refuse(event, error)
    except ReviewError as error:
        if error.code == "stale" and on_stale is not None:
            await on_stale(render_review.problem(error))
        else:
            await _say(event, render_review.problem(error))
    except NotFound:
        await _say(event, _("This round or unit no longer exists."))


async def _show(event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    """Edit the pressed message in place; a command, or a message that cannot be edited,
    gets a new one."""
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(text, reply_markup=markup)
                return
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return
                log.info("cannot edit message %s: %s", message.message_id, error.message)
        await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
        return
    await event.answer(text, reply_markup=markup)


async def _drop_pending(state: FSMContext) -> None:
    """Forget a return being written (the comment not confirmed)."""
    if await state.get_state() == ReviewFlow.comment.state:
        await state.set_state(None)
    if (await state.get_data()).get(PENDING):
        await state.update_data({PENDING: None})


# ------------------------------------------------------------------ the list


async def _list_screen(
    event: Message | CallbackQuery, session: AsyncSession, member: StaffMember, round_id: int
) -> None:
    if not round_id:
        found = await status.default_round(session)  # as /status: the open round due soonest
        if found is None:
            choices = await status.rounds_to_pick(session, member)
            await _show(
                event,
                render_review.rounds_text(choices, none_open=True),
                render_review.rounds_keyboard(choices),
            )
            return
        round_id = found.id
    result = await review.round_review(session, member, round_id)
    await _show(event, render_review.list_text(result), render_review.list_keyboard(result))


@router.message(Command("review"), IsStaff())
async def review_command(
    message: Message, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    await _drop_pending(state)
    await _guarded(message, lambda: _list_screen(message, session, staff, 0))


@router.callback_query(ReviewAct.filter(F.act == "list"), IsStaff())
async def review_list(
    query: CallbackQuery, callback_data: ReviewAct, session: AsyncSession, staff: StaffMember
) -> None:
    async def work() -> None:
        await _list_screen(query, session, staff, callback_data.round)
        await query.answer()

    await _guarded(query, work)


@router.callback_query(ReviewAct.filter(F.act == "rounds"), IsStaff())
async def review_rounds(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        choices = await status.rounds_to_pick(session, staff)
        await _show(
            query, render_review.rounds_text(choices), render_review.rounds_keyboard(choices)
        )
        await query.answer()

    await _guarded(query, work)


# ------------------------------------------------------------------ one unit


async def _unit_screen(
    event: Message | CallbackQuery,
    session: AsyncSession,
    member: StaffMember,
    round_id: int,
    unit_id: int,
    notice: str = "",
) -> None:
    item = await review.unit_review(session, member, round_id, unit_id)
    await _show(
        event,
        render_review.unit_text(item, member, notice),
        render_review.unit_keyboard(item, member),
    )


def _stale(query: CallbackQuery, session, member, cb: ReviewAct):
    """On a stale version: say so, and show the unit's latest in place."""

    async def redraw(text: str) -> None:
        await query.answer(text, show_alert=True)
        await _unit_screen(query, session, member, cb.round, cb.unit, notice=text)

    return redraw


@router.callback_query(ReviewAct.filter(F.act == "show"), IsStaff())
async def unit_screen(
    query: CallbackQuery,
    callback_data: ReviewAct,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    cb = callback_data
    await _drop_pending(state)

    async def work() -> None:
        await _unit_screen(query, session, staff, cb.round, cb.unit)
        await query.answer()

    await _guarded(query, work)


@router.callback_query(ReviewAct.filter(F.act == "accept"), IsStaff())
async def accept(
    query: CallbackQuery,
    callback_data: ReviewAct,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
    default_locale: str,
) -> None:
    cb = callback_data

    async def work() -> None:
        told = await review_notices.accept_and_tell(
            session,
            staff,
            cb.round,
            cb.unit,
            version=cb.version,
            now=now,
            default_language=default_locale,
        )
        await query.answer(_("Accepted."))
        await _show(query, render_review.done_text(told), render_review.done_keyboard(told))

    await _guarded(query, work, _stale(query, session, staff, cb))


# ------------------------------------------------------------------ returning


async def _ask_comment(
    query: CallbackQuery,
    session: AsyncSession,
    member: StaffMember,
    cb: ReviewAct,
    state: FSMContext,
) -> None:
    """Check the return could be made now, then wait for the comment."""
    target = await review.check(
        session,
        member,
        cb.round,
        cb.unit,
        version=cb.version,
        task_id=cb.task or None,
        returning=True,
    )
    await state.set_state(ReviewFlow.comment)
    await state.update_data(
        {PENDING: {"round": cb.round, "unit": cb.unit, "version": cb.version, "task": cb.task}}
    )
    await query.answer()
    await query.bot.send_message(
        query.from_user.id,
        render_review.comment_prompt(target),
        reply_markup=render_review.prompt_keyboard(target),
    )


@router.callback_query(ReviewAct.filter(F.act == "return"), IsStaff())
async def return_whole(
    query: CallbackQuery,
    callback_data: ReviewAct,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    cb = callback_data.model_copy(update={"task": 0})
    await _guarded(
        query,
        lambda: _ask_comment(query, session, staff, cb, state),
        _stale(query, session, staff, cb),
    )


@router.callback_query(ReviewAct.filter(F.act == "task"), IsStaff())
async def return_task(
    query: CallbackQuery,
    callback_data: ReviewAct,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    """Without a task: the unit's tasks to choose from; with one: ask for the comment."""
    cb = callback_data

    async def pick() -> None:
        await review.check(session, staff, cb.round, cb.unit, version=cb.version, returning=True)
        item = await review.unit_review(session, staff, cb.round, cb.unit)
        await _show(query, render_review.tasks_text(item), render_review.tasks_keyboard(item))
        await query.answer()

    work = pick if not cb.task else (lambda: _ask_comment(query, session, staff, cb, state))
    await _guarded(query, work, _stale(query, session, staff, cb))


def _pending_target(data: dict) -> dict | None:
    pending = data.get(PENDING)
    return pending if isinstance(pending, dict) else None


@router.message(ReviewFlow.comment, F.text & ~F.text.startswith("/"), IsStaff())
async def comment_written(
    message: Message, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    pending = _pending_target(await state.get_data())
    if pending is None:
        await state.set_state(None)
        await message.answer(render_review.no_pending_text())
        return

    async def work() -> None:
        comment = review.clean_comment(message.text)
        target: Target = await review.check(
            session,
            staff,
            pending["round"],
            pending["unit"],
            version=pending["version"],
            task_id=pending["task"] or None,
            returning=True,
        )
        await state.update_data({PENDING: {**pending, "comment": comment}})
        await message.answer(
            render_review.confirm_text(target, comment),
            reply_markup=render_review.confirm_keyboard(target),
        )

    async def stale(text: str) -> None:
        await _drop_pending(state)
        await message.answer(text)
        await _unit_screen(message, session, staff, pending["round"], pending["unit"])

    await _guarded(message, work, stale)


@router.callback_query(ReviewAct.filter(F.act == "confirm"), IsStaff())
async def confirm_return(
    query: CallbackQuery,
    callback_data: ReviewAct,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
    now: dt.datetime,
    default_locale: str,
) -> None:
    cb = callback_data
    pending = _pending_target(await state.get_data())
    asked = {"round": cb.round, "unit": cb.unit, "version": cb.version, "task": cb.task}
    if (
        pending is None
        or not pending.get("comment")
        or {k: pending.get(k) for k in asked} != asked
    ):
        await query.answer(render_review.no_pending_text(), show_alert=True)
        return

    async def work() -> None:
        told = await review_notices.return_and_tell(
            session,
            staff,
            cb.round,
            cb.unit,
            pending["comment"],
            version=cb.version,
            task_id=cb.task or None,
            now=now,
            default_language=default_locale,
        )
        await _drop_pending(state)
        await query.answer(_("Returned."))
        await _show(query, render_review.done_text(told), render_review.done_keyboard(told))

    async def stale(text: str) -> None:
        await _drop_pending(state)
        await _stale(query, session, staff, cb)(text)

    await _guarded(query, work, stale)
