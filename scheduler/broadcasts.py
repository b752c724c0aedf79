"""Broadcasts through the outbox: each recipient's message, the staff's progress message, and
the "please confirm" reminder.

The decisions are storage.services.broadcasts' (admins only, confirmed once, whom it
reaches); this module words and queues the messages in the same transaction:

- one message per recipient chat, key `broadcast:ID:CHAT`: the staff member's text with its
  entities (parse_mode off, so nothing in it is read as HTML), or their document or photo
  with the text as its caption, and a 收到 button when acknowledgement is asked; a scheduled
  broadcast's rows wait in the queue until their time (`not_before`);
- the progress message in the staff chat, edited through the outbox too (key
  `broadcast-progress:ID:N`), so the edits share the sender's pacing (one a second to a
  chat at most) and its retries; `progress_job` queues an edit when the numbers changed and
  the last edit is PROGRESS_EVERY seconds old;
- a reminder to those who got it and have not pressed 收到: a short reply to their message,
  with the button again (key `broadcast-remind:ID:N:CHAT`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_, gettext_for
from scheduler.buttons import AckButton, BroadcastButton
from scheduler.policy import effective_policy
from storage.models import Broadcast, Plan
from storage.services import broadcasts as bc
from storage.services import staff
from storage.services.broadcasts import Audience, BroadcastError, Progress, Reached
from storage.services.calendar import load_work_calendar
from storage.services.outbox import NewMessage, enqueue
from storage.services.staff import StaffMember

PROGRESS_EVERY = 3.0  # seconds between edits of a progress message, at least

ACK = N_("Got it")
ACKED = N_("✅ Received {time}")
REMIND = N_("Please confirm that you received this notice from the office.")
AUDIENCE_ALL = N_("all contacts")
AUDIENCE_KIND = N_("units of a kind: {kind}")
AUDIENCE_PLAN = N_("units of the plan {name}")
AUDIENCE_LATE = N_("units that have not submitted {name}")
AUDIENCE_UNITS = N_("units: {names}")
KIND_NAMES = {
    "department": N_("Departments"),
    "township": N_("Townships"),
    "street": N_("Street offices"),
    "section": N_("Sections"),
}
TITLE = N_("📣 <b>Broadcast #{id}</b> to {audience}")
SCHEDULED_FOR = N_("🕒 Scheduled for {time}: {people} people will get it.")
SENDING = N_("Sending: {sent} sent · {failed} failed · {pending} pending (of {total}).")
FINISHES = N_("Finishes at about {time}.")
DONE = N_("Sent: {sent} sent · {failed} failed (of {total}).")
CANCELLED = N_("Cancelled: {sent} sent before it · {withdrawn} withdrawn · {failed} failed.")
ACKNOWLEDGED = N_("收到 pressed by {acked} of {sent} people.")
CANCEL_SENDING = N_("✖ Cancel sending")
ACKS_BUTTON = N_("👥 收到 by unit")
REPORT_BUTTON = N_("📄 Delivery report")
REFRESH_BUTTON = N_("🔄 Refresh")


def _local(moment: dt.datetime, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime(fmt)


def audience_text(audience: Audience, _: Callable[[str], str]) -> str:
    """The audience in words (HTML-escaped)."""
    if audience.kind == "all":
        return _(AUDIENCE_ALL)
    if audience.kind == "kind":
        return _(AUDIENCE_KIND).format(kind=_(KIND_NAMES.get(audience.name, audience.name)))
    if audience.kind == "plan":
        return _(AUDIENCE_PLAN).format(name=html.escape(audience.name))
    if audience.kind == "late":
        return _(AUDIENCE_LATE).format(name=html.escape(audience.name))
    names = audience.name if len(audience.name) <= 120 else audience.name[:118] + "…"
    return _(AUDIENCE_UNITS).format(names=html.escape(names))


# ------------------------------------------------------------------ the recipients' message


def ack_keyboard(broadcast_id: int, label: str) -> dict:
    return {
        "inline_keyboard": [[{"text": label, "callback_data": AckButton(b=broadcast_id).pack()}]]
    }


def message_payload(row: Broadcast, chat_id: int, language: str) -> tuple[str, dict]:
    """The Bot API method and payload of the broadcast's message as a recipient gets it (the
    preview sends the same)."""
    _ = gettext_for(language)
    payload: dict = {"chat_id": chat_id, "parse_mode": None}
    if row.attachment_kind:
        method = "sendDocument" if row.attachment_kind == "document" else "sendPhoto"
        payload[row.attachment_kind] = row.attachment_file_id
        payload["caption"] = row.text
        if row.entities:
            payload["caption_entities"] = row.entities
    else:
        method = "sendMessage"
        payload["text"] = row.text
        if row.entities:
            payload["entities"] = row.entities
    if row.ask_ack:
        payload["reply_markup"] = ack_keyboard(row.id, _(ACK))
    return method, payload


def recipient_messages(
    row: Broadcast, recipients: list[Reached], default_language: str
) -> list[NewMessage]:
    """One message per chat (a person who is a contact of two units gets it once)."""
    by_chat: dict[int, Reached] = {}
    for recipient in recipients:
        by_chat.setdefault(recipient.chat_id, recipient)
    messages = []
    for chat_id, recipient in by_chat.items():
        method, payload = message_payload(row, chat_id, recipient.language or default_language)
        messages.append(
            NewMessage(
                dedupe_key=bc.outbox_key(row.id, chat_id),
                kind="broadcast",
                chat_id=chat_id,
                contact_id=recipient.contact_id,
                method=method,
                payload=payload,
                not_before=row.scheduled_at,
            )
        )
    return messages


# ------------------------------------------------------------------ confirming, scheduling


def parse_time(text: str, timezone: str, now: dt.datetime) -> dt.datetime:
    """`YYYY-MM-DD HH:MM`, or `HH:MM` for today, in the zone → UTC; BroadcastError
    bad_time when it reads as neither."""
    zone = ZoneInfo(timezone)
    text = " ".join(text.replace("：", ":").split())
    try:
        if len(text) <= 5:
            clock = dt.time.fromisoformat(text.zfill(5))
            local = dt.datetime.combine(now.astimezone(zone).date(), clock, tzinfo=zone)
        else:
            local = dt.datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        raise BroadcastError("bad_time", f"{text!r}: write YYYY-MM-DD HH:MM") from None
    return local.astimezone(dt.UTC)


async def check_time(
    session: AsyncSession, row: Broadcast, at: dt.datetime, *, now: dt.datetime
) -> dt.datetime:
    """A time to send at: in the future, on a working day, within office hours in the zone
    of the audience's plan (its reminder policy's office hours; 09:00–18:00 by default)."""
    return await _check_time(session, row.audience, row.timezone, at, now=now)


async def time_for(
    session: AsyncSession, audience: str, text: str, *, now: dt.datetime
) -> dt.datetime:
    """The moment `text` names (as `parse_time` reads it, in the zone of the audience's
    plan), checked as `check_time`: for a caller that must know before the draft exists
    (the web console uploads a file only once everything else is right)."""
    found = await bc.audience_of(session, audience)
    at = parse_time(text, found.timezone, now)
    return await _check_time(session, found.spec, found.timezone, at, now=now)


async def _check_time(
    session: AsyncSession, spec: str, timezone: str, at: dt.datetime, *, now: dt.datetime
) -> dt.datetime:
    if at <= now:
        raise BroadcastError("time_past", "that time has passed")
    audience = await bc.audience_of(session, spec)
    layers = []
    if audience.plan_id is not None:
        plan = await session.get(Plan, audience.plan_id)
        layers = [plan.reminder_policy] if plan is not None else []
    try:
        policy = effective_policy(*layers, timezone=timezone)
    except ValueError:
        policy = effective_policy(timezone=timezone)
    local = at.astimezone(policy.zone)
    calendar = await load_work_calendar(session)
    if not calendar.is_workday(local.date()):
        raise BroadcastError(
            "not_workday", f"{local:%Y-%m-%d} is not a working day", day=f"{local:%Y-%m-%d}"
        )
    if not policy.office_start <= local.time() <= policy.office_end:
        raise BroadcastError(
            "outside_hours",
            f"{local:%H:%M} is outside office hours "
            f"({policy.office_start:%H:%M}–{policy.office_end:%H:%M})",
            time=f"{local:%H:%M}",
            start=f"{policy.office_start:%H:%M}",
            end=f"{policy.office_end:%H:%M}",
        )
    return at


async def schedule(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    at: dt.datetime | None,
    *,
    now: dt.datetime,
) -> Broadcast:
    """Set (or with None, drop) the draft's time, checked as `check_time`."""
    row = await bc.draft(session, by, broadcast_id)
    if at is not None:
        at = await check_time(session, row, at, now=now)
    return await bc.set_time(session, by, broadcast_id, at)


async def confirm_and_queue(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    *,
    now: dt.datetime,
    default_language: str = "zh_CN",
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> bc.Confirmed:
    """Confirm the draft (once) and queue its messages in the same transaction; a scheduled
    one's wait in the queue until its time. BroadcastError / StaffError as bc.confirm."""
    row = await bc.draft(session, by, broadcast_id)
    if row.scheduled_at is not None:
        await check_time(session, row, row.scheduled_at, now=now)
    confirmed = await bc.confirm(
        session,
        by,
        broadcast_id,
        now=now,
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
    )
    messages = recipient_messages(confirmed.broadcast, confirmed.recipients, default_language)
    await enqueue(session, messages, now=now)
    return confirmed


async def remind_unacknowledged(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    *,
    now: dt.datetime,
    default_language: str = "zh_CN",
) -> int:
    """Ask again, with the 收到 button, everyone who got it and has not pressed it; returns
    how many were queued."""
    row, people = await bc.to_remind(session, by, broadcast_id, now=now)
    messages = []
    for person in people:
        _ = gettext_for(person.language or default_language)
        payload: dict = {
            "chat_id": person.chat_id,
            "text": "📣 " + _(REMIND),
            "parse_mode": None,
            "reply_markup": ack_keyboard(row.id, _(ACK)),
        }
        if person.message_id:
            payload["reply_parameters"] = {
                "message_id": person.message_id,
                "allow_sending_without_reply": True,
            }
        messages.append(
            NewMessage(
                dedupe_key=f"broadcast-remind:{row.id}:{row.reminders}:{person.chat_id}",
                kind="broadcast",
                chat_id=person.chat_id,
                contact_id=person.contact_id,
                payload=payload,
            )
        )
    return await enqueue(session, messages, now=now)


# ------------------------------------------------------------------ progress


def progress_text(
    row: Broadcast, audience: Audience, found: Progress, _: Callable[[str], str]
) -> str:
    lines = [_(TITLE).format(id=row.id, audience=audience_text(audience, _))]
    if found.status == bc.SCHEDULED and row.scheduled_at is not None:
        lines.append(
            _(SCHEDULED_FOR).format(
                time=_local(row.scheduled_at, row.timezone), people=found.recipients
            )
        )
    elif found.status in (bc.SENDING, bc.SCHEDULED):
        lines.append(
            _(SENDING).format(
                sent=found.sent, failed=found.failed, pending=found.pending, total=found.recipients
            )
        )
        if found.finishes_at is not None:
            lines.append(
                _(FINISHES).format(time=_local(found.finishes_at, row.timezone, "%H:%M:%S"))
            )
    elif found.status == bc.CANCELLED:
        lines.append(
            _(CANCELLED).format(sent=found.sent, withdrawn=found.withdrawn, failed=found.failed)
        )
    else:
        lines.append(_(DONE).format(sent=found.sent, failed=found.failed, total=found.recipients))
    if found.ask_ack and found.sent:
        lines.append(_(ACKNOWLEDGED).format(acked=found.acknowledged, sent=found.sent))
    return "\n".join(lines)


def progress_keyboard(row: Broadcast, found: Progress, _: Callable[[str], str]) -> dict:
    def button(text: str, act: str) -> dict:
        return {"text": text, "callback_data": BroadcastButton(act=act, b=row.id).pack()}

    if found.status in (bc.SENDING, bc.SCHEDULED):
        rows = [[button(_(REFRESH_BUTTON), "show"), button(_(CANCEL_SENDING), "cancel")]]
    else:
        rows = [[button(_(REPORT_BUTTON), "report")]]
        if found.ask_ack:
            rows[0].insert(0, button(_(ACKS_BUTTON), "acks"))
    return {"inline_keyboard": rows}


async def progress_job(
    session: AsyncSession,
    *,
    now: dt.datetime,
    rate: float | None = None,
    default_language: str = "zh_CN",
    every: float = PROGRESS_EVERY,
) -> int:
    """Queue an edit of each progress message whose numbers changed, at most one per
    `every` seconds a broadcast (and the last one when it finishes). Returns how many."""
    updates = await bc.progress_updates(session, now=now, every=every, rate=rate)
    messages = []
    for item in updates:
        row = item.broadcast
        member = (
            await staff.find(session, row.created_by_user_id) if row.created_by_user_id else None
        )
        _ = gettext_for((member.language if member else None) or default_language)
        audience = await bc.audience_of(session, row.audience)
        messages.append(
            NewMessage(
                dedupe_key=bc.progress_key(row.id, row.progress_edits),
                kind="broadcast_progress",
                chat_id=row.progress_chat_id,
                method="editMessageText",
                payload={
                    "chat_id": row.progress_chat_id,
                    "message_id": row.progress_message_id,
                    "text": progress_text(row, audience, item.progress, _),
                    "parse_mode": "HTML",
                    "reply_markup": progress_keyboard(row, item.progress, _),
                },
                # The sender takes due rows oldest first: dated just before the broadcast's
                # own messages, the edit goes at once instead of after the last of them.
                not_before=min(now, row.confirmed_at or now) - dt.timedelta(seconds=1),
            )
        )
    return await enqueue(session, messages, now=now)
