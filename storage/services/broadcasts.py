"""Broadcasts: the office's notices to an audience of contacts, and their acknowledgements.

No Telegram: the bot's /broadcast, `taizhang broadcast` and a web console call the same
functions. Every change asks `staff.authorize(..., admin=True)` first; reading asks for staff.

A broadcast is a draft until an admin confirms it (once: a second confirm changes nothing),
then `scheduled` (a time was given) or `sending`, then `done`; or `cancelled`, which withdraws
its messages not yet sent. Its audience is written by ids:

- `all` — every contact of every active unit;
- `kind:KIND` — the units of a kind (department, township, street, section);
- `plan:ID` — the units that answer for a task of the plan;
- `late:ROUND_ID` — the units of the round's plan that have not submitted it yet;
- `units:ID,ID` — units picked by hand.

On confirming, each reachable contact of those units becomes a recipient; contacts who share
a chat (one person for two units) share one message, keyed `broadcast:ID:CHAT` in the outbox.
The messages are queued by scheduler.broadcasts into the outbox (storage.services.outbox).
The text keeps the staff member's formatting as message entities: it is never parsed as HTML.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Assignment,
    Broadcast,
    BroadcastRecipient,
    Contact,
    OutboxMessage,
    Plan,
    Round,
    Submission,
    Task,
    Unit,
)
from storage.services import audit, outbox, staff
from storage.services.errors import NotFound, ServiceError
from storage.services.staff import StaffMember

DRAFT, SCHEDULED, SENDING, DONE, CANCELLED = "draft", "scheduled", "sending", "done", "cancelled"
KINDS = ("department", "township", "street", "section")
TEXT_LIMIT = 4096  # Telegram: a message's text, in UTF-16 code units
CAPTION_LIMIT = 1024  # a document's or photo's caption
FILE_LIMIT = 50 * 1024 * 1024  # bots send files up to 50 MB
OUTBOX_PREFIX = "broadcast:"

# Why a message could not be delivered, from the outbox's last error.
BLOCKED, DEACTIVATED, CHAT_NOT_FOUND, UNREACHABLE, OTHER = (
    "blocked",
    "deactivated",
    "chat_not_found",
    "unreachable",
    "other",
)


class BroadcastError(ServiceError):
    """code: empty_text · too_long (`count`, `limit`) · file_too_big (`size`) · bad_attachment ·
    bad_audience · nobody_reachable · already_confirmed · not_draft · finished ·
    time_past · outside_hours (`start`, `end`) · not_workday · not_asked (no 收到 asked)."""

    def __init__(self, code: str, message: str = "", **values: Any):
        super().__init__(message or code)
        self.code = code
        self.values = values


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Audience:
    spec: str  # all | kind:KIND | plan:ID | late:ROUND_ID | units:ID,ID
    kind: str  # all | kind | plan | late | units
    name: str  # the kind, the plan's title, the round's name, the units' short names
    timezone: str = "Asia/Shanghai"
    plan_id: int | None = None


@dataclass(frozen=True)
class Reached:
    contact_id: int
    unit_id: int
    chat_id: int
    name: str
    language: str | None


@dataclass
class Reach:
    """Whom an audience reaches now: people (chats), units, and the units nobody can be
    reached at (short names)."""

    audience: Audience
    contacts: list[Reached]
    units: int  # units with a reachable contact
    unreachable_units: list[str]

    @property
    def people(self) -> int:
        return len({c.chat_id for c in self.contacts})


@dataclass
class Progress:
    broadcast_id: int
    status: str
    recipients: int  # people (messages)
    sent: int = 0
    failed: int = 0
    pending: int = 0
    withdrawn: int = 0
    acknowledged: int = 0  # people who pressed 收到
    ask_ack: bool = False
    scheduled_at: dt.datetime | None = None
    finishes_at: dt.datetime | None = None  # an estimate while it sends

    def numbers(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
            "withdrawn": self.withdrawn,
            "status": self.status,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.broadcast_id,
            "status": self.status,
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "pending": self.pending,
            "withdrawn": self.withdrawn,
            "acknowledged": self.acknowledged,
            "ask_ack": self.ask_ack,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "finishes_at": self.finishes_at.isoformat() if self.finishes_at else None,
        }


@dataclass
class Summary:
    broadcast: Broadcast
    audience: Audience
    progress: Progress


@dataclass
class Confirmed:
    broadcast: Broadcast
    recipients: list[Reached]  # every recipient; one message per chat
    unreachable_units: list[str]


@dataclass
class Cancelled:
    broadcast: Broadcast
    withdrawn: int  # messages taken back before they went
    already: bool = False  # it was cancelled before


@dataclass
class Ack:
    """A press of 收到: `recorded` now, `already` before (at `at`), or `not_recipient`."""

    outcome: str
    broadcast_id: int
    at: dt.datetime | None = None


@dataclass
class UnitAcks:
    unit_id: int
    label: str
    acknowledged: list[str] = field(default_factory=list)  # contacts' names
    waiting: list[str] = field(default_factory=list)  # got it, not yet pressed 收到
    not_delivered: list[str] = field(default_factory=list)  # failed or still pending

    @property
    def done(self) -> bool:
        return bool(self.acknowledged)


@dataclass
class ToRemind:
    contact_id: int
    chat_id: int
    language: str | None
    message_id: int | None  # the broadcast's message in their chat, to reply to


@dataclass
class ReportLine:
    unit: str
    contact: str
    phone: str
    chat_id: int
    status: str  # sent | failed | pending | withdrawn | unreachable
    reason: str  # blocked | deactivated | chat_not_found | unreachable | other | ""
    error: str
    sent_at: dt.datetime | None
    acked_at: dt.datetime | None


# ------------------------------------------------------------------ audiences


async def _get(session: AsyncSession, broadcast_id: int) -> Broadcast:
    row = await session.get(Broadcast, broadcast_id)
    if row is None:
        raise NotFound(f"no broadcast {broadcast_id} (see `taizhang broadcast list`)")
    return row


def _unit_label(unit: Unit) -> str:
    return unit.short_name or unit.name


async def audience_of(session: AsyncSession, spec: str) -> Audience:
    """The audience a spec names; BroadcastError bad_audience when it names nothing."""
    kind, _, value = spec.partition(":")
    if kind == "all" and not value:
        return Audience("all", "all", "")
    if kind == "kind" and value in KINDS:
        return Audience(spec, "kind", value)
    if kind == "plan" and value.isdigit():
        plan = await session.get(Plan, int(value))
        if plan is not None:
            return Audience(spec, "plan", plan.title, plan.timezone, plan.id)
    if kind == "late" and value.isdigit():
        row = (
            await session.exec(
                select(Round, Plan)
                .join(Plan, Plan.id == Round.plan_id)
                .where(Round.id == int(value))
            )
        ).first()
        if row is not None:
            round_, plan = row
            return Audience(spec, "late", f"{round_.name}", plan.timezone, plan.id)
    if kind == "units" and value:
        ids = [int(v) for v in value.split(",") if v.strip().isdigit()]
        units = (await session.exec(select(Unit).where(Unit.id.in_(ids)))).all() if ids else []
        if units and len(units) == len(set(ids)):
            by_id = {u.id: u for u in units}
            names = "、".join(_unit_label(by_id[i]) for i in dict.fromkeys(ids))
            spec = "units:" + ",".join(str(i) for i in dict.fromkeys(ids))
            return Audience(spec, "units", names)
    raise BroadcastError("bad_audience", f"no such audience: {spec!r}")


async def parse_audience(session: AsyncSession, text: str) -> str:
    """The command line's `--to`: all | kind:KIND | plan:KEY | late:ROUND | units:A,B (names,
    short names or aliases; a round by id or due date) → the spec by ids."""
    from storage.services.invites import find_unit
    from storage.services.rounds import find_round

    kind, _, value = text.strip().partition(":")
    value = value.strip()
    if kind == "all" and not value:
        return "all"
    if kind == "kind":
        if value not in KINDS:
            raise BroadcastError(
                "bad_audience", f"unknown unit kind {value!r}: one of {', '.join(KINDS)}"
            )
        return f"kind:{value}"
    if kind == "plan" and value:
        plan = (await session.exec(select(Plan).where(Plan.key == value))).first()
        if plan is None and value.isdigit():
            plan = await session.get(Plan, int(value))
        if plan is None:
            raise NotFound(f"no plan {value!r} (see `taizhang plan list`)")
        return f"plan:{plan.id}"
    if kind == "late" and value:
        return f"late:{(await find_round(session, value)).id}"
    if kind == "units" and value:
        names = [n.strip() for n in value.replace("，", ",").split(",") if n.strip()]
        ids = [(await find_unit(session, name)).id for name in names]
        return "units:" + ",".join(str(i) for i in dict.fromkeys(ids))
    raise BroadcastError(
        "bad_audience", f"--to {text!r}: write all, kind:KIND, plan:PLAN, late:ROUND or units:A,B"
    )


async def _audience_units(session: AsyncSession, audience: Audience) -> list[Unit]:
    query = select(Unit).where(Unit.active.is_(True))
    value = audience.spec.partition(":")[2]
    if audience.kind == "kind":
        query = query.where(Unit.kind == value)
    elif audience.kind in ("plan", "late"):
        assigned = (
            select(Assignment.unit_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Task.plan_id == audience.plan_id, Task.retired.is_(False))
        )
        query = query.where(Unit.id.in_(assigned))
        if audience.kind == "late":
            submitted = select(Submission.unit_id).where(Submission.round_id == int(value))
            query = query.where(Unit.id.not_in(submitted))
    elif audience.kind == "units":
        query = query.where(Unit.id.in_([int(v) for v in value.split(",")]))
    return list((await session.exec(query.order_by(Unit.position, Unit.id))).all())


async def reach(session: AsyncSession, by: int | StaffMember, spec: str) -> Reach:
    """Whom the audience reaches now, and which of its units nobody can be reached at."""
    await staff.authorize(session, by)
    return await _reach(session, await audience_of(session, spec))


async def _reach(session: AsyncSession, audience: Audience) -> Reach:
    units = await _audience_units(session, audience)
    contacts: dict[int, list[Reached]] = defaultdict(list)
    if units:
        rows = (
            await session.exec(
                select(Contact)
                .where(
                    Contact.unit_id.in_([u.id for u in units]),
                    Contact.active.is_(True),
                    Contact.reachable.is_(True),
                )
                .order_by(Contact.unit_id, Contact.id)
            )
        ).all()
        for c in rows:
            contacts[c.unit_id].append(Reached(c.id, c.unit_id, c.chat_id, c.name, c.language))
    return Reach(
        audience=audience,
        contacts=[c for u in units for c in contacts.get(u.id, [])],
        units=sum(1 for u in units if contacts.get(u.id)),
        unreachable_units=[_unit_label(u) for u in units if not contacts.get(u.id)],
    )


async def audience_choices(session: AsyncSession, by: int | StaffMember) -> dict[str, Any]:
    """What an audience can be made of: unit counts by kind, the plans, the open rounds."""
    await staff.authorize(session, by)
    kinds = dict(
        (
            await session.exec(
                select(Unit.kind, func.count()).where(Unit.active.is_(True)).group_by(Unit.kind)
            )
        ).all()
    )
    plans = (await session.exec(select(Plan.id, Plan.title).order_by(Plan.id))).all()
    rounds = (
        await session.exec(
            select(Round.id, Round.name, Plan.title)
            .join(Plan, Plan.id == Round.plan_id)
            .where(Round.status == "open")
            .order_by(Round.due_date, Round.id)
        )
    ).all()
    return {
        "kinds": {k: kinds[k] for k in KINDS if kinds.get(k)},
        "plans": [(pid, title) for pid, title in plans],
        "rounds": [(rid, name, title) for rid, name, title in rounds],
    }


async def units_to_pick(session: AsyncSession, by: int | StaffMember) -> list[tuple[int, str]]:
    """Every active unit (id, short name), in directory order, for picking by hand."""
    await staff.authorize(session, by)
    rows = (
        await session.exec(
            select(Unit)
            .where(Unit.active.is_(True))
            .order_by(Unit.directory_id, Unit.position, Unit.id)
        )
    ).all()
    return [(u.id, _unit_label(u)) for u in rows]


# ------------------------------------------------------------------ composing


def check_text(text: str, *, attachment: bool = False) -> str:
    """The text as it will go; BroadcastError for an empty one or one over Telegram's limit
    (4,096, or 1,024 as the caption of an attachment), with its length."""
    if not text or not text.strip():
        raise BroadcastError("empty_text", "a broadcast needs some text")
    limit = CAPTION_LIMIT if attachment else TEXT_LIMIT
    count = text_length(text)
    if count > limit:
        raise BroadcastError(
            "too_long",
            f"the text has {count} characters; Telegram takes at most {limit}"
            + (" as the caption of a file" if attachment else ""),
            count=count,
            limit=limit,
        )
    return text


async def create_draft(
    session: AsyncSession,
    by: int | StaffMember,
    *,
    audience: str,
    text: str,
    entities: list[dict[str, Any]] | None = None,
    attachment_kind: str = "",
    attachment_file_id: str = "",
    attachment_name: str = "",
    attachment_size: int = 0,
    ask_ack: bool = False,
    now: dt.datetime,
) -> Broadcast:
    """A draft broadcast (nothing is sent before `confirm`); admins only. The caller commits."""
    member = await staff.authorize(session, by, admin=True)
    if attachment_kind not in ("", "document", "photo") or (
        attachment_kind and not attachment_file_id
    ):
        raise BroadcastError("bad_attachment", "an attachment is a document or a photo")
    if attachment_size > FILE_LIMIT:
        raise BroadcastError(
            "file_too_big",
            f"the file has {attachment_size / 1024 / 1024:.1f} MB; bots send at most 50 MB",
            size=attachment_size,
        )
    check_text(text, attachment=bool(attachment_kind))
    found = await audience_of(session, audience)
    row = Broadcast(
        status=DRAFT,
        audience=found.spec,
        audience_label=found.name,
        text=text,
        entities=list(entities or []),
        attachment_kind=attachment_kind,
        attachment_file_id=attachment_file_id,
        attachment_name=attachment_name,
        attachment_size=attachment_size,
        ask_ack=ask_ack,
        timezone=found.timezone,
        created_by_user_id=member.telegram_user_id,
        created_by_label=member.label,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def draft(session: AsyncSession, by: int | StaffMember, broadcast_id: int) -> Broadcast:
    """A draft to change or confirm; BroadcastError not_draft once it was confirmed."""
    await staff.authorize(session, by, admin=True)
    row = await _get(session, broadcast_id)
    if row.status != DRAFT:
        raise BroadcastError("not_draft", f"broadcast {broadcast_id} is {row.status}")
    return row


async def set_ack(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int, ask_ack: bool
) -> Broadcast:
    row = await draft(session, by, broadcast_id)
    row.ask_ack = ask_ack
    await session.flush()
    return row


async def set_time(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int, at: dt.datetime | None
) -> Broadcast:
    """When the draft goes (None: at once). The time is checked by scheduler.broadcasts."""
    row = await draft(session, by, broadcast_id)
    row.scheduled_at = at
    await session.flush()
    return row


async def preview(session: AsyncSession, by: int | StaffMember, broadcast_id: int) -> Reach:
    """Whom the draft would reach if confirmed now."""
    await staff.authorize(session, by, admin=True)
    row = await _get(session, broadcast_id)
    return await _reach(session, await audience_of(session, row.audience))


def outbox_key(broadcast_id: int, chat_id: int) -> str:
    return f"{OUTBOX_PREFIX}{broadcast_id}:{chat_id}"


def progress_key(broadcast_id: int, edit: int) -> str:
    """The outbox key of a progress message's `edit`-th edit."""
    return f"broadcast-progress:{broadcast_id}:{edit}"


async def _last_edit_at(session: AsyncSession, row: Broadcast) -> dt.datetime | None:
    """When the progress message last changed: its last edit's delivery (or queueing, if that
    row is gone). None while that edit still waits in the outbox."""
    if not row.progress_edits:
        return row.progress_at
    last = (
        await session.exec(
            select(OutboxMessage.status, OutboxMessage.sent_at).where(
                OutboxMessage.dedupe_key == progress_key(row.id, row.progress_edits)
            )
        )
    ).first()
    if last is not None and last.status in (outbox.QUEUED, outbox.SENDING):
        return None
    moments = [row.progress_at, last.sent_at if last is not None else None]
    return max((outbox.aware_utc(m) for m in moments if m is not None), default=None)


async def confirm(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    *,
    now: dt.datetime,
    progress_chat_id: int | None = None,
    progress_message_id: int | None = None,
) -> Confirmed:
    """Fix the recipients and move the draft on (scheduled, or sending); the caller queues the
    messages in the same transaction. Only a draft is confirmed, once: a second confirm raises
    BroadcastError already_confirmed and changes nothing; nobody reachable raises
    nobody_reachable, and it stays a draft. A time of `set_time` in the past is refused."""
    member = await staff.authorize(session, by, admin=True)
    row = await _get(session, broadcast_id)
    if row.status != DRAFT:
        raise BroadcastError("already_confirmed", f"broadcast {broadcast_id} is {row.status}")
    if row.scheduled_at is not None and row.scheduled_at <= now:
        raise BroadcastError("time_past", "the time set for it has passed")
    found = await _reach(session, await audience_of(session, row.audience))
    if not found.contacts:
        raise BroadcastError(
            "nobody_reachable", "nobody in this audience can be reached by the bot"
        )
    status = SCHEDULED if row.scheduled_at is not None else SENDING
    claimed = await (await session.connection()).execute(
        update(Broadcast.__table__)
        .where(Broadcast.__table__.c.id == broadcast_id, Broadcast.__table__.c.status == DRAFT)
        .values(
            status=status,
            confirmed_at=now,
            progress_chat_id=progress_chat_id,
            progress_message_id=progress_message_id,
            progress_at=now,
        )
    )
    if claimed.rowcount != 1:  # a second confirm at the same moment
        raise BroadcastError("already_confirmed", f"broadcast {broadcast_id} was confirmed")
    session.add_all(
        BroadcastRecipient(
            broadcast_id=broadcast_id,
            contact_id=c.contact_id,
            unit_id=c.unit_id,
            chat_id=c.chat_id,
            outbox_key=outbox_key(broadcast_id, c.chat_id),
        )
        for c in found.contacts
    )
    await session.flush()
    await session.refresh(row)
    await audit.record(
        session,
        member,
        "broadcast.confirm",
        detail={
            "broadcast": broadcast_id,
            "audience": row.audience,
            "people": found.people,
            "units": found.units,
            "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None,
        },
        now=now,
    )
    return Confirmed(row, found.contacts, found.unreachable_units)


def _ours(broadcast_id: int):
    return select(BroadcastRecipient.outbox_key).where(
        BroadcastRecipient.broadcast_id == broadcast_id
    )


async def cancel(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int, *, now: dt.datetime
) -> Cancelled:
    """Cancel a draft, a scheduled or a sending broadcast: every message not yet on its way
    is withdrawn (queued, or claimed by a sender that has not started the call). What is
    sent stays sent. A finished broadcast raises BroadcastError finished."""
    member = await staff.authorize(session, by, admin=True)
    row = await _get(session, broadcast_id)
    if row.status == CANCELLED:
        return Cancelled(row, 0, already=True)
    if row.status == DONE:
        raise BroadcastError("finished", f"broadcast {broadcast_id} was already sent")
    withdrawn = await outbox.withdraw(session, _ours(broadcast_id), reason="broadcast cancelled")
    row.status = CANCELLED
    row.cancelled_at = now
    await session.flush()
    await audit.record(
        session,
        member,
        "broadcast.cancel",
        detail={"broadcast": broadcast_id, "withdrawn": withdrawn},
        now=now,
    )
    return Cancelled(row, withdrawn)


# ------------------------------------------------------------------ progress


async def _counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Messages (one per chat) of the broadcast by outbox status."""
    return await outbox.counts_by_status(session, _ours(broadcast_id))


async def _acknowledged(session: AsyncSession, broadcast_id: int) -> int:
    return (
        await session.exec(
            select(func.count(func.distinct(BroadcastRecipient.chat_id))).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.acked_at.is_not(None),
            )
        )
    ).one()


async def _progress(
    session: AsyncSession, row: Broadcast, now: dt.datetime | None, rate: float | None
) -> Progress:
    counts = await _counts(session, row.id)
    result = Progress(
        broadcast_id=row.id,
        status=row.status,
        recipients=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("queued", 0) + counts.get("sending", 0),
        withdrawn=counts.get(outbox.WITHDRAWN, 0),
        acknowledged=await _acknowledged(session, row.id) if row.ask_ack else 0,
        ask_ack=row.ask_ack,
        scheduled_at=row.scheduled_at,
    )
    if now is not None and result.pending and row.status in (SENDING, SCHEDULED):
        result.finishes_at = _finishes_at(row, result, now, rate or 25.0)
    return result


MEASURE_AFTER = 10.0  # seconds of sending before the pace seen says more than the one set


def _finishes_at(row: Broadcast, found: Progress, now: dt.datetime, rate: float) -> dt.datetime:
    """When the last message should go: at the sender's pace, or at the pace seen once it has
    sent a while and is clearly slower (429s, retries, the staff's other messages)."""
    start = max(filter(None, (row.confirmed_at, row.scheduled_at)), default=now)
    elapsed = (now - start).total_seconds()
    pace = rate
    if elapsed >= MEASURE_AFTER:  # the first seconds are the first round trips, not a pace
        pace = min(rate, max((found.sent + found.failed) / elapsed, 0.1))
    return max(now, row.scheduled_at or now) + dt.timedelta(seconds=found.pending / pace)


async def progress(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    *,
    now: dt.datetime | None = None,
    rate: float | None = None,
) -> Progress:
    """Sent, failed, pending, withdrawn and acknowledged, with an estimate of the end."""
    await staff.authorize(session, by)
    return await _progress(session, await _get(session, broadcast_id), now, rate)


async def summary(
    session: AsyncSession,
    by: int | StaffMember,
    broadcast_id: int,
    *,
    now: dt.datetime | None = None,
    rate: float | None = None,
) -> Summary:
    await staff.authorize(session, by)
    row = await _get(session, broadcast_id)
    return Summary(
        row, await audience_of(session, row.audience), await _progress(session, row, now, rate)
    )


async def list_broadcasts(
    session: AsyncSession, by: int | StaffMember, *, limit: int = 20, drafts: bool = False
) -> list[Summary]:
    """The newest broadcasts first (confirmed ones, and drafts when asked)."""
    await staff.authorize(session, by)
    query = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
    if not drafts:
        query = query.where(Broadcast.status != DRAFT)
    rows = (await session.exec(query)).all()
    return [
        Summary(
            row,
            await audience_of(session, row.audience),
            await _progress(session, row, None, None),
        )
        for row in rows
    ]


@dataclass
class ProgressUpdate:
    broadcast: Broadcast
    progress: Progress
    finished: bool  # it has just finished: the last edit


async def progress_updates(
    session: AsyncSession, *, now: dt.datetime, every: float, rate: float | None = None
) -> list[ProgressUpdate]:
    """The broadcasts whose progress message should be edited now: their numbers changed
    and the last edit is `every` seconds old (the last one, when it finishes, at once).
    Marks each as shown, moves a scheduled one whose time came to sending, and a sending one
    with nothing left to done. For the bot's own job; the caller queues the edits and commits."""
    rows = (
        await session.exec(
            select(Broadcast)
            .where(Broadcast.status.in_([SCHEDULED, SENDING]))
            .order_by(Broadcast.id)
        )
    ).all()
    updates: list[ProgressUpdate] = []
    for row in rows:
        if row.status == SCHEDULED:
            if row.scheduled_at is not None and row.scheduled_at > now:
                continue
            row.status = SENDING
        found = await _progress(session, row, now, rate)
        finished = found.pending == 0
        if finished:
            row.status = found.status = DONE
            row.finished_at = now
        shown = found.numbers()
        if row.progress_message_id is None or (shown == row.progress_shown and not finished):
            continue
        if not finished:  # the last edit goes at once, the others `every` seconds apart
            last = await _last_edit_at(session, row)
            waiting = row.progress_edits and last is None  # the one before has not gone
            if waiting or (last is not None and (now - last).total_seconds() < every):
                continue
        row.progress_shown = shown
        row.progress_at = now
        row.progress_edits += 1
        updates.append(ProgressUpdate(row, found, finished))
    await session.flush()
    return updates


# ------------------------------------------------------------------ acknowledgement


async def acknowledge(
    session: AsyncSession, telegram_user_id: int, broadcast_id: int, *, now: dt.datetime
) -> Ack:
    """A recipient pressed 收到: recorded once, for every contact of theirs the broadcast
    reached; pressing again changes nothing."""
    table = BroadcastRecipient.__table__
    mine = select(Contact.id).where(Contact.telegram_user_id == telegram_user_id)
    row = await session.get(Broadcast, broadcast_id)
    if row is None or not row.ask_ack:
        return Ack("not_recipient", broadcast_id)
    result = await (await session.connection()).execute(
        update(table)
        .where(
            table.c.broadcast_id == broadcast_id,
            table.c.contact_id.in_(mine),
            table.c.acked_at.is_(None),
        )
        .values(acked_at=now, acked_by_user_id=telegram_user_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        return Ack("recorded", broadcast_id, now)
    before = (
        await session.exec(
            select(func.min(BroadcastRecipient.acked_at)).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.contact_id.in_(mine),
            )
        )
    ).one()
    if before is None:
        return Ack("not_recipient", broadcast_id)
    if before.tzinfo is None:
        before = before.replace(tzinfo=dt.UTC)
    return Ack("already", broadcast_id, before)


async def _recipient_rows(session: AsyncSession, broadcast_id: int):
    message = OutboxMessage
    return (
        await session.exec(
            select(BroadcastRecipient, Contact, Unit, message)
            .join(Contact, Contact.id == BroadcastRecipient.contact_id)
            .join(Unit, Unit.id == BroadcastRecipient.unit_id)
            .outerjoin(message, message.dedupe_key == BroadcastRecipient.outbox_key)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .order_by(Unit.position, Unit.id, Contact.id)
        )
    ).all()


async def acks_by_unit(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int
) -> list[UnitAcks]:
    """Per unit reached: who pressed 收到, who got it and has not, who did not get it yet."""
    await staff.authorize(session, by)
    row = await _get(session, broadcast_id)
    if not row.ask_ack:
        raise BroadcastError("not_asked", "this broadcast did not ask for 收到")
    units: dict[int, UnitAcks] = {}
    for recipient, contact, unit, message in await _recipient_rows(session, broadcast_id):
        line = units.setdefault(unit.id, UnitAcks(unit.id, _unit_label(unit)))
        name = contact.name or str(contact.telegram_user_id)
        if recipient.acked_at is not None:
            line.acknowledged.append(name)
        elif message is not None and message.status == "sent":
            line.waiting.append(name)
        else:
            line.not_delivered.append(name)
    return list(units.values())


async def to_remind(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int, *, now: dt.datetime
) -> tuple[Broadcast, list[ToRemind]]:
    """The people who got the broadcast and have not pressed 收到 (one per chat), to be asked
    again; counts the reminder. Admins only; the caller queues and commits."""
    member = await staff.authorize(session, by, admin=True)
    row = await _get(session, broadcast_id)
    if not row.ask_ack:
        raise BroadcastError("not_asked", "this broadcast did not ask for 收到")
    acked_chats = {
        r.chat_id
        for r, *_ in await _recipient_rows(session, broadcast_id)
        if r.acked_at is not None
    }
    people: dict[int, ToRemind] = {}
    for recipient, contact, _unit, message in await _recipient_rows(session, broadcast_id):
        if recipient.chat_id in acked_chats or message is None or message.status != "sent":
            continue
        if not (contact.active and contact.reachable):
            continue
        people.setdefault(
            recipient.chat_id,
            ToRemind(contact.id, recipient.chat_id, contact.language, message.telegram_message_id),
        )
    if people:
        row.reminders += 1
        await session.flush()
        await audit.record(
            session,
            member,
            "broadcast.remind",
            detail={"broadcast": broadcast_id, "people": len(people), "n": row.reminders},
            now=now,
        )
    return row, list(people.values())


# ------------------------------------------------------------------ the delivery report


def failure_reason(error: str) -> str:
    low = error.lower()
    if "blocked" in low:
        return BLOCKED
    if "deactivated" in low or "deleted" in low:
        return DEACTIVATED
    if "chat not found" in low or "user not found" in low:
        return CHAT_NOT_FOUND
    return OTHER


async def delivery_report(
    session: AsyncSession, by: int | StaffMember, broadcast_id: int
) -> tuple[Broadcast, list[ReportLine]]:
    """Every recipient and what became of their message (why it failed: blocked,
    deactivated, chat not found), and the contacts of the audience's units who could not be
    reached when it was confirmed."""
    await staff.authorize(session, by)
    row = await _get(session, broadcast_id)
    lines: list[ReportLine] = []
    contact_ids: set[int] = set()
    for recipient, contact, unit, message in await _recipient_rows(session, broadcast_id):
        contact_ids.add(contact.id)
        status = message.status if message is not None else "pending"
        status = "pending" if status in ("queued", "sending") else status
        error = message.last_error if message is not None and status == "failed" else ""
        lines.append(
            ReportLine(
                unit=unit.name,
                contact=contact.name,
                phone=contact.phone,
                chat_id=recipient.chat_id,
                status=status,
                reason=failure_reason(error) if status == "failed" else "",
                error=error,
                sent_at=message.sent_at if message is not None else None,
                acked_at=recipient.acked_at,
            )
        )
    if row.status != DRAFT:  # the audience's contacts the bot could not reach at all
        units = await _audience_units(session, await audience_of(session, row.audience))
        if units:
            unreachable = (
                await session.exec(
                    select(Contact, Unit)
                    .join(Unit, Unit.id == Contact.unit_id)
                    .where(Contact.unit_id.in_([u.id for u in units]), Contact.active.is_(True))
                    .order_by(Unit.position, Unit.id, Contact.id)
                )
            ).all()
            for contact, unit in unreachable:
                if contact.id in contact_ids:
                    continue
                why = contact.unreachable_reason
                lines.append(
                    ReportLine(
                        unit=unit.name,
                        contact=contact.name,
                        phone=contact.phone,
                        chat_id=contact.chat_id,
                        status=UNREACHABLE,
                        reason=failure_reason(why) if why else UNREACHABLE,
                        error=why,
                        sent_at=None,
                        acked_at=None,
                    )
                )
    return row, lines


def report_xlsx(
    row: Broadcast,
    lines: list[ReportLine],
    columns: tuple[str, ...],
    headings: dict[str, str],
    words: dict[str, str],
) -> bytes:
    """The delivery report as an XLSX workbook: one row per recipient (failed ones first), the
    headings and the words for statuses and reasons in the reader's language."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    order = {"failed": 0, UNREACHABLE: 1, "pending": 2, outbox.WITHDRAWN: 3, "sent": 4}
    book = Workbook()
    sheet = book.active
    sheet.title = f"broadcast {row.id}"
    sheet.append([headings.get(c, c) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)

    def value(line: ReportLine, column: str) -> Any:
        found = getattr(line, column)
        if isinstance(found, dt.datetime):
            from zoneinfo import ZoneInfo

            return found.astimezone(ZoneInfo(row.timezone)).strftime("%Y-%m-%d %H:%M:%S")
        if column in ("status", "reason"):
            return words.get(found, found)
        return found

    for line in sorted(lines, key=lambda x: order.get(x.status, 5)):
        sheet.append([value(line, c) for c in columns])
    for letter, width in zip("ABCDEFGH", (24, 12, 14, 10, 14, 40, 20, 20), strict=False):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
