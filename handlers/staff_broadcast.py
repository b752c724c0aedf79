"""/broadcast: the office's notices to units, with 收到, live progress and a delivery report.

Thin: whom it reaches, the checks (admins only, confirmed once, the text's limits, the time)
live in storage.services.broadcasts and scheduler.broadcasts, which also queues the messages
in the outbox; the screens are drawn in render_broadcast. The audience is chosen with
buttons, the notice is the next message (its entities kept), then 收到 or not, then a preview
exactly as the recipients will see it (the same payload the outbox sends) with the confirm
button. The confirmed screen becomes the progress message, which the outbox edits as it
sends. Each button has its own handler, chosen by its payload's `act`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import render_broadcast as render
from handlers.routes import Routes
from handlers.staff_access import IsStaff, refuse
from handlers.staff_callbacks import BroadcastButton, BroadcastPick
from scheduler import broadcasts as sb
from scheduler.buttons import AckButton
from scheduler.outbox import build_method
from storage.models import Broadcast
from storage.services import broadcasts as bc
from storage.services import staff as staff_service
from storage.services.broadcasts import BroadcastError
from storage.services.errors import NotFound
from storage.services.staff import StaffError, StaffMember

log = logging.getLogger(__name__)
router = Routes("staff_broadcast")

PENDING = "broadcast"  # FSM data: {"audience": spec} while writing; {"draft": id} for a time


class BroadcastFlow(StatesGroup):
    text = State()  # the next message is the notice
    time = State()  # the next message is the time to send it at


async def _say(event: Message | CallbackQuery, text: str) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


async def _guarded(event: Message | CallbackQuery, work: Callable[[], Awaitable[Any]]) -> None:
    """Run the step; a refusal of the service is told, and nothing changes."""
    try:
        await work()
    except StaffError as error:
        await refuse(event, error)
    except BroadcastError as error:
        await _say(event, render.problem(error))
    except NotFound:
        await _say(event, render.gone_text())


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


async def _forget(state: FSMContext) -> None:
    if await state.get_state() in (BroadcastFlow.text.state, BroadcastFlow.time.state):
        await state.set_state(None)
    if (await state.get_data()).get(PENDING):
        await state.update_data({PENDING: None})


def _pending(data: dict) -> dict:
    pending = data.get(PENDING)
    return pending if isinstance(pending, dict) else {}


# ------------------------------------------------------------------ choosing the audience


async def _menu(
    event: Message | CallbackQuery, session: AsyncSession, member: StaffMember
) -> None:
    try:
        await staff_service.authorize(session, member, admin=True)
    except StaffError:
        await _show(event, render.viewer_text(), render.viewer_keyboard())
        return
    await _show(event, render.menu_text(), render.menu_keyboard())


@router.message(Command("broadcast"), IsStaff())
async def broadcast_command(
    message: Message, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    await _forget(state)
    await _guarded(message, lambda: _menu(message, session, staff))


@router.callback_query(BroadcastPick.filter(F.act == "menu"), IsStaff())
async def menu(
    query: CallbackQuery, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    await _forget(state)

    async def work() -> None:
        await _menu(query, session, staff)
        await query.answer()

    await _guarded(query, work)


@router.callback_query(BroadcastPick.filter(F.act == "kinds"), IsStaff())
async def kinds(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        choices = await bc.audience_choices(session, staff)
        await _show(query, render.kinds_text(), render.kinds_keyboard(choices["kinds"]))
        await query.answer()

    await _guarded(query, work)


@router.callback_query(BroadcastPick.filter(F.act == "plans"), IsStaff())
async def plans(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        choices = await bc.audience_choices(session, staff)
        await _show(
            query,
            render.plans_text(choices["plans"]),
            render.plans_keyboard(choices["plans"]),
        )
        await query.answer()

    await _guarded(query, work)


@router.callback_query(BroadcastPick.filter(F.act == "rounds"), IsStaff())
async def rounds(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        choices = await bc.audience_choices(session, staff)
        await _show(
            query,
            render.rounds_text(choices["rounds"]),
            render.rounds_keyboard(choices["rounds"]),
        )
        await query.answer()

    await _guarded(query, work)


async def _units_screen(
    query: CallbackQuery,
    session: AsyncSession,
    member: StaffMember,
    state: FSMContext,
    page: int,
    toggle: int = 0,
) -> None:
    units = await bc.units_to_pick(session, member)
    pending = _pending(await state.get_data())
    picked = set(pending.get("picked", []))
    if toggle:
        picked ^= {toggle}
    picked &= {unit_id for unit_id, _ in units}
    await state.update_data({PENDING: {"picked": sorted(picked)}})
    await _show(query, render.units_text(len(picked)), render.units_keyboard(units, picked, page))
    await query.answer()


@router.callback_query(BroadcastPick.filter(F.act == "units"), IsStaff())
async def units(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    await _guarded(query, lambda: _units_screen(query, session, staff, state, callback_data.page))


@router.callback_query(BroadcastPick.filter(F.act == "toggle"), IsStaff())
async def toggle_unit(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    cb = callback_data
    await _guarded(query, lambda: _units_screen(query, session, staff, state, cb.page, cb.id))


async def _audience_chosen(
    query: CallbackQuery, session: AsyncSession, member: StaffMember, state: FSMContext, spec: str
) -> None:
    """Say whom it reaches, and wait for the notice as the next message."""
    await staff_service.authorize(session, member, admin=True)
    found = await bc.reach(session, member, spec)
    if not found.contacts:
        await query.answer()
        await _show(query, render.nobody_text(found), render.menu_keyboard())
        return
    await state.set_state(BroadcastFlow.text)
    await state.update_data({PENDING: {"audience": found.audience.spec}})
    await _show(query, render.ask_text_text(found), render.cancel_keyboard())
    await query.answer()


@router.callback_query(BroadcastPick.filter(F.act == "all"), IsStaff())
async def to_all(
    query: CallbackQuery, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    await _guarded(query, lambda: _audience_chosen(query, session, staff, state, "all"))


@router.callback_query(BroadcastPick.filter(F.act == "kind"), IsStaff())
async def to_kind(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    spec = f"kind:{callback_data.v}"
    await _guarded(query, lambda: _audience_chosen(query, session, staff, state, spec))


@router.callback_query(BroadcastPick.filter(F.act == "plan"), IsStaff())
async def to_plan(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    spec = f"plan:{callback_data.id}"
    await _guarded(query, lambda: _audience_chosen(query, session, staff, state, spec))


@router.callback_query(BroadcastPick.filter(F.act == "late"), IsStaff())
async def to_late(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    spec = f"late:{callback_data.id}"
    await _guarded(query, lambda: _audience_chosen(query, session, staff, state, spec))


@router.callback_query(BroadcastPick.filter(F.act == "picked"), IsStaff())
async def to_picked(
    query: CallbackQuery, session: AsyncSession, staff: StaffMember, state: FSMContext
) -> None:
    picked = _pending(await state.get_data()).get("picked") or []
    if not picked:
        await query.answer(render.no_pending_text(), show_alert=True)
        return
    spec = "units:" + ",".join(str(unit_id) for unit_id in picked)
    await _guarded(query, lambda: _audience_chosen(query, session, staff, state, spec))


# ------------------------------------------------------------------ the notice


def _entities(items) -> list[dict]:
    return [item.model_dump(mode="json", exclude_none=True) for item in items or []]


@router.message(BroadcastFlow.text, ~F.text.startswith("/"), IsStaff())
async def notice_written(
    message: Message, session: AsyncSession, staff: StaffMember, state: FSMContext, now
) -> None:
    spec = _pending(await state.get_data()).get("audience")
    if not spec:
        await state.set_state(None)
        await message.answer(render.no_pending_text())
        return
    attachment: dict[str, Any] = {}
    if message.document is not None:
        document = message.document
        attachment = {
            "attachment_kind": "document",
            "attachment_file_id": document.file_id,
            "attachment_name": document.file_name or "",
            "attachment_size": document.file_size or 0,
        }
    elif message.photo:
        photo = message.photo[-1]
        attachment = {
            "attachment_kind": "photo",
            "attachment_file_id": photo.file_id,
            "attachment_size": photo.file_size or 0,
        }
    elif message.text is None:
        await message.answer(render.problem(BroadcastError("bad_attachment")))
        return
    if attachment:
        text, entities = message.caption or "", _entities(message.caption_entities)
    else:
        text, entities = message.text, _entities(message.entities)

    async def work() -> None:
        row = await bc.create_draft(
            session, staff, audience=spec, text=text, entities=entities, now=now, **attachment
        )
        await state.set_state(None)
        await state.update_data({PENDING: None})
        await message.answer(render.ack_question(), reply_markup=render.ack_keyboard(row.id))

    await _guarded(message, work)  # a refusal keeps waiting for a better notice


async def _preview(
    bot: Bot, chat_id: int, session: AsyncSession, member: StaffMember, row: Broadcast, language
) -> None:
    """The message exactly as a recipient gets it (the outbox's payload), then the summary."""
    found = await bc.preview(session, member, row.id)
    method, payload = sb.message_payload(row, chat_id, language)
    await bot(build_method(method, payload))
    await bot.send_message(
        chat_id, render.preview_text(row, found), reply_markup=render.preview_keyboard(row, found)
    )


@router.callback_query(BroadcastPick.filter(F.act == "ack"), IsStaff())
async def ack_chosen(
    query: CallbackQuery,
    callback_data: BroadcastPick,
    session: AsyncSession,
    staff: StaffMember,
    bot: Bot,
    default_locale: str,
) -> None:
    async def work() -> None:
        row = await bc.set_ack(session, staff, callback_data.id, callback_data.v == "1")
        await query.answer()
        if isinstance(query.message, Message):
            await _show(query, render.ack_question() + " " + ("✅" if row.ask_ack else "—"),
                        InlineKeyboardMarkup(inline_keyboard=[]))  # fmt: skip
        await _preview(
            bot, query.from_user.id, session, staff, row, _language(staff, default_locale)
        )

    await _guarded(query, work)


def _language(member: StaffMember, default_locale: str) -> str:
    from aiogram.utils.i18n import get_i18n

    try:
        return get_i18n().current_locale
    except LookupError:
        return member.language or default_locale


# ------------------------------------------------------------------ when


@router.callback_query(BroadcastButton.filter(F.act == "time"), IsStaff())
async def ask_time(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
) -> None:
    async def work() -> None:
        row = await bc.draft(session, staff, callback_data.b)
        await state.set_state(BroadcastFlow.time)
        await state.update_data({PENDING: {"draft": row.id}})
        await query.answer()
        await query.bot.send_message(
            query.from_user.id, render.time_prompt(row), reply_markup=render.cancel_keyboard()
        )

    await _guarded(query, work)


@router.message(BroadcastFlow.time, F.text & ~F.text.startswith("/"), IsStaff())
async def time_written(
    message: Message,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    draft_id = _pending(await state.get_data()).get("draft")
    if not draft_id:
        await state.set_state(None)
        await message.answer(render.no_pending_text())
        return

    async def work() -> None:
        row = await bc.draft(session, staff, draft_id)
        at = sb.parse_time(message.text, row.timezone, now)
        row = await sb.schedule(session, staff, draft_id, at, now=now)
        await _forget(state)
        found = await bc.preview(session, staff, row.id)
        await message.answer(
            render.preview_text(row, found), reply_markup=render.preview_keyboard(row, found)
        )

    await _guarded(message, work)  # a refused time keeps waiting for another


@router.callback_query(BroadcastButton.filter(F.act == "now"), IsStaff())
async def send_now_instead(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        row = await sb.schedule(session, staff, callback_data.b, None, now=now)
        found = await bc.preview(session, staff, row.id)
        await _show(query, render.preview_text(row, found), render.preview_keyboard(row, found))
        await query.answer()

    await _guarded(query, work)


# ------------------------------------------------------------------ confirming, cancelling


@router.callback_query(BroadcastButton.filter(F.act == "send"), IsStaff())
async def confirm(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
    default_locale: str,
) -> None:
    """Confirm once: the pressed summary becomes the progress message the outbox edits."""
    message = query.message if isinstance(query.message, Message) else None

    async def work() -> None:
        await sb.confirm_and_queue(
            session,
            staff,
            callback_data.b,
            now=now,
            default_language=default_locale,
            progress_chat_id=message.chat.id if message else None,
            progress_message_id=message.message_id if message else None,
        )
        item = await bc.summary(session, staff, callback_data.b, now=now)
        await query.answer("📣 " + render.status_label(item.broadcast.status))
        await _show(query, render.progress_text(item), render.progress_keyboard(item))

    await _guarded(query, work)


@router.callback_query(BroadcastButton.filter(F.act == "cancel"), IsStaff())
async def cancel(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    state: FSMContext,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        before = await bc.summary(session, staff, callback_data.b)
        was_draft = before.broadcast.status == bc.DRAFT
        done = await bc.cancel(session, staff, callback_data.b, now=now)
        await _forget(state)
        await query.answer(render.cancelled_text(done.withdrawn, was_draft), show_alert=True)
        if was_draft:
            await _show(query, render.cancelled_text(0, True), render.menu_keyboard())
            return
        item = await bc.summary(session, staff, callback_data.b, now=now)
        await _show(query, render.progress_text(item), render.progress_keyboard(item))

    await _guarded(query, work)


@router.callback_query(BroadcastButton.filter(F.act == "show"), IsStaff())
async def show(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
) -> None:
    async def work() -> None:
        item = await bc.summary(session, staff, callback_data.b, now=now)
        await _show(query, render.progress_text(item), render.progress_keyboard(item))
        await query.answer()

    await _guarded(query, work)


@router.callback_query(BroadcastPick.filter(F.act == "list"), IsStaff())
async def recent(query: CallbackQuery, session: AsyncSession, staff: StaffMember) -> None:
    async def work() -> None:
        items = await bc.list_broadcasts(session, staff, limit=render.RECENT_SHOWN)
        await _show(query, render.recent_text(items), render.recent_keyboard(items))
        await query.answer()

    await _guarded(query, work)


# ------------------------------------------------------------------ 收到, reminders, report


async def _acks_screen(
    query: CallbackQuery, session: AsyncSession, member: StaffMember, broadcast_id: int, notice=""
) -> None:
    item = await bc.summary(session, member, broadcast_id)
    units = await bc.acks_by_unit(session, member, broadcast_id)
    text = render.acks_text(item.broadcast, units, notice)
    markup = render.acks_keyboard(item.broadcast, units)
    if notice or (
        isinstance(query.message, Message) and (query.message.text or "").startswith("👥")
    ):
        await _show(query, text, markup)  # the 收到 screen itself, refreshed
    else:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


@router.callback_query(BroadcastButton.filter(F.act == "acks"), IsStaff())
async def acks(
    query: CallbackQuery, callback_data: BroadcastButton, session: AsyncSession, staff: StaffMember
) -> None:
    async def work() -> None:
        await _acks_screen(query, session, staff, callback_data.b)
        await query.answer()

    await _guarded(query, work)


@router.callback_query(BroadcastButton.filter(F.act == "remind"), IsStaff())
async def remind(
    query: CallbackQuery,
    callback_data: BroadcastButton,
    session: AsyncSession,
    staff: StaffMember,
    now: dt.datetime,
    default_locale: str,
) -> None:
    async def work() -> None:
        count = await sb.remind_unacknowledged(
            session, staff, callback_data.b, now=now, default_language=default_locale
        )
        await query.answer(render.reminded_text(count))
        await _acks_screen(query, session, staff, callback_data.b, render.reminded_text(count))

    await _guarded(query, work)


@router.callback_query(BroadcastButton.filter(F.act == "report"), IsStaff())
async def report(
    query: CallbackQuery, callback_data: BroadcastButton, session: AsyncSession, staff: StaffMember
) -> None:
    async def work() -> None:
        row, lines = await bc.delivery_report(session, staff, callback_data.b)
        data = bc.report_xlsx(
            row,
            lines,
            render.REPORT_COLUMNS,
            render.report_headings(),
            render.report_words(),
        )
        failed = sum(1 for line in lines if line.status in ("failed", "unreachable"))
        await query.answer()
        await query.bot.send_document(
            query.from_user.id,
            BufferedInputFile(data, filename=f"broadcast-{row.id}-delivery.xlsx"),
            caption=render.report_caption(row, failed, len(lines)),
        )

    await _guarded(query, work)


# ------------------------------------------------------------------ the recipient's 收到


@router.callback_query(AckButton.filter())
async def acknowledged(
    query: CallbackQuery, callback_data: AckButton, session: AsyncSession, now: dt.datetime
) -> None:
    """A recipient pressed 收到: recorded once; the button becomes a mark with the time."""
    result = await bc.acknowledge(session, query.from_user.id, callback_data.b, now=now)
    row = await session.get(Broadcast, callback_data.b)
    timezone = row.timezone if row is not None else "Asia/Shanghai"
    if result.outcome == "not_recipient":
        is_preview = row is not None and row.created_by_user_id == query.from_user.id
        await query.answer(
            render.preview_ack_answer() if is_preview else render.ack_answer("", None, timezone),
            show_alert=True,
        )
        return
    await query.answer(render.ack_answer(result.outcome, result.at, timezone))
    if isinstance(query.message, Message) and result.at is not None:
        try:
            await query.message.edit_reply_markup(
                reply_markup=render.acked_keyboard(callback_data.b, result.at, timezone)
            )
        except TelegramAPIError as error:  # the same mark already, or the message is too old
            log.info("收到 mark not shown: %s", error)
