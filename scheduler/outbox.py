"""The outbox: every message the bot sends on its own is a row first, then a Bot API call.

Queuing is idempotent: a message is inserted only when no row has its dedupe key yet
(INSERT … ON CONFLICT DO NOTHING), so a repeated sweep, a restart or a second bot instance
never queues it twice.

The sender claims due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so instances share the work;
SQLite: one statement under the database's write lock), marks each one before its call and
records the outcome after it, one call in flight at a time. It paces itself with a global
token bucket and a per-chat interval, pauses for a 429's retry_after, retries 5xx and
time-outs with exponential back-off and jitter, and treats 403 and other 4xx answers as
final. docs/delivery.md states what this guarantees.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import math
import random
import socket
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram import methods as bot_methods
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramMethod
from pydantic import ValidationError
from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select as sqlmodel_select
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.clock import Clock, SystemClock
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
IN_FLIGHT = "!"  # appended to claimed_by once the call starts: the row may have been sent


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


# ---------------------------------------------------------------- pacing


class TokenBucket:
    """`rate` calls a second on average, at most `burst` back to back (GCRA)."""

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.clock = clock
        self._theoretical_arrival = clock.monotonic()

    def free_at(self) -> float:
        """The monotonic time at which the next call may go."""
        return self._theoretical_arrival - self.tolerance

    def take(self) -> None:
        now = self.clock.monotonic()
        self._theoretical_arrival = max(self._theoretical_arrival, now) + self.interval


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0  # 5xx, time-outs: queued again with back-off
    failed: int = 0  # final: 403, other 4xx, or out of attempts
    rate_limited: int = 0  # 429s met
    lost_claims: int = 0  # rows another sender took over

    def add(self, other: SendReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.rate_limited


@dataclass
class _Claimed:
    id: int
    kind: str
    chat_id: int
    contact_id: int | None
    method: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class _Outcome:
    status: str  # sent | retry | failed | rate_limited | lost
    error: str = ""
    message_id: int | None = None
    retry_after: float = 0.0


@dataclass
class SenderOptions:
    rate_per_second: float = 25.0
    per_chat_interval: float = 1.0
    max_attempts: int = 8
    allow_paid_broadcast: bool = False
    burst: int = 2
    batch_size: int = 50
    stale_after: float = 300.0  # a row left `sending` this long by a dead sender is retried
    request_timeout: float = 30.0
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    staff_ids: tuple[int, ...] = ()
    default_language: str = "zh_CN"

    def __post_init__(self) -> None:
        if self.request_timeout >= self.stale_after:
            raise ValueError("request_timeout must be shorter than stale_after")


class Sender:
    """Sends due outbox rows through an aiogram Bot; one instance per process."""

    def __init__(
        self,
        sessions: async_sessionmaker,
        bot: Bot,
        options: SenderOptions | None = None,
        *,
        clock: Clock | None = None,
        worker: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.bot = bot
        self.options = options or SenderOptions()
        self.clock = clock or SystemClock()
        self.worker = worker or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self.bucket = TokenBucket(self.options.rate_per_second, self.options.burst, self.clock)
        self.paused_until = 0.0  # monotonic; after a 429 nothing goes before this
        self._chat_free_at: dict[int, float] = {}
        self._stopping = False
        self._dialect: str | None = None
        self._released_unattempted = False  # done once, at the first drain

    @classmethod
    def from_settings(
        cls, sessions: async_sessionmaker, bot: Bot, settings: Any, **kwargs: Any
    ) -> Sender:
        """Options from bot.settings.Settings (its `send` group, staff and language)."""
        send = settings.send
        options = SenderOptions(
            rate_per_second=send.rate_per_second,
            per_chat_interval=send.per_chat_interval,
            max_attempts=send.max_attempts,
            allow_paid_broadcast=send.allow_paid_broadcast,
            staff_ids=tuple(settings.staff_ids),
            default_language=settings.default_locale,
        )
        return cls(sessions, bot, options, **kwargs)

    # ------------------------------------------------------------ running

    def stop(self) -> None:
        """Finish the call in flight, give back the rest of the batch, and send no more."""
        self._stopping = True

    async def drain(
        self, *, follow_retries: bool = False, max_batches: int = 10_000
    ) -> SendReport:
        """Send everything due now; with `follow_retries`, also wait out back-offs and pauses.

        Waiting goes through the clock, so with a FakeClock it takes no real time.
        """
        report = SendReport()
        if not self._released_unattempted:
            await self.release_unattempted()
            self._released_unattempted = True
        for _ in range(max_batches):
            if self._stopping:
                break
            batch = await self._run_batch()
            report.add(batch)
            if batch.handled or batch.lost_claims:
                continue
            if not follow_retries:
                break
            wait = await self._seconds_until_next_due()
            if wait is None:
                break
            await self.clock.sleep(max(wait, 0.001))
        return report

    async def _sleep(self, seconds: float) -> None:
        """Wait, in short steps so that stop() is heard within half a second."""
        while seconds > 0 and not self._stopping:
            step = min(seconds, 0.5)
            await self.clock.sleep(step)
            seconds -= step

    # ------------------------------------------------------------ one batch

    async def _run_batch(self) -> SendReport:
        report = SendReport()
        await self._sleep(self.paused_until - self.clock.monotonic())
        if self._stopping:
            return report
        rows = await self._claim()
        if not rows:
            return report
        queues, heap = self._per_chat(rows)
        while heap and not self._stopping:
            ready_at, order, chat_id = heapq.heappop(heap)
            free = max(ready_at, self.bucket.free_at(), self.paused_until)
            await self._sleep(free - self.clock.monotonic())
            if self._stopping:
                break
            row = queues[chat_id].popleft()
            outcome = await self._deliver(row)
            self._count(report, outcome)
            if outcome.status == "rate_limited":
                self.paused_until = self.clock.monotonic() + outcome.retry_after
                break
            if queues[chat_id]:
                heapq.heappush(heap, (self._chat_free_at[chat_id], order, chat_id))
        leftover = [row for queue in queues.values() for row in queue]
        if leftover:
            await self._release(leftover)
        self._forget_idle_chats()
        return report

    @staticmethod
    def _count(report: SendReport, outcome: _Outcome) -> None:
        if outcome.status == "sent":
            report.sent += 1
        elif outcome.status == "retry":
            report.retried += 1
        elif outcome.status == "failed":
            report.failed += 1
        elif outcome.status == "rate_limited":
            report.rate_limited += 1
        else:
            report.lost_claims += 1

    def _per_chat(self, rows: list[_Claimed]) -> tuple[dict[int, deque[_Claimed]], list]:
        """Rows grouped by chat (in queue order) and a heap of chats by when they are free."""
        queues: dict[int, deque[_Claimed]] = {}
        for row in rows:
            queues.setdefault(row.chat_id, deque()).append(row)
        heap = [
            (self._chat_free_at.get(chat_id, 0.0), order, chat_id)
            for order, chat_id in enumerate(queues)
        ]
        heapq.heapify(heap)
        return queues, heap

    def _forget_idle_chats(self) -> None:
        now = self.clock.monotonic()
        if len(self._chat_free_at) > 10_000:
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}

    # ------------------------------------------------------------ the table

    async def _claim(self) -> list[_Claimed]:
        now = self.clock.now()
        stale = now - dt.timedelta(seconds=self.options.stale_after)
        due = (
            select(OUTBOX.c.id)
            .where(
                or_(
                    and_(OUTBOX.c.status == QUEUED, OUTBOX.c.next_attempt_at <= now),
                    and_(OUTBOX.c.status == SENDING, OUTBOX.c.claimed_at < stale),
                )
            )
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(self.options.batch_size)
        )
        async with self.sessions() as session:
            if await self._is_postgres(session):
                due = due.with_for_update(skip_locked=True)
            claim = (
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(due.scalar_subquery()))
                .values(status=SENDING, claimed_by=self.worker, claimed_at=now)
                .returning(
                    OUTBOX.c.id,
                    OUTBOX.c.kind,
                    OUTBOX.c.chat_id,
                    OUTBOX.c.contact_id,
                    OUTBOX.c.method,
                    OUTBOX.c.payload,
                    OUTBOX.c.attempts,
                    OUTBOX.c.next_attempt_at,
                )
            )
            result = (await (await session.connection()).execute(claim)).all()
            await session.commit()
        result.sort(key=lambda r: (r.next_attempt_at, r.id))
        rows = [
            _Claimed(r.id, r.kind, r.chat_id, r.contact_id, r.method, r.payload, r.attempts)
            for r in result
        ]
        return await self._spread_busy_chats(rows)

    async def _spread_busy_chats(self, rows: list[_Claimed]) -> list[_Claimed]:
        """Keep few rows per chat in one batch; the others wait in the table for their turn.

        A chat takes one message per interval, so fifty rows for one staff chat would hold a
        batch for fifty seconds while everybody else waits.
        """
        seconds = self.options.batch_size / self.options.rate_per_second
        per_chat = max(1, math.ceil(seconds / max(self.options.per_chat_interval, 1e-9)))
        kept: list[_Claimed] = []
        later: list[tuple[_Claimed, float]] = []
        seen: dict[int, int] = {}
        for row in rows:
            n = seen[row.chat_id] = seen.get(row.chat_id, 0) + 1
            if n <= per_chat:
                kept.append(row)
            else:
                later.append((row, (n - 1) * self.options.per_chat_interval))
        if later:
            now = self.clock.now()
            async with self.sessions() as session:
                connection = await session.connection()
                for row, delay in later:
                    await connection.execute(
                        self._mine(row.id).values(
                            status=QUEUED,
                            claimed_by="",
                            next_attempt_at=now + dt.timedelta(seconds=delay),
                        )
                    )
                await session.commit()
        return kept

    async def _release(self, rows: list[_Claimed]) -> None:
        """Give back rows claimed but not tried (stopping, or paused by a 429)."""
        not_before = self.clock.now() + dt.timedelta(
            seconds=max(0.0, self.paused_until - self.clock.monotonic())
        )
        async with self.sessions() as session:
            connection = await session.connection()
            await connection.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.id.in_([row.id for row in rows]),
                    OUTBOX.c.status == SENDING,
                    OUTBOX.c.claimed_by == self.worker,  # claimed, not yet in flight
                )
                .values(status=QUEUED, claimed_by="", next_attempt_at=not_before)
            )
            await session.commit()

    def _mine(self, row_id: int):
        return update(OUTBOX).where(
            OUTBOX.c.id == row_id,
            OUTBOX.c.status == SENDING,
            OUTBOX.c.claimed_by.in_([self.worker, self.worker + IN_FLIGHT]),
        )

    async def release_unattempted(self) -> int:
        """At start-up: give back at once the rows a dead sender claimed but never tried.

        A row is marked in flight just before its call, so these were certainly not sent.
        Rows in flight wait out `stale_after`: their call may have reached Telegram. A live
        sender whose claim is given back finds the row no longer its own and skips it.
        """
        async with self.sessions() as session:
            connection = await session.connection()
            result = await connection.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.status == SENDING,
                    OUTBOX.c.claimed_by.not_like(f"%{IN_FLIGHT}"),
                    OUTBOX.c.claimed_by != self.worker,
                )
                .values(status=QUEUED, claimed_by="")
            )
            await session.commit()
        if result.rowcount:
            log.info("outbox: gave back %d messages claimed by a stopped sender", result.rowcount)
        return result.rowcount

    async def _is_postgres(self, session: AsyncSession) -> bool:
        if self._dialect is None:
            self._dialect = (await session.connection()).dialect.name
        return self._dialect == "postgresql"

    async def _seconds_until_next_due(self) -> float | None:
        async with self.sessions() as session:
            connection = await session.connection()
            queued = (
                await connection.execute(
                    select(func.min(OUTBOX.c.next_attempt_at)).where(OUTBOX.c.status == QUEUED)
                )
            ).scalar_one()
            stuck = (
                await connection.execute(
                    select(func.min(OUTBOX.c.claimed_at)).where(OUTBOX.c.status == SENDING)
                )
            ).scalar_one()
        candidates = [_aware(queued)] if queued else []
        if stuck:
            candidates.append(_aware(stuck) + dt.timedelta(seconds=self.options.stale_after))
        if not candidates:
            return None
        return max(0.0, (min(candidates) - self.clock.now()).total_seconds())

    # ------------------------------------------------------------ one message

    async def _deliver(self, row: _Claimed) -> _Outcome:
        if not await self._mark_sending(row):
            return _Outcome("lost")
        try:
            method = build_method(
                row.method, row.payload, self.options.allow_paid_broadcast, chat_id=row.chat_id
            )
        except (ValueError, ValidationError) as error:
            outcome = _Outcome("failed", f"invalid {row.method} payload: {error}"[:1000])
        else:
            outcome = await self._call(method, row.attempts + 1)
        self.bucket.take()
        self._chat_free_at[row.chat_id] = self.clock.monotonic() + self.options.per_chat_interval
        await self._record(row, outcome)
        return outcome

    async def _mark_sending(self, row: _Claimed) -> bool:
        """Count the attempt and restart the stale timer, unless another sender took the row."""
        async with self.sessions() as session:
            result = await (await session.connection()).execute(
                self._mine(row.id).values(
                    claimed_at=self.clock.now(),
                    attempts=OUTBOX.c.attempts + 1,
                    claimed_by=self.worker + IN_FLIGHT,
                )
            )
            await session.commit()
        return result.rowcount == 1

    async def _call(self, method: TelegramMethod, attempt: int) -> _Outcome:
        try:
            result = await self.bot(method, request_timeout=self.options.request_timeout)
        except TelegramRetryAfter as error:
            return _Outcome("rate_limited", error.message, retry_after=float(error.retry_after))
        except TelegramForbiddenError as error:
            return _Outcome("failed", f"403 {error.message}")
        except TelegramUnauthorizedError as error:
            # The token is wrong: nothing can go; keep the message and look again later.
            log.error("outbox sender: the bot token was refused (%s)", error.message)
            return _Outcome("rate_limited", f"401 {error.message}", retry_after=60.0)
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
            return self._retry_or_fail(f"{type(error).__name__}: {error}", attempt)
        except TelegramAPIError as error:
            return _Outcome("failed", f"{type(error).__name__}: {error.message}")
        except TimeoutError:
            return self._retry_or_fail("timeout", attempt)
        return _Outcome("sent", message_id=getattr(result, "message_id", None))

    def _retry_or_fail(self, error: str, attempt: int) -> _Outcome:
        if attempt >= self.options.max_attempts:
            return _Outcome("failed", f"{error} (gave up after {attempt} attempts)")
        return _Outcome("retry", error, retry_after=self.backoff(attempt))

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with jitter: base·2^(attempt-1), capped, times 0.5–1."""
        ceiling = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempt - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)

    async def _record(self, row: _Claimed, outcome: _Outcome) -> None:
        now = self.clock.now()
        done = update(OUTBOX).where(OUTBOX.c.id == row.id)
        async with self.sessions() as session:
            connection = await session.connection()
            if outcome.status == "sent":
                values = {"status": SENT, "sent_at": now, "last_error": "", "claimed_by": ""}
                values["telegram_message_id"] = outcome.message_id
            elif outcome.status == "failed":
                values = {"status": FAILED, "last_error": outcome.error, "claimed_by": ""}
            else:  # retry, or a 429: back in the queue; a 429 does not use up an attempt
                later = now + dt.timedelta(seconds=outcome.retry_after)
                values = {"status": QUEUED, "next_attempt_at": later, "claimed_by": ""}
                values["last_error"] = outcome.error[:1000]
                if outcome.status == "rate_limited":
                    values["attempts"] = OUTBOX.c.attempts - 1
            await connection.execute(done.values(**values))
            if outcome.status == "failed" and unreachable_error(outcome.error):
                await self._unreachable(session, row, outcome.error)
            await session.commit()
        if outcome.status == "failed":
            log.warning("outbox %s to chat %s failed: %s", row.id, row.chat_id, outcome.error)

    async def _unreachable(self, session: AsyncSession, row: _Claimed, error: str) -> None:
        """The contact cannot be reached; the staff hear of it once (when it changes)."""
        if row.contact_id is None:
            return
        from scheduler.notices import change_reachability  # notices queue through this module

        await change_reachability(
            session,
            False,
            cause=f"outbox:{row.id}",
            contact_id=row.contact_id,
            reason=error.removeprefix("403 "),
            staff_ids=self.options.staff_ids,
            default_language=self.options.default_language,
            now=self.clock.now(),
        )


def unreachable_error(error: str) -> bool:
    """A final error that means the person cannot be reached at all: blocked, deleted, or
    a chat Telegram no longer knows."""
    return error.startswith("403") or "chat not found" in error.lower()


def build_method(
    name: str,
    payload: dict[str, Any],
    allow_paid_broadcast: bool = False,
    *,
    chat_id: int | None = None,
) -> TelegramMethod:
    """The aiogram method object for a row's `method` and `payload` (e.g. sendMessage)."""
    cls = getattr(bot_methods, name[:1].upper() + name[1:], None)
    if not (isinstance(cls, type) and issubclass(cls, TelegramMethod)):
        raise ValueError(f"unknown Bot API method {name!r}")
    fields = cls.model_fields
    if chat_id is not None and "chat_id" in fields and "chat_id" not in payload:
        payload = {**payload, "chat_id": chat_id}
    if allow_paid_broadcast and "allow_paid_broadcast" in fields:
        payload = {**payload, "allow_paid_broadcast": True}
    return cls.model_validate(payload)


def _aware(moment: dt.datetime) -> dt.datetime:
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
    oldest, next_attempt = (_aware(value) if value else None for value in queued)
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
