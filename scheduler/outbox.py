"""The outbox sender: turns the queue's rows (storage.services.outbox) into Bot API calls.

The sender claims due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so instances share the work;
SQLite: one statement under the database's write lock), marks each one before its call and
records the outcome after it, with up to `concurrency` calls in flight (never two to one chat),
so one slow call holds nobody else back. It paces itself with a global token bucket (a token
taken before each call starts) and a per-chat interval, pauses every call not yet started for
a 429's retry_after, retries 5xx and time-outs with exponential back-off and jitter, and
treats 403 and other 4xx answers as final. docs/delivery.md states what this guarantees.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import logging
import math
import random
import socket
import time
import uuid
from collections import deque
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
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler import metrics
from scheduler.clock import Clock, SystemClock
from storage.services.outbox import (
    FAILED,
    IN_FLIGHT,
    OUTBOX,
    QUEUED,
    SENDING,
    SENT,
    TELEGRAM,
    aware_utc,
)

log = logging.getLogger(__name__)

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
    status: str  # sent | retry | failed | rate_limited | deferred | lost
    error: str = ""
    message_id: int | None = None
    retry_after: float = 0.0


class _Signal:
    """Wakes whoever waits for "something changed" (a row taken, a call done, a stop).

    A waiter takes its future before looking at the state, so a change between the look
    and the wait is never missed.
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def future(self) -> asyncio.Future[None]:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class _Run:
    """One drain's rows: claimed but not started (per chat, in queue order), and in flight.

    A chat is in `ready` (a heap by the time it may take its next message) exactly when it
    has rows waiting and no call in flight, so no chat ever has two calls in flight. A chat
    free already counts from when it joined the heap, so the free ones go in turn: a chat
    that waited out its interval (a staff chat's second message, a progress edit) is not
    passed by every chat claimed after it that was never written to.
    """

    def __init__(self) -> None:
        self.queues: dict[int, deque[_Claimed]] = {}
        self.ready: list[tuple[float, int, int]] = []
        self.busy: set[int] = set()  # chats with a call in flight
        self.ids: set[int] = set()  # rows claimed and not yet finished
        self.pending = 0  # rows claimed, not started
        self.in_flight = 0
        self.closed = False
        self.error: BaseException | None = None
        self.report = SendReport()
        self.changed = _Signal()
        self.dispatch = asyncio.Lock()  # one worker at a time waits for the next row
        self.pacing = asyncio.Lock()  # and one at a time for the token bucket
        self._order = itertools.count()

    def add(self, rows: list[_Claimed], chat_free_at: dict[int, float], now: float) -> None:
        for row in rows:
            if row.id in self.ids:
                continue  # our own claim, renewed
            self.ids.add(row.id)
            queue = self.queues.setdefault(row.chat_id, deque())
            if not queue and row.chat_id not in self.busy:
                ready_at = max(chat_free_at.get(row.chat_id, 0.0), now)
                heapq.heappush(self.ready, (ready_at, next(self._order), row.chat_id))
            queue.append(row)
            self.pending += 1
        self.changed.notify()

    def take(self) -> _Claimed:
        _, _, chat_id = heapq.heappop(self.ready)
        queue = self.queues[chat_id]
        row = queue.popleft()
        if not queue:
            del self.queues[chat_id]
        self.busy.add(chat_id)
        self.pending -= 1
        self.in_flight += 1
        self.changed.notify()
        return row

    def done(self, row: _Claimed, chat_free_at: dict[int, float], now: float) -> None:
        self.busy.discard(row.chat_id)
        self.ids.discard(row.id)
        self.in_flight -= 1
        if row.chat_id in self.queues:
            ready_at = max(chat_free_at.get(row.chat_id, 0.0), now)
            heapq.heappush(self.ready, (ready_at, next(self._order), row.chat_id))
        self.changed.notify()

    def take_all_pending(self) -> list[_Claimed]:
        rows = [row for queue in self.queues.values() for row in queue]
        self.queues.clear()
        self.ready.clear()
        self.pending = 0
        self.ids.difference_update(row.id for row in rows)
        self.changed.notify()
        return rows

    @property
    def idle(self) -> bool:
        return self.pending == 0 and self.in_flight == 0


@dataclass
class SenderOptions:
    rate_per_second: float = 25.0
    per_chat_interval: float = 1.0
    max_attempts: int = 8
    allow_paid_broadcast: bool = False
    paid_rate_per_second: float = 1000.0  # the bucket's rate with allow_paid_broadcast
    concurrency: int = 8  # Bot API calls in flight at once
    burst: int = 2
    batch_size: int = 50  # rows claimed at a time (at least 4 × concurrency)
    stale_after: float = 300.0  # a row left `sending` this long by a dead sender is retried
    request_timeout: float = 30.0
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    staff_ids: tuple[int, ...] = ()
    default_language: str = "zh_CN"

    def __post_init__(self) -> None:
        if self.request_timeout >= self.stale_after:
            raise ValueError("request_timeout must be shorter than stale_after")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")

    @property
    def rate(self) -> float:
        """The global pace: the paid broadcast rate when allowed, else `rate_per_second`."""
        return self.paid_rate_per_second if self.allow_paid_broadcast else self.rate_per_second

    @property
    def claim_size(self) -> int:
        return max(self.batch_size, 4 * self.concurrency)


class Sender:
    """Sends due outbox rows through an aiogram Bot; one instance per process."""

    channel = TELEGRAM  # the rows it takes; e-mail has its own (scheduler/email_sender.py)

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
        self.bucket = TokenBucket(self.options.rate, self.options.burst, self.clock)
        self.paused_until = 0.0  # monotonic; after a 429 no call starts before this
        self._chat_free_at: dict[int, float] = {}  # monotonic; a chat's next call not before
        self._stopping = False
        self._run: _Run | None = None
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
            paid_rate_per_second=send.paid_rate_per_second,
            concurrency=send.concurrency,
            staff_ids=tuple(settings.staff_ids),
            default_language=settings.default_locale,
        )
        return cls(sessions, bot, options, **kwargs)

    # ------------------------------------------------------------ running

    def stop(self) -> None:
        """Finish the calls in flight, give back what is claimed but not started, send no more."""
        self._stopping = True
        if self._run is not None:
            self._run.changed.notify()

    async def drain(
        self, *, follow_retries: bool = False, max_batches: int = 10_000
    ) -> SendReport:
        """Send everything due now; with `follow_retries`, also wait out back-offs and pauses.

        `concurrency` workers send, each one call at a time, while this task claims rows as
        they run low (at most `max_batches` claims). Waiting goes through the clock, so with
        a FakeClock it takes no real time.
        """
        if not self._released_unattempted:
            await self.release_unattempted()
            self._released_unattempted = True
        run = self._run = _Run()
        workers = [
            asyncio.create_task(self._work(run), name=f"outbox-sender-{n}")
            for n in range(self.options.concurrency)
        ]
        try:
            await self._feed(run, follow_retries, max_batches)
            run.closed = True
            run.changed.notify()
            if run.pending:  # stopping, or a worker failed: give back what did not start
                await self._release(run.take_all_pending())
            await asyncio.gather(*workers)  # the calls in flight finish and are recorded
        finally:
            for task in workers:  # cancelled (the process is going down): stop at once
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._run = None
        if run.error is not None:
            raise run.error
        return run.report

    async def _feed(self, run: _Run, follow_retries: bool, max_batches: int) -> None:
        """Claim due rows whenever fewer than half a claim wait; return when done or told."""
        claims = 0
        size = self.options.claim_size
        while not self._stopping and run.error is None:
            changed = run.changed.future()
            pause = self.paused_until - self.clock.monotonic()
            if pause > 0:  # a 429: what is claimed and not started goes back until then
                if run.pending:
                    await self._release(run.take_all_pending())
                await self._wait(changed, pause)
                continue
            if run.pending < size // 2 and claims < max_batches:
                claims += 1
                rows = await self._claim(size - run.pending)
                if rows:
                    run.add(rows, self._chat_free_at, self.clock.monotonic())
                    self._forget_idle_chats()
                    continue
                if run.idle:  # nothing due, nothing waiting, nothing in flight
                    if not follow_retries:
                        return
                    wait = await self._seconds_until_next_due()
                    if wait is None:
                        return
                    await self._wait(changed, max(wait, 0.001))
                    continue
                # Calls in flight, one perhaps hung until its time-out: a row falling due
                # meanwhile (a retry after its back-off) goes when it is due, not after them.
                wait = await self._seconds_until_next_due(stale=False)
                await self._wait(changed, None if wait is None else max(wait, 0.001))
                continue
            elif run.idle:
                return  # out of claims
            await self._wait(changed, None)

    async def _work(self, run: _Run) -> None:
        """One worker: take the next row the pacing allows, send it, record it; repeat."""
        while True:
            row = await self._next_row(run)
            if row is None:
                return
            try:
                outcome = await self._deliver(run, row)
            except Exception as error:  # the database refused: stop this run, re-raise
                run.error = run.error or error
                run.closed = True
                run.done(row, self._chat_free_at, self.clock.monotonic())
                return
            self._count(run.report, outcome)
            run.done(row, self._chat_free_at, self.clock.monotonic())

    async def _next_row(self, run: _Run) -> _Claimed | None:
        """The next row whose chat is free (its interval passed, no call in flight), once
        no 429 pause is on. Its chat stays busy until the call is recorded."""
        async with run.dispatch:
            while True:
                changed = run.changed.future()
                if run.closed or self._stopping:
                    return None
                if not run.ready:
                    await self._wait(changed, None)
                    continue
                wait = max(run.ready[0][0], self.paused_until) - self.clock.monotonic()
                if wait > 0:
                    await self._wait(changed, wait)
                    continue
                return run.take()

    async def _pace(self, run: _Run, row: _Claimed) -> float | None:
        """Wait for the token bucket and take a token just before the call starts; None to
        go. Otherwise the row does not go: a 429 paused everyone (the seconds left), or the
        sender is stopping (0)."""
        async with run.pacing:  # one at a time, in the order the rows were taken
            while True:
                now = self.clock.monotonic()
                if self._stopping:
                    return 0.0
                if self.paused_until > now:
                    return self.paused_until - now
                wait = self.bucket.free_at() - now
                if wait <= 0:
                    self.bucket.take()
                    self._chat_free_at[row.chat_id] = now + self.options.per_chat_interval
                    return None
                await self.clock.sleep(wait)  # at most `concurrency` tokens away

    async def _wait(self, changed: asyncio.Future[None], seconds: float | None) -> None:
        """Until something changes, or `seconds` have passed on the clock."""
        if seconds is None:
            await changed
            return
        sleep = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait((changed, sleep), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()

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
        elif outcome.status == "lost":
            report.lost_claims += 1
        # "deferred": a 429 came while it was being marked; it never went, and waits

    def _forget_idle_chats(self) -> None:
        now = self.clock.monotonic()
        if len(self._chat_free_at) > 10_000:
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}

    # ------------------------------------------------------------ the table

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock.now()
        stale = now - dt.timedelta(seconds=self.options.stale_after)
        due = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.channel == self.channel,
                or_(
                    and_(OUTBOX.c.status == QUEUED, OUTBOX.c.next_attempt_at <= now),
                    and_(OUTBOX.c.status == SENDING, OUTBOX.c.claimed_at < stale),
                ),
            )
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
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
        """Keep few rows per chat in one claim; the others wait in the table for their turn.

        A chat takes one message per interval, so fifty rows for one staff chat would sit
        claimed for fifty seconds, keeping others' rows out of the claim.
        """
        seconds = self.options.claim_size / self.options.rate
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
        if not rows:
            return
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
                    OUTBOX.c.channel == self.channel,
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

    async def _seconds_until_next_due(self, *, stale: bool = True) -> float | None:
        """Until the next queued row falls due, or (with `stale`) a row left `sending` goes
        stale; None when there is neither."""
        async with self.sessions() as session:
            connection = await session.connection()
            queued = (
                await connection.execute(
                    select(func.min(OUTBOX.c.next_attempt_at)).where(
                        OUTBOX.c.status == QUEUED, OUTBOX.c.channel == self.channel
                    )
                )
            ).scalar_one()
            stuck = None
            if stale:
                stuck = (
                    await connection.execute(
                        select(func.min(OUTBOX.c.claimed_at)).where(
                            OUTBOX.c.status == SENDING, OUTBOX.c.channel == self.channel
                        )
                    )
                ).scalar_one()
        candidates = [aware_utc(queued)] if queued else []
        if stuck:
            candidates.append(aware_utc(stuck) + dt.timedelta(seconds=self.options.stale_after))
        if not candidates:
            return None
        return max(0.0, (min(candidates) - self.clock.now()).total_seconds())

    # ------------------------------------------------------------ one message

    async def _deliver(self, run: _Run, row: _Claimed) -> _Outcome:
        """Mark the row in flight, call, record the outcome; a 429 pauses every later call."""
        if not await self._mark_sending(row):
            return _Outcome("lost")
        held = await self._pace(run, row)
        if held is not None:  # a 429 came back meanwhile, or stop(): it does not go now
            outcome = _Outcome("deferred", retry_after=held)
        else:
            try:
                method = build_method(
                    row.method, row.payload, self.options.allow_paid_broadcast, chat_id=row.chat_id
                )
            except (ValueError, ValidationError) as error:
                outcome = _Outcome("failed", f"invalid {row.method} payload: {error}"[:1000])
            else:
                outcome = await self._measured_call(method, row.attempts + 1)
            if outcome.status == "rate_limited":  # before recording: nothing else may start
                until = self.clock.monotonic() + outcome.retry_after
                self.paused_until = max(self.paused_until, until)
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

    async def _measured_call(self, method: TelegramMethod, attempt: int) -> _Outcome:
        started = time.perf_counter()  # a duration for /metrics, not a moment of the clock
        outcome = await self._call(method, attempt)
        metrics.SEND_SECONDS.observe(time.perf_counter() - started)
        metrics.SENDS.labels(outcome.status).inc()
        if outcome.status == "rate_limited" and not outcome.error.startswith("401"):
            metrics.RATE_LIMITED.inc()
        return outcome

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
            else:  # retry, a 429 or deferred: back in the queue; only a retry costs an attempt
                later = now + dt.timedelta(seconds=outcome.retry_after)
                values = {"status": QUEUED, "next_attempt_at": later, "claimed_by": ""}
                if outcome.status != "deferred":
                    values["last_error"] = outcome.error[:1000]
                if outcome.status in ("rate_limited", "deferred"):
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
