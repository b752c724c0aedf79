"""A broadcast through the sender while Telegram misbehaves, and a scheduled one on the clock.

429s, 5xx answers and a hung call come mid-broadcast (the stand-in's injected faults, and a
middleware that holds one call until the test lets it go): every recipient gets the notice
exactly once, and nothing goes before its time (a retry before its back-off, a call during a
429's pause, a scheduled broadcast before the hour set). Calls are held on events, never timed;
the test's FakeClock is the only time, so back-offs and pauses cost nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from types import SimpleNamespace

import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from sqlmodel import select

from bot.settings import load_settings
from scheduler import broadcasts as sb
from scheduler import jobs
from scheduler.clock import FakeClock
from storage.models import OutboxMessage
from storage.services import broadcasts as bc
from storage.services import staff
from tests.scheduler.conftest import CallLog, aiogram_bot, bot_texts, started_users
from tests.scheduler.world import build_world

GUARD = 20  # real seconds before a wait that should end at once is called a hang
ADMIN = 9001
TEXT = "请于周五前报送。"


async def _contacts(sessions, telegram, count: int) -> list[int]:
    """`count` contacts who opened the bot, four to a unit, and an admin."""
    users = await started_users(telegram, count)
    async with sessions() as session:
        due = dt.date(2023, 10, 10)
        await build_world(
            session, due=due, chat_ids=[users[i : i + 4] for i in range(0, count, 4)]
        )
        await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
        await session.commit()
    return users


async def _confirm(sessions, clock: FakeClock, *, at: dt.datetime | None = None) -> int:
    async with sessions() as session:
        row = await bc.create_draft(
            session, ADMIN, audience="all", text=TEXT, ask_ack=True, now=clock.now()
        )
        if at is not None:
            await sb.schedule(session, ADMIN, row.id, at, now=clock.now())
        await sb.confirm_and_queue(session, ADMIN, row.id, now=clock.now())
        await session.commit()
        return row.id


async def _received(telegram, users: list[int]) -> Counter[int]:
    return Counter({u: sum(TEXT in text for text in await bot_texts(telegram, u)) for u in users})


async def _rows(sessions) -> dict[int, OutboxMessage]:
    async with sessions() as session:
        found = (await session.exec(select(OutboxMessage))).all()
    return {row.chat_id: row for row in found if row.kind == "broadcast"}


class Misbehaving(CallLog):
    """Telegram misbehaving mid-broadcast: once `after` messages were delivered, the stand-in
    answers the next calls 500, 502, 429 and 500; the first call to `hung_chat` hangs until
    the test sets `release`, then gives up as the client's time-out would. Keeps every answer
    (test's clock, chat, outcome)."""

    def __init__(self, clock: FakeClock, server, *, after: int, hung_chat: int, others: int):
        super().__init__(clock)
        self.server, self.after, self.hung_chat, self.others = server, after, hung_chat, others
        self.answers: list[tuple[float, int, str]] = []
        self.delivered: Counter[int] = Counter()
        self.hanging, self.release = asyncio.Event(), asyncio.Event()
        self.others_done = asyncio.Event()  # every other chat's message delivered

    async def __call__(self, make_request, bot, method):
        chat = method.chat_id
        self.calls.append((self.clock.monotonic(), method.__api_method__, method))
        if chat == self.hung_chat and not self.hanging.is_set():
            self.hanging.set()
            await self.release.wait()
            self.answers.append((self.clock.monotonic(), chat, "timeout"))
            raise TelegramNetworkError(method, "Request timeout error")
        try:
            response = await make_request(bot, method)
        except TelegramServerError:
            self.answers.append((self.clock.monotonic(), chat, "5xx"))
            raise
        except TelegramRetryAfter as error:
            self.answers.append((self.clock.monotonic(), chat, f"429:{error.retry_after}"))
            raise
        self.answers.append((self.clock.monotonic(), chat, "sent"))
        self.delivered[chat] += 1
        if sum(self.delivered.values()) == self.after:  # mid-broadcast
            for status in (500, 502):
                self.server.inject_fault("error", method="sendMessage", status=status)
            self.server.inject_fault("flood", method="sendMessage", retry_after=4)
            self.server.inject_fault("error", method="sendMessage", status=500)
        if len(self.delivered.keys() - {self.hung_chat}) == self.others:
            self.others_done.set()
        return response


async def test_5xx_429_and_a_hung_call_mid_broadcast_lose_nothing_and_send_nothing_early(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await _contacts(sessions, telegram, 20)
    broadcast_id = await _confirm(sessions, clock)
    hung = users[8]
    log = Misbehaving(clock, telegram.server, after=5, hung_chat=hung, others=19)
    sender = make_sender(middleware=log, concurrency=4)
    drain = asyncio.create_task(sender.drain(follow_retries=True))

    await asyncio.wait_for(log.hanging.wait(), GUARD)
    await asyncio.wait_for(log.others_done.wait(), GUARD)  # the hung call held nobody back
    assert (await _received(telegram, [hung]))[hung] == 0
    assert (await _rows(sessions))[hung].status == "sending"  # in flight, not given up
    log.release.set()
    report = await asyncio.wait_for(drain, GUARD)

    assert await _received(telegram, users) == Counter(dict.fromkeys(users, 1))  # each once
    outcomes = Counter(outcome for _, _, outcome in log.answers)
    assert (outcomes["5xx"], outcomes["429:4"], outcomes["timeout"]) == (3, 1, 1)
    assert (report.sent, report.retried, report.rate_limited, report.failed) == (20, 4, 1, 0)
    rows = await _rows(sessions)
    failures = Counter(c for _, c, o in log.answers if o in ("5xx", "timeout"))
    assert {c: r.attempts for c, r in rows.items()} == {u: 1 + failures[u] for u in users}
    assert {r.status for r in rows.values()} == {"sent"}

    # Nothing early: a retry waits out its back-off (at least 0.5 s here), and no call starts
    # during the 429's 4 s pause (calls already on their way when it came back may finish).
    for at, chat, outcome in log.answers:
        if outcome in ("5xx", "timeout"):
            again = [t for t, _, m in log.calls if m.chat_id == chat and t > at]
            assert again and min(again) >= at + 0.5
    flooded_at = next(at for at, _, outcome in log.answers if outcome.startswith("429"))
    later = [t for t, _, _ in log.calls if t > flooded_at]
    assert later and min(later) >= flooded_at + 4
    async with sessions() as session:
        found = await bc.progress(session, ADMIN, broadcast_id)
    assert (found.sent, found.failed, found.pending) == (20, 0, 0)


class Stamped(CallLog):
    """Every call with the moment (test's clock) it started."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.moments: list[dt.datetime] = []

    async def __call__(self, make_request, bot, method):
        self.moments.append(self.clock.now())
        return await super().__call__(make_request, bot, method)


async def test_a_scheduled_broadcast_sends_nothing_before_its_time_and_all_after(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await _contacts(sessions, telegram, 8)
    at = FakeClock.at("2023-09-25 15:30").now()  # the test starts 09:00 that Monday
    broadcast_id = await _confirm(sessions, clock, at=at)
    log = Stamped(clock)
    sender = make_sender(middleware=log)

    async def progress() -> bc.Progress:
        async with sessions() as session:
            await sb.progress_job(session, now=clock.now(), rate=25)
            await session.commit()
            return await bc.progress(session, ADMIN, broadcast_id, now=clock.now())

    for moment in ("2023-09-25 09:00", "2023-09-25 12:00", "2023-09-25 15:29"):
        clock.set(moment)
        report = await asyncio.wait_for(sender.drain(), GUARD)
        assert report.handled == 0 and not log.calls
        assert (await progress()).status == "scheduled"
    clock.advance(59)  # 15:29:59
    assert (await asyncio.wait_for(sender.drain(), GUARD)).handled == 0
    assert await _received(telegram, users) == Counter(dict.fromkeys(users, 0))

    # Waiting for what is queued (as a running bot does), the sender goes at 15:30, not before.
    report = await asyncio.wait_for(sender.drain(follow_retries=True), GUARD)
    assert report.sent == 8 and min(log.moments) >= at
    assert await _received(telegram, users) == Counter(dict.fromkeys(users, 1))
    found = await progress()
    assert (found.status, found.sent, found.pending) == ("done", 8, 0)


async def test_the_progress_estimate_uses_the_senders_rate(
    sessions, telegram, clock: FakeClock, database_url, monkeypatch, tmp_path
) -> None:
    """With paid broadcasts allowed the sender paces at the paid rate; the progress message's
    "finishes at about" must count with that, not with SEND__RATE_PER_SECOND."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    rates: list[float | None] = []

    async def progress_job(session, *, now, rate=None, **_options):
        rates.append(rate)
        return 0

    monkeypatch.setattr(jobs, "progress_job", progress_job)
    settings = load_settings(
        bot_token=telegram.token,
        telegram_api_base=telegram.base_url,
        database_url=database_url,
        send={"rate_per_second": 20, "allow_paid_broadcast": True, "paid_rate_per_second": 400},
    )
    app = SimpleNamespace(settings=settings, sessions=sessions, bot=aiogram_bot(telegram))
    scheduler = jobs.start_scheduler(app, clock=clock, sweep_every=3600, send_every=3600)
    try:
        await scheduler.leadership.try_lead()  # SQLite: at once; PostgreSQL: its lock
        await asyncio.wait_for(scheduler.get_job(jobs.BROADCAST_JOB).func(), GUARD)
    finally:
        await jobs.stop_scheduler(scheduler)
        await app.bot.session.close()
    assert rates and set(rates) == {400} and scheduler.sender.options.rate == 400


class HeldAndFailing(CallLog):
    """The first call to `hung_chat` hangs until `release`; the first to `failing_chat` gets
    a 502; `retried` is set when that one's retry was answered."""

    def __init__(self, clock: FakeClock, server, *, hung_chat: int, failing_chat: int):
        super().__init__(clock)
        self.server, self.hung_chat, self.failing_chat = server, hung_chat, failing_chat
        self.hanging, self.release, self.retried = (
            asyncio.Event(),
            asyncio.Event(),
            asyncio.Event(),
        )
        self.failed_once = False

    async def __call__(self, make_request, bot, method):
        chat = method.chat_id
        self.calls.append((self.clock.monotonic(), method.__api_method__, method))
        if chat == self.hung_chat and not self.hanging.is_set():
            self.hanging.set()
            await self.release.wait()
            raise TelegramNetworkError(method, "Request timeout error")
        if chat == self.failing_chat and not self.failed_once:
            self.failed_once = True
            self.server.inject_fault("error", method="sendMessage", status=502)
        response = await make_request(bot, method)
        if chat == self.failing_chat:
            self.retried.set()
        return response


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_retry_falling_due_goes_while_another_call_hangs(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    """The bot's drain (not following retries) with one call hung: a 502's retry goes when
    its back-off ends, not when the hung call times out (it used to wait for a change)."""
    users = await _contacts(sessions, telegram, 3)
    await _confirm(sessions, clock)
    log = HeldAndFailing(clock, telegram.server, hung_chat=users[0], failing_chat=users[1])
    drain = asyncio.create_task(make_sender(middleware=log, concurrency=4).drain())
    try:
        await asyncio.wait_for(log.hanging.wait(), GUARD)
        await asyncio.wait_for(log.retried.wait(), 3)  # at once on the test's clock
    finally:
        log.release.set()
        await asyncio.wait_for(drain, GUARD)
