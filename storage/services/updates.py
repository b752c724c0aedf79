"""Incoming updates as state: stored before they are acknowledged, marked handled with their
effects, tried again when handling fails, pruned after a while.

    await store(session, bot_id, [payload, ...])     # then commit, then acknowledge
    rows = await due(session, bot_id, busy_users)    # what to handle next, in each sender's order
    guard_commit(session, bot_id, update_id)         # the handler's commit also marks it handled
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, delete, event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboundUpdate
from storage.types import utcnow

PENDING, HANDLED, FAILED = "pending", "handled", "failed"
TABLE = InboundUpdate.__table__


class AlreadyHandled(Exception):
    """Another delivery of this update was handled first; this one must change nothing."""


def sender_of(payload: dict[str, Any]) -> int | None:
    """The user an update comes from (message, button press, chat member change …)."""
    for key, value in payload.items():
        if key != "update_id" and isinstance(value, dict):
            sender = value.get("from") or value.get("user")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return sender["id"]
    return None


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat an answer to the update goes to: the message's chat, else the sender's own."""
    for key, value in payload.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        message = value.get("message") if key == "callback_query" else value
        chat = (message or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
    return sender_of(payload)


def language_code_of(payload: dict[str, Any]) -> str | None:
    for key, value in payload.items():
        if key != "update_id" and isinstance(value, dict):
            sender = value.get("from") or {}
            if isinstance(sender, dict) and sender.get("language_code"):
                return sender["language_code"]
    return None


async def store(
    session: AsyncSession, bot_id: int, payloads: Iterable[dict[str, Any]], now=None
) -> int:
    """Keep the updates not seen before; returns how many were new. The caller commits."""
    now = now or utcnow()
    rows = {
        p["update_id"]: {
            "update_id": p["update_id"],
            "bot_id": bot_id,
            "payload": p,
            "user_id": sender_of(p),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "reported": False,
            "received_at": now,
        }
        for p in payloads
    }
    if not rows:
        return 0
    connection = await session.connection()
    known = await session.exec(_KNOWN, params={"bot_id": bot_id, "update_ids": list(rows)})
    seen = set(known.all())
    insert = _STORE[connection.dialect.name == "postgresql"]
    await connection.execute(insert, [rows[key] for key in sorted(rows)])
    return len(rows) - len(seen)


# Statements run for every update are built once, their values bound when they run: building
# one anew and keying it for the compiled cache cost more than running it.
_KNOWN = select(InboundUpdate.update_id).where(
    InboundUpdate.bot_id == bindparam("bot_id"),
    InboundUpdate.update_id.in_(bindparam("update_ids", expanding=True)),
)
_STORE = {  # on PostgreSQL?
    postgres: dialect.insert(TABLE).on_conflict_do_nothing(index_elements=["update_id", "bot_id"])
    for postgres, dialect in ((True, postgresql), (False, sqlite))
}


@dataclass
class Due:
    rows: list[InboundUpdate]  # to handle now, oldest first
    retry_at: dt.datetime | None  # when the next one waiting out its back-off may be tried


async def look(
    session: AsyncSession,
    bot_id: int,
    busy_users: set[int],
    *,
    busy_updates: Collection[int] = (),
    now: dt.datetime | None = None,
    limit: int = 200,
    take: int | None = None,
) -> Due:
    """Pending updates to handle now: for each sender only the oldest, so a person's messages
    are handled in the order they wrote them (a later one waits while an earlier is retried).
    Updates in `busy_updates` are in hand already, and the senders in `busy_users` wait for
    theirs: none of them is returned; at most `take` (else `limit`) are, oldest first.

    One statement finds and loads them (the database picks each sender's oldest); the next
    retry time is asked for only when fewer than asked for came back, when the worker may
    have nothing to do until then (else an update in hand wakes it when it is done)."""
    now = now or utcnow()
    wanted = take if take is not None else limit
    if wanted <= 0:
        return Due([], None)
    params = {
        "bot_id": bot_id,
        "now": now,
        "busy_updates": list(busy_updates),
        "busy_users": list(busy_users),
        "wanted": wanted,
    }
    rows = list((await session.exec(_DUE, params=params)).all())
    retry_at = None if len(rows) == wanted else await next_retry_at(session, bot_id, now)
    return Due(rows, retry_at)


_EARLIER = aliased(InboundUpdate)
_DUE = (
    select(InboundUpdate)
    .where(
        InboundUpdate.bot_id == bindparam("bot_id"),
        InboundUpdate.status == PENDING,
        InboundUpdate.next_attempt_at <= bindparam("now"),
        InboundUpdate.update_id.not_in(bindparam("busy_updates", expanding=True)),
        InboundUpdate.user_id.is_(None)
        | (
            InboundUpdate.user_id.not_in(bindparam("busy_users", expanding=True))
            & ~select(_EARLIER.update_id)
            .where(
                _EARLIER.bot_id == InboundUpdate.bot_id,
                _EARLIER.status == PENDING,
                _EARLIER.user_id == InboundUpdate.user_id,
                _EARLIER.update_id < InboundUpdate.update_id,
            )
            .exists()
        ),
    )
    .order_by(InboundUpdate.update_id)
    .limit(bindparam("wanted", type_=Integer))
)


async def due(
    session: AsyncSession,
    bot_id: int,
    busy_users: set[int],
    *,
    now: dt.datetime | None = None,
    limit: int = 200,
) -> list[InboundUpdate]:
    """The updates `look` would hand out now."""
    return (await look(session, bot_id, busy_users, now=now, limit=limit)).rows


async def next_retry_at(
    session: AsyncSession, bot_id: int, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When the next update waiting out its back-off may be tried."""
    params = {"bot_id": bot_id, "now": now or utcnow()}
    row = (await session.exec(_NEXT_RETRY, params=params)).first()
    return _aware(row) if row else None


_NEXT_RETRY = (
    select(InboundUpdate.next_attempt_at)
    .where(
        InboundUpdate.bot_id == bindparam("bot_id"),
        InboundUpdate.status == PENDING,
        InboundUpdate.next_attempt_at > bindparam("now"),
    )
    .order_by(InboundUpdate.next_attempt_at)
)


async def is_pending(session: AsyncSession, bot_id: int, update_id: int) -> bool:
    status = (
        await session.exec(
            select(InboundUpdate.status).where(
                InboundUpdate.update_id == update_id, InboundUpdate.bot_id == bot_id
            )
        )
    ).first()  # the status alone: the payload is not read (nor parsed) again
    return status == PENDING


_MARK_HANDLED = (
    update(TABLE)
    .where(
        TABLE.c.update_id == bindparam("the_update"),
        TABLE.c.bot_id == bindparam("the_bot"),
        TABLE.c.status == PENDING,
    )
    .values(status=HANDLED, handled_at=bindparam("handled_at"), last_error="")
)


class Guard:
    """Returned by guard_commit: call it to remove the guard. `marked` is true once a commit
    that marked the update handled went through; a transaction rolled back before that takes
    the mark with it, and the next commit marks it again."""

    def __init__(self, session: AsyncSession, bot_id: int, update_id: int) -> None:
        self.target = session.sync_session
        self.bot_id, self.update_id = bot_id, update_id
        self.fired = False
        self.marked = False
        self._listeners = (
            ("before_commit", self._mark),
            ("after_commit", self._committed),
            ("after_rollback", self._rolled_back),
        )
        for name, listener in self._listeners:
            event.listen(self.target, name, listener)

    def _mark(self, sync_session) -> None:
        if self.fired:
            return
        self.fired = True
        params = {"the_update": self.update_id, "the_bot": self.bot_id, "handled_at": utcnow()}
        result = sync_session.execute(_MARK_HANDLED, params)
        if result.rowcount != 1:
            raise AlreadyHandled(self.update_id)

    def _committed(self, sync_session) -> None:
        if self.fired:
            self.marked = True

    def _rolled_back(self, sync_session) -> None:
        if not self.marked:
            self.fired = False

    def __call__(self) -> None:
        for name, listener in self._listeners:
            if event.contains(self.target, name, listener):
                event.remove(self.target, name, listener)


def guard_commit(session: AsyncSession, bot_id: int, update_id: int) -> Guard:
    """The session's first commit also marks the update handled, or fails when another
    delivery got there first. Whatever commits (a reply being sent, the end of the handler,
    a service), the mark and the changes are saved together. Returns the guard: calling it
    removes it once the update is done (listeners cannot be removed while they run)."""
    return Guard(session, bot_id, update_id)


async def mark_handled(session: AsyncSession, bot_id: int, update_id: int) -> bool:
    """For an update no handler took (nothing committed): handled, so it is not tried again."""
    result = await session.exec(
        update(TABLE)
        .where(TABLE.c.update_id == update_id, TABLE.c.bot_id == bot_id, TABLE.c.status == PENDING)
        .values(status=HANDLED, handled_at=utcnow())
    )
    return result.rowcount == 1


async def record_failure(
    session: AsyncSession,
    bot_id: int,
    update_id: int,
    error: str,
    *,
    max_attempts: int,
    retry_at: dt.datetime,
) -> InboundUpdate | None:
    """One more failed attempt: pending again until `retry_at`, or failed for good."""
    row = await session.get(InboundUpdate, (update_id, bot_id))
    if row is None or row.status != PENDING:
        return row
    row.attempts += 1
    row.last_error = error[:1000]
    if row.attempts >= max_attempts:
        row.status = FAILED
    else:
        row.next_attempt_at = retry_at
    session.add(row)
    await session.flush()
    return row


async def unreported_failures(session: AsyncSession, bot_id: int) -> Sequence[InboundUpdate]:
    return (
        await session.exec(
            select(InboundUpdate)
            .where(
                InboundUpdate.bot_id == bot_id,
                InboundUpdate.status == FAILED,
                InboundUpdate.reported.is_(False),
            )
            .order_by(InboundUpdate.update_id)
        )
    ).all()


async def prune(session: AsyncSession, older_than: dt.datetime) -> int:
    """Forget handled (and reported failed) updates received before `older_than`."""
    result = await session.exec(
        delete(TABLE).where(
            TABLE.c.received_at < older_than,
            (TABLE.c.status == HANDLED) | ((TABLE.c.status == FAILED) & TABLE.c.reported),
        )
    )
    return result.rowcount


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
