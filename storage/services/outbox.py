"""The outbox queue: every message the bot sends on its own is a row here first.

This is state, so it lives with the services: queuing (idempotent by dedupe key: INSERT …
ON CONFLICT DO NOTHING, so a repeated sweep, a restart or a second instance never queues a
message twice), withdrawing what has not gone, and looking at the table. The sender that
turns rows into Bot API calls is `scheduler.outbox.Sender`; docs/delivery.md states what the
two together guarantee.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage

OUTBOX = OutboxMessage.__table__
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
WITHDRAWN = "withdrawn"  # taken back before it went (a cancelled broadcast)
IN_FLIGHT = "!"  # appended to claimed_by once the call starts: the row may have been sent
TELEGRAM, EMAIL = "telegram", "email"  # channels: each has its own sender over this queue


# ---------------------------------------------------------------- queuing


@dataclass(frozen=True)
class NewMessage:
    """A message to queue. `dedupe_key` names it: the same key is never queued twice."""

    dedupe_key: str
    kind: str  # reminder | escalation | staff_notice | receipt | broadcast
    chat_id: int
    payload: dict[str, Any]
    method: str = "sendMessage"
    contact_id: int | None = None
    not_before: dt.datetime | None = None
    channel: str = TELEGRAM  # or EMAIL: chat_id is then the contact's id (scheduler/email_sender)


async def enqueue(
    session: AsyncSession,
    messages: Sequence[NewMessage] = (),
    *,
    now: dt.datetime | None = None,
    **one: Any,
) -> int:
    """Insert the messages whose keys are new, in one statement; returns how many were new.

    Give a list of NewMessage, or one message's fields as keywords
    (`enqueue(session, dedupe_key=..., kind=..., chat_id=..., payload={...})`). A payload
    without `chat_id` is sent to the row's chat. The count is read just before inserting, so
    two sweeps at the same instant may both count a message; the rows are never doubled.
    The caller commits.
    """
    if one:
        messages = [*messages, NewMessage(**one)]
    if not messages:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    unique = {m.dedupe_key: m for m in messages}
    keys = sorted(unique)  # one order for everyone, so concurrent inserts cannot deadlock
    connection = await session.connection()
    dialect = connection.dialect.name
    existing = await _count_existing(connection, dialect, keys)
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(OUTBOX)
    rows = [_row(unique[key], now) for key in keys]
    await connection.execute(insert.on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
    return len(keys) - existing


async def _count_existing(connection: Any, dialect: str, keys: list[str]) -> int:
    """How many of the keys are queued already, with one bound parameter whatever their number."""
    if dialect == "postgresql":
        query = text("SELECT count(*) FROM outbox WHERE dedupe_key = ANY(:keys)").bindparams(
            bindparam("keys", type_=postgresql.ARRAY(OUTBOX.c.dedupe_key.type))
        )
        return (await connection.execute(query, {"keys": keys})).scalar_one()
    query = text(
        "SELECT count(*) FROM outbox WHERE dedupe_key IN (SELECT value FROM json_each(:keys))"
    )
    return (await connection.execute(query, {"keys": json.dumps(keys)})).scalar_one()


def _row(message: NewMessage, now: dt.datetime) -> dict[str, Any]:
    return {
        "dedupe_key": message.dedupe_key,
        "kind": message.kind,
        "channel": message.channel,
        "chat_id": message.chat_id,
        "contact_id": message.contact_id,
        "method": message.method,
        "payload": message.payload,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": message.not_before or now,
        "claimed_by": "",
        "last_error": "",
        "created_at": now,
    }


async def withdraw(session: AsyncSession, keys: Any, *, reason: str) -> int:
    """Take back the rows of `keys` (a list, or a SELECT of dedupe keys) that have not gone:
    queued, or claimed by a sender that has not started the call. Returns how many."""
    result = await (await session.connection()).execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.dedupe_key.in_(keys),
            or_(
                OUTBOX.c.status == QUEUED,
                and_(OUTBOX.c.status == SENDING, OUTBOX.c.claimed_by.not_like(f"%{IN_FLIGHT}")),
            ),
        )
        .values(status=WITHDRAWN, claimed_by="", last_error=f"withdrawn: {reason}")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def counts_by_status(session: AsyncSession, keys: Any) -> dict[str, int]:
    """How many of the rows of `keys` (a list, or a SELECT of dedupe keys) are in each status."""
    rows = (
        await (await session.connection()).execute(
            select(OUTBOX.c.status, func.count())
            .where(OUTBOX.c.dedupe_key.in_(keys))
            .group_by(OUTBOX.c.status)
        )
    ).all()
    return {status: count for status, count in rows}


def aware_utc(moment: dt.datetime) -> dt.datetime:
    """Raw SELECTs of min() skip the column type; SQLite hands back naive UTC."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------- looking at the table


@dataclass
class OutboxStats:
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]]  # kind → status → count
    oldest_queued: dt.datetime | None
    next_attempt: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "by_status": self.by_status,
            "by_kind": self.by_kind,
            "oldest_queued": self.oldest_queued.isoformat() if self.oldest_queued else None,
            "next_attempt": self.next_attempt.isoformat() if self.next_attempt else None,
        }


async def outbox_stats(session: AsyncSession) -> OutboxStats:
    connection = await session.connection()
    counts = (
        await connection.execute(
            select(OUTBOX.c.kind, OUTBOX.c.status, func.count()).group_by(
                OUTBOX.c.kind, OUTBOX.c.status
            )
        )
    ).all()
    by_status = dict.fromkeys((QUEUED, SENDING, SENT, FAILED), 0)
    by_kind: dict[str, dict[str, int]] = {}
    for kind, status, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        by_kind.setdefault(kind, {})[status] = count
    queued = (
        await connection.execute(
            select(func.min(OUTBOX.c.created_at), func.min(OUTBOX.c.next_attempt_at)).where(
                OUTBOX.c.status == QUEUED
            )
        )
    ).one()
    oldest, next_attempt = (aware_utc(value) if value else None for value in queued)
    return OutboxStats(by_status, dict(sorted(by_kind.items())), oldest, next_attempt)


async def list_outbox(
    session: AsyncSession,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[OutboxMessage]:
    """The newest rows first, optionally of one status and kind."""
    query = sqlmodel_select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list((await session.exec(query)).all())


async def retry_failed(
    session: AsyncSession, ids: Sequence[int] | None = None, *, now: dt.datetime | None = None
) -> int:
    """Put failed rows back in the queue with fresh attempts (all of them, or those named)."""
    query = (
        update(OUTBOX)
        .where(OUTBOX.c.status == FAILED)
        .values(status=QUEUED, attempts=0, next_attempt_at=now or dt.datetime.now(dt.UTC))
    )
    if ids is not None:
        query = query.where(OUTBOX.c.id.in_(list(ids)))
    result = await (await session.connection()).execute(query)
    return result.rowcount
