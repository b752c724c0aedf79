"""/report: rounds, the task list, task cards, writing progress, evidence, preview, submit.

Thin: every rule (what may change, what is saved) is a call into storage.services.reporting.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from zoneinfo import ZoneInfo

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render
from handlers.callbacks import (
    STATUS_CODES,
    TASK_ACTIONS,
    OverviewPage,
    RoundPick,
    SubmitAct,
    TaskAct,
    UnitPick,
)
from handlers.routes import Routes
from ledger.text import clean_text
from scheduler import notices
from scheduler.buttons import ReportButton, ReviewButton, SnoozeButton
from storage.services import reporting, review
from storage.services.people import Identity, Membership
from storage.services.reporting import Actor, ReportError

log = logging.getLogger(__name__)
router = Routes("report")


class Report(StatesGroup):
    card = State()  # looking at a task
    writing = State()  # messages are appended to the task's progress
    reason = State()  # the next message is why the task does not apply


def refusal(error: ReportError, *, as_html: bool = True) -> str:
    """The refusal in the person's language; `as_html=False` for a popup (plain text)."""
    messages = {
        "round_missing": _("This round no longer exists."),
        "round_closed": _("The round “{name}” is closed: answers can no longer be changed."),
        "not_your_task": _("This task is not one your unit answers for."),
        "reason_needed": _("Please say in a few words why the task does not apply."),
        "reason_too_long": _("The reason is too long ({length} characters; at most {limit})."),
        "empty_text": _("There is no text to add."),
        "answer_too_long": _(
            "Not saved: the answer would be {length} characters, more than the form can hold "
            "({limit}). It has {have} now; shorten what you send, or clear and rewrite it."
        ),
        "no_previous_answer": _("There is no answer from an earlier round for this task."),
        "file_too_big": _("The file is larger than {limit_mb} MB, more than a bot can receive."),
        "nothing_to_report": _("Your unit has no tasks in this round."),
        "not_lead": _("Only the lead unit of this task can read the co-units' answers."),
    }
    params = {k: render.esc(str(v)) if as_html else v for k, v in error.params.items()}
    return messages.get(error.code, _("That did not work.")).format(**params)


def actor_for(membership: Membership, now: dt.datetime | None = None) -> Actor:
    return Actor(
        unit_id=membership.unit_id,
        label=membership.contact_name or membership.unit_short,
        contact_id=membership.contact_id,
        at=now,
    )


async def show(
    event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup
) -> int | None:
    """Edit the pressed message in place; send a new one when it is gone or was a command.

    Returns the id of the message that shows it."""
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message):
            try:
                await message.edit_text(text, reply_markup=markup)
                return message.message_id
            except TelegramBadRequest as error:
                if "not modified" in error.message:
                    return message.message_id
                log.info("cannot edit message %s: %s", message.message_id, error.message)
        sent = await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
        return sent.message_id
    return (await event.answer(text, reply_markup=markup)).message_id


async def went_live(bot: Bot, chat_id: int, state: FSMContext, message_id: int | None) -> None:
    """`message_id` now carries the task's live buttons: take them off the message that had
    them, so the chat holds one live card. Failing to (too old, deleted) changes nothing."""
    if message_id is None:
        return
    previous = (await state.get_data()).get("live")
    await state.update_data(live=message_id)
    if previous and previous != message_id:
        await retire(bot, chat_id, previous)


async def retire(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove an older message's buttons; what was saved stands whether this works or not."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramAPIError as error:
        log.info("cannot take the buttons off message %s: %s", message_id, error)


async def member_or_refuse(
    event: Message | CallbackQuery, identity: Identity | None, unit_id: int
) -> Membership | None:
    membership = identity.membership(unit_id) if identity else None
    if membership is None:
        text = _("This button is not for you: it belongs to a unit you do not report for.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.answer(text)
    return membership


# ------------------------------------------------------------------ entering


@router.message(Command("report"))
async def report_command(
    message: Message, session: AsyncSession, identity: Identity, state: FSMContext
) -> None:
    if not identity.is_contact and identity.staff is not None:
        await message.answer(
            _(
                "You are office staff and report for no unit: /status shows who has reported, "
                "/export downloads the ledger."
            )
        )
        return
    if not identity.is_contact:
        await message.answer(
            _("You are not registered for a unit yet. Open the invite link the office sent you.")
        )
        return
    data = await state.get_data()
    membership = identity.membership(data.get("unit", 0))
    if membership is None and len(identity.memberships) == 1:
        membership = identity.memberships[0]
    if membership is None:
        await message.answer(
            _("Which unit are you reporting for?"),
            reply_markup=render.units_keyboard(identity.memberships),
        )
        return
    await choose_round(message, session, membership, state)


@router.callback_query(UnitPick.filter())
async def unit_picked(
    query: CallbackQuery,
    callback_data: UnitPick,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
) -> None:
    membership = await member_or_refuse(query, identity, callback_data.unit)
    if membership is None:
        return
    await query.answer()
    await choose_round(query, session, membership, state)


async def choose_round(
    event: Message | CallbackQuery,
    session: AsyncSession,
    membership: Membership,
    state: FSMContext,
) -> None:
    await state.set_state(None)
    await state.update_data(unit=membership.unit_id)
    rounds = await reporting.open_rounds(session, membership.unit_id)
    if not rounds:
        text = _("{unit} has no open reporting round at the moment.").format(
            unit=render.esc(membership.unit_name)
        )
        await show(event, text, InlineKeyboardMarkup(inline_keyboard=[]))
        return
    if len(rounds) == 1:
        await show_overview(event, session, membership.unit_id, rounds[0].id, 0, state)
        return
    await show(
        event,
        _("{unit}: which round?").format(unit=render.esc(membership.unit_name)),
        render.rounds_keyboard(membership.unit_id, rounds),
    )


@router.callback_query(RoundPick.filter())
async def round_picked(
    query: CallbackQuery,
    callback_data: RoundPick,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
) -> None:
    if await member_or_refuse(query, identity, callback_data.unit) is None:
        return
    await query.answer()
    await show_overview(query, session, callback_data.unit, callback_data.round, 0, state)


@router.callback_query(OverviewPage.filter())
async def overview_page(
    query: CallbackQuery,
    callback_data: OverviewPage,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
) -> None:
    if await member_or_refuse(query, identity, callback_data.unit) is None:
        return
    await query.answer()
    await show_overview(
        query, session, callback_data.unit, callback_data.round, callback_data.page, state
    )


@router.callback_query(ReportButton.filter())
async def from_reminder(
    query: CallbackQuery,
    callback_data: ReportButton,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
) -> None:
    """The reminder's button: straight to the first unanswered task."""
    if await member_or_refuse(query, identity, callback_data.unit) is None:
        return
    await query.answer()
    summary = await reporting.overview(session, callback_data.round, callback_data.unit)
    first = summary.first_unanswered
    if first is None:
        await show_overview(query, session, callback_data.unit, callback_data.round, 0, state)
        return
    await open_card(query, session, callback_data.unit, callback_data.round, first.task_id, state)


@router.callback_query(ReviewButton.filter())
async def from_review(
    query: CallbackQuery,
    callback_data: ReviewButton,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
) -> None:
    """The office's review notice: the returned task's card, or the task list, as a new
    message below the notice (which keeps the comment in the chat)."""
    cb = callback_data
    if await member_or_refuse(query, identity, cb.unit) is None:
        return
    try:
        if cb.task:
            await open_card(query, session, cb.unit, cb.round, cb.task, state, fresh=True)
        else:
            await show_overview(query, session, cb.unit, cb.round, 0, state, fresh=True)
    except ReportError as error:
        await query.answer(refusal(error, as_html=False), show_alert=True)
        return
    await query.answer()


@router.callback_query(SnoozeButton.filter())
async def snooze_reminder(
    query: CallbackQuery,
    callback_data: SnoozeButton,
    session: AsyncSession,
    identity: Identity,
    now: dt.datetime,
) -> None:
    """The reminder's "remind me tomorrow": the next working day in the plan's time zone."""
    from scheduler.reminders import snooze

    membership = await member_or_refuse(query, identity, callback_data.unit)
    if membership is None:
        return
    plan = await reporting.round_plan(session, callback_data.round)
    today = now.astimezone(ZoneInfo(plan.timezone)).date()
    day = await snooze(
        session, membership.unit_id, callback_data.round, membership.contact_id, today
    )
    await query.answer(
        _("All right: I will remind you again on {date}.").format(date=day.isoformat()),
        show_alert=True,
    )


async def show_overview(
    event: Message | CallbackQuery,
    session: AsyncSession,
    unit_id: int,
    round_id: int,
    page: int,
    state: FSMContext,
    *,
    fresh: bool = False,
) -> None:
    """The task list in place of the pressed message (`fresh`: as a new message)."""
    summary = await reporting.overview(session, round_id, unit_id)
    returns = await review.returned_state(session, round_id, unit_id)
    page = min(max(page, 0), render.page_count(summary) - 1)
    await state.set_state(None)
    await state.update_data(unit=unit_id, round=round_id, task=None)
    text = render.overview_text(summary, page, returns)
    markup = render.overview_keyboard(summary, unit_id, page, returns.returned_task_ids)
    if fresh:
        chat_id = chat_of(event)
        message_id = (await event.bot.send_message(chat_id, text, reply_markup=markup)).message_id
    else:
        message_id = await show(event, text, markup)
    # The list is the live screen now: an older card loses its buttons.
    await went_live(event.bot, event.from_user.id, state, message_id)


# ------------------------------------------------------------------ the task card


async def open_card(
    event: Message | CallbackQuery,
    session: AsyncSession,
    unit_id: int,
    round_id: int,
    task_id: int,
    state: FSMContext,
    *,
    unfolded: bool = False,
    notice: str = "",
    fresh: bool = False,
) -> None:
    """Show the task's card in place of the pressed message (`fresh`: as a new message)."""
    card = await reporting.card(session, round_id, unit_id, task_id)
    await state.set_state(Report.card)
    await state.update_data(unit=unit_id, round=round_id, task=task_id, seen=card.version)
    returns = await review.returned_state(session, round_id, unit_id)
    text = render.card_text(card, unfolded=unfolded, returned=returns.task_returns(task_id))
    if notice:
        text = f"<i>{notice}</i>\n\n{text}"
    markup = render.card_keyboard(card, unit_id, unfolded=unfolded)
    chat_id = chat_of(event)
    if fresh:
        shown = (await event.bot.send_message(chat_id, text, reply_markup=markup)).message_id
    else:
        shown = await show(event, text, markup)
    await went_live(event.bot, chat_id, state, shown)


def chat_of(event: Message | CallbackQuery) -> int:
    message = event.message if isinstance(event, CallbackQuery) else event
    return message.chat.id if isinstance(message, Message) else event.from_user.id


@router.callback_query(TaskAct.filter())
async def task_action(
    query: CallbackQuery,
    callback_data: TaskAct,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    membership = await member_or_refuse(query, identity, callback_data.unit)
    if membership is None:
        return
    try:
        await _task_action(query, callback_data, session, actor_for(membership, now), state)
    except ReportError as error:
        await query.answer(refusal(error, as_html=False), show_alert=True)


async def _task_action(
    query: CallbackQuery,
    cb: TaskAct,
    session: AsyncSession,
    actor: Actor,
    state: FSMContext,
) -> None:
    changes = TASK_ACTIONS.get(cb.act) in reporting.CHANGING_ACTIONS
    if changes or cb.version >= 0:
        seen = cb.version if cb.version >= 0 else None
        stale = await reporting.stale_view(session, actor, cb.round, cb.task, seen)
        if stale is not None:
            await _show_current(query, cb, session, state, changed_notice(stale.by_someone_else))
            return
    if cb.act == "o":
        await query.answer()
        await open_card(query, session, cb.unit, cb.round, cb.task, state)
    elif cb.act == "m":
        await query.answer()
        await open_card(query, session, cb.unit, cb.round, cb.task, state, unfolded=True)
    elif cb.act == "f":
        await query.answer()
        card = await reporting.card(session, cb.round, cb.unit, cb.task)
        for part in render.split_for_messages(card.text):
            await query.bot.send_message(query.from_user.id, render.esc(part))
    elif cb.act == "s":
        await _status_pressed(query, cb, session, actor, state)
    elif cb.act == "w":
        await _start_writing(query, cb, session, state)
    elif cb.act == "d":
        # The card first: its commit marks the update handled, so answering the press after
        # it needs no commit of its own.
        await open_card(query, session, cb.unit, cb.round, cb.task, state)
        await query.answer(_("Saved."))
    elif cb.act == "c":
        await _ask_to_clear(query, cb, session, state)
    elif cb.act == "y":
        await reporting.replace_text(session, actor, cb.round, cb.task, "")
        await query.answer(_("Cleared. Send the new text."))
        await _start_writing(
            query, cb, session, state, answered=True, in_place=True, notice=_("Cleared.")
        )
    elif cb.act == "n":
        await query.answer(_("Nothing was cleared."))
        await open_card(
            query, session, cb.unit, cb.round, cb.task, state, notice=_("Nothing was cleared.")
        )
    elif cb.act == "p":
        await reporting.use_previous_answer(session, actor, cb.round, cb.task)
        await query.answer()
        await open_card(
            query,
            session,
            cb.unit,
            cb.round,
            cb.task,
            state,
            notice=_(
                "Last round's answer is filled in. Send messages to add to it, "
                "or clear and rewrite."
            ),
        )
    else:
        await query.answer(_("That button is no longer in use."), show_alert=True)


def changed_notice(by_someone_else: bool = True) -> str:
    if not by_someone_else:
        return _(
            "That button was on an older view of this task, so nothing was changed. "
            "Here is the task as it stands now."
        )
    return _(
        "Someone else of your unit changed this answer meanwhile. Here it is now; "
        "press again if you still want the change."
    )


async def _show_current(
    query: CallbackQuery, cb: TaskAct, session: AsyncSession, state: FSMContext, notice: str
) -> None:
    """A stale button: change nothing, and show the current card. The live card is updated in
    place; a press on an older message loses that message's buttons and gets a new card."""
    pressed = query.message.message_id if isinstance(query.message, Message) else None
    live = (await state.get_data()).get("live")
    in_place = pressed is not None and pressed == live
    await open_card(  # refuses first when the task is not the unit's
        query, session, cb.unit, cb.round, cb.task, state, notice=notice, fresh=not in_place
    )
    await query.answer(_("The card has changed: nothing was done."))
    if pressed is not None and not in_place:
        await retire(query.bot, chat_of(query), pressed)


async def _ask_to_clear(
    query: CallbackQuery, cb: TaskAct, session: AsyncSession, state: FSMContext
) -> None:
    """Clearing asks first, in place: only the confirming press clears."""
    await reporting.ensure_open(session, cb.round)
    card = await reporting.card(session, cb.round, cb.unit, cb.task)
    if not card.text:
        await query.answer(_("Nothing is written yet: send the text."), show_alert=True)
        return
    await query.answer()
    shown = await show(query, render.clear_question(card), render.clear_keyboard(card, cb.unit))
    await went_live(query.bot, chat_of(query), state, shown)


async def _status_pressed(
    query: CallbackQuery, cb: TaskAct, session: AsyncSession, actor: Actor, state: FSMContext
) -> None:
    status = STATUS_CODES.get(cb.arg)
    if status is None:
        await query.answer(_("That button is no longer in use."), show_alert=True)
        return
    if status == "not_applicable":
        # Set once the reason arrives: a bare "not applicable" tells the office nothing.
        card = await reporting.card(session, cb.round, cb.unit, cb.task)  # checks it is theirs
        await state.set_state(Report.reason)
        await state.update_data(unit=cb.unit, round=cb.round, task=cb.task)
        await query.answer()
        await query.bot.send_message(
            query.from_user.id,
            _("Why does task {number} not apply to your unit? Send a short reason.").format(
                number=card.number
            ),
        )
        return
    await reporting.set_status(session, actor, cb.round, cb.task, status)
    await query.answer(_("Status saved."))
    await open_card(query, session, cb.unit, cb.round, cb.task, state)


async def _start_writing(
    query: CallbackQuery,
    cb: TaskAct,
    session: AsyncSession,
    state: FSMContext,
    answered: bool = False,
    in_place: bool = False,
    notice: str = "",
) -> None:
    """Ask for the progress text below the card (`in_place`: in the pressed message)."""
    await reporting.ensure_open(session, cb.round)
    card = await reporting.card(session, cb.round, cb.unit, cb.task)
    if not answered:
        await query.answer()
    await state.set_state(Report.writing)
    await state.update_data(unit=cb.unit, round=cb.round, task=cb.task, seen=card.version)
    text = _(
        "Task {number}: send the progress as one or more messages. Photos and documents "
        "are kept as evidence. Press Done when you have finished."
    ).format(number=card.number)
    if notice:
        text = f"<i>{notice}</i>\n{text}"
    markup = render.writing_keyboard(cb.unit, cb.round, cb.task, card.version)
    if in_place:
        shown = await show(query, text, markup)
    else:
        sent = await query.bot.send_message(chat_of(query), text, reply_markup=markup)
        shown = sent.message_id
    await went_live(query.bot, chat_of(query), state, shown)


# ------------------------------------------------------------------ what the contact sends


@router.message(StateFilter(Report.writing, Report.card), F.text & ~F.text.startswith("/"))
async def progress_text(
    message: Message,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    data = await state.get_data()
    membership = await member_or_refuse(message, identity, data.get("unit", 0))
    if membership is None:
        return
    round_id, task_id = data["round"], data["task"]
    try:
        change = await reporting.append_text(
            session, actor_for(membership, now), round_id, task_id, message.text
        )
    except ReportError as error:
        await message.answer(refusal(error))
        return
    seen = data.get("seen", change.previous_version)
    await state.set_state(Report.writing)
    await state.update_data(seen=change.entry.version)
    lines = [_("Saved: {count} characters in all.").format(count=len(change.entry.text))]
    if change.previous_version != seen:
        lines.insert(
            0,
            _(
                "Note: someone else of your unit edited this answer meanwhile; "
                "your text was added after theirs."
            ),
        )
    reply = await message.answer(
        "\n".join(lines),
        reply_markup=render.writing_keyboard(
            membership.unit_id, round_id, task_id, change.entry.version
        ),
    )
    await went_live(message.bot, message.chat.id, state, reply.message_id)


@router.message(Report.reason, F.text & ~F.text.startswith("/"))
async def reason_text(
    message: Message,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    data = await state.get_data()
    membership = await member_or_refuse(message, identity, data.get("unit", 0))
    if membership is None:
        return
    try:
        await reporting.set_status(
            session,
            actor_for(membership, now),
            data["round"],
            data["task"],
            "not_applicable",
            message.text,
        )
    except ReportError as error:
        await message.answer(refusal(error))
        return
    await open_card(
        message,
        session,
        membership.unit_id,
        data["round"],
        data["task"],
        state,
        notice=_("Marked as not applicable."),
    )


@router.message(StateFilter(Report.writing, Report.card, Report.reason), F.photo | F.document)
async def evidence(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    data = await state.get_data()
    membership = await member_or_refuse(message, identity, data.get("unit", 0))
    if membership is None:
        return
    if message.photo:
        photo = message.photo[-1]
        file_id, size, kind = photo.file_id, photo.file_size or 0, "photo"
        name, mime = f"photo-{message.message_id}.jpg", "image/jpeg"
    else:
        document = message.document
        file_id, size, kind = document.file_id, document.file_size or 0, "document"
        name = document.file_name or f"document-{message.message_id}"
        mime = document.mime_type or ""
    if size > reporting.MAX_EVIDENCE_BYTES:
        await message.answer(refusal(ReportError("file_too_big", limit_mb=20)))
        return
    buffer = io.BytesIO()
    await bot.download(file_id, destination=buffer)
    before = await reporting.entry_version(
        session, data["round"], membership.unit_id, data["task"]
    )
    try:
        attachment = await reporting.add_evidence(
            session,
            actor_for(membership, now),
            data["round"],
            data["task"],
            kind=kind,
            file_name=name,
            data=buffer.getvalue(),
            mime_type=mime,
            telegram_file_id=file_id,
        )
    except ReportError as error:
        await message.answer(refusal(error))
        return
    text = _("📎 Kept as evidence: {name}").format(name=render.esc(attachment.file_name))
    caption = clean_text(message.caption or "").strip()  # nothing left of it: just the file
    if caption:
        await reporting.append_text(
            session, actor_for(membership, now), data["round"], data["task"], caption
        )
        text += "\n" + _("The caption was added to the progress text.")
    version = await reporting.entry_version(
        session, data["round"], membership.unit_id, data["task"]
    )
    if data.get("seen", before) == before:
        await state.update_data(seen=version)  # the file and caption are their own change
    reply = await message.answer(
        text,
        reply_markup=render.writing_keyboard(
            membership.unit_id, data["round"], data["task"], version
        ),
    )
    await went_live(bot, message.chat.id, state, reply.message_id)


# ------------------------------------------------------------------ preview and submit


@router.callback_query(SubmitAct.filter())
async def submit_action(
    query: CallbackQuery,
    callback_data: SubmitAct,
    session: AsyncSession,
    identity: Identity,
    state: FSMContext,
    staff_ids: tuple[int, ...],
    now: dt.datetime,
) -> None:
    membership = await member_or_refuse(query, identity, callback_data.unit)
    if membership is None:
        return
    cb = callback_data
    try:
        if cb.act == "pv":
            await query.answer(_("Preparing the form…"))
            await send_preview(query, session, membership, cb.round)
        elif cb.act == "ask":
            summary = await reporting.overview(session, cb.round, cb.unit)
            await query.answer()
            await show(
                query, render.confirm_text(summary), render.confirm_keyboard(cb.unit, cb.round)
            )
        elif cb.act == "ok":
            await confirm_submit(query, session, membership, cb.round, state, staff_ids, now)
        else:
            await query.answer(_("That button is no longer in use."), show_alert=True)
    except ReportError as error:
        await query.answer(refusal(error, as_html=False), show_alert=True)


async def send_preview(
    query: CallbackQuery, session: AsyncSession, membership: Membership, round_id: int
) -> None:
    from storage.services.exports import preview_form

    await query.bot.send_chat_action(query.from_user.id, "upload_document")
    preview = await preview_form(session, round_id, membership.unit_id)
    if preview.draft:
        caption = _("Draft, not submitted: the form with your answers as they stand now.")
    else:
        caption = _("The form as you submitted it (version {version}).").format(
            version=preview.version
        )
    document = BufferedInputFile(preview.data, filename=preview.file_name)
    await query.bot.send_document(query.from_user.id, document, caption=caption)


async def confirm_submit(
    query: CallbackQuery,
    session: AsyncSession,
    membership: Membership,
    round_id: int,
    state: FSMContext,
    staff_ids: tuple[int, ...],
    now: dt.datetime,
) -> None:
    receipt, summary = await notices.submit_and_tell_staff(
        session, actor_for(membership, now), round_id, membership, staff_ids, now=now
    )
    await query.answer(_("Submitted."))
    # The receipt is the last message of a submission, below any preview sent meanwhile:
    # the question loses its buttons and the receipt comes as a message of its own.
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(_("Submitted: the receipt follows."))
        except TelegramBadRequest as error:
            log.info("cannot edit message %s: %s", query.message.message_id, error.message)
    await query.bot.send_message(
        query.from_user.id,
        render.receipt_text(receipt, summary.unit_name, summary.round_name, summary.timezone),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("📋 Back to the list"),
                        callback_data=OverviewPage(unit=membership.unit_id, round=round_id).pack(),
                    )
                ]
            ]
        ),
    )
    await state.set_state(None)
