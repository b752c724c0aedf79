"""The sender with K calls in flight: every pacing promise kept, nobody held back by one call.

Calls are held on events (a middleware on the bot, in front of the stand-in), never timed:
each test waits for what it needs to see, and `asyncio.wait_for` only turns a hang into a
failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections import Counter

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter

from bot.settings import SendSettings, Settings
from scheduler.clock import FakeClock
from scheduler.outbox import Sender, SenderOptions
from tests.scheduler.conftest import CallLog, bot_texts, started_users
from tests.scheduler.test_sender import START, queue_texts, rows

GUARD = 20  # real seconds before a wait that should end at once is called a hang


class InFlight(CallLog):
    """Counts calls in flight, in all and per chat; optionally holds each until `gate` opens."""

    def __init__(self, clock: FakeClock, *, hold: bool = False) -> None:
        super().__init__(clock)
        self.gate = asyncio.Event()
        if not hold:
            self.gate.set()
        self.now = 0
        self.most = 0
        self.per_chat: Counter[int] = Counter()
        self.most_per_chat = 0
        self.reached: dict[int, asyncio.Event] = {}

    def when(self, in_flight: int) -> asyncio.Event:
        return self.reached.setdefault(in_flight, asyncio.Event())

    async def __call__(self, make_request, bot, method):
        chat = method.chat_id
        self.now += 1
        self.per_chat[chat] += 1
        self.most = max(self.most, self.now)
        self.most_per_chat = max(self.most_per_chat, self.per_chat[chat])
        if self.now in self.reached:
            self.reached[self.now].set()
        self.calls.append((self.clock.monotonic(), method.__api_method__, method))
        try:
            await self.gate.wait()
            return await make_request(bot, method)
        finally:
            self.now -= 1
            self.per_chat[chat] -= 1


async def received(telegram, users: list[int]) -> Counter[int]:
    return Counter({user: len(await bot_texts(telegram, user)) for user in users})


async def test_k_calls_go_at_once_and_never_two_to_one_chat(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 9)
    staff = users[0]
    await queue_texts(sessions, users)
    await queue_texts(sessions, [staff], text="second")
    await queue_texts(sessions, [staff], text="third")
    log = InFlight(clock, hold=True)
    sender = make_sender(middleware=log, concurrency=4)
    drain = asyncio.create_task(sender.drain(follow_retries=True))
    await asyncio.wait_for(log.when(4).wait(), GUARD)  # four calls held at once
    log.gate.set()
    report = await asyncio.wait_for(drain, GUARD)
    assert (report.sent, report.rate_limited, report.failed) == (11, 0, 0)
    assert log.most == 4  # K in flight, never more
    assert log.most_per_chat == 1  # never two to one chat
    to_staff = [at for at, _, method in log.calls if method.chat_id == staff]
    assert len(to_staff) == 3 and all(b - a >= 1.0 for a, b in itertools.pairwise(to_staff))
    assert await received(telegram, users) == Counter({u: 3 if u == staff else 1 for u in users})


class HungCall(CallLog):
    """The call to one chat hangs until every other chat's message was answered, then fails
    as its time-out would; if the others waited behind it, nothing would ever move."""

    def __init__(self, clock: FakeClock, hung_chat: int, others: int) -> None:
        super().__init__(clock)
        self.hung_chat = hung_chat
        self.others = others
        self.answered = 0
        self.others_done = asyncio.Event()
        self.hung_once = False

    async def __call__(self, make_request, bot, method):
        if method.chat_id == self.hung_chat and not self.hung_once:
            self.hung_once = True
            self.calls.append((self.clock.monotonic(), method.__api_method__, method))
            await self.others_done.wait()
            raise TelegramNetworkError(method, "Request timeout error")
        response = await super().__call__(make_request, bot, method)
        self.answered += 1
        if self.answered == self.others:
            self.others_done.set()
        return response


async def test_a_hung_call_holds_nobody_back(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 10)
    await queue_texts(sessions, users)
    log = HungCall(clock, hung_chat=users[0], others=9)
    report = await asyncio.wait_for(
        make_sender(middleware=log, concurrency=3).drain(follow_retries=True), GUARD
    )
    assert (report.sent, report.retried, report.failed) == (10, 1, 0)
    assert await received(telegram, users) == Counter(dict.fromkeys(users, 1))
    by_chat = {row.chat_id: row for row in await rows(sessions)}
    assert (by_chat[users[0]].status, by_chat[users[0]].attempts) == ("sent", 2)


class FloodFirst(CallLog):
    """The first call meets the stand-in's injected 429 once three more calls are in flight;
    those are held until its answer is back. Keeps when the 429 came back (test's clock)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.four_in_flight = asyncio.Event()
        self.first_answered = asyncio.Event()
        self.flooded_at: float | None = None

    async def __call__(self, make_request, bot, method):
        first = not self.calls
        self.calls.append((self.clock.monotonic(), method.__api_method__, method))
        if len(self.calls) == 4:
            self.four_in_flight.set()
        if not first:
            await self.first_answered.wait()
            return await make_request(bot, method)
        await self.four_in_flight.wait()
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            self.flooded_at = self.clock.monotonic()
            raise
        finally:
            self.first_answered.set()


async def test_a_429_pauses_every_call_not_yet_started(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 12)
    await queue_texts(sessions, users)
    await telegram.client.inject_fault("flood", method="sendMessage", retry_after=7)
    log = FloodFirst(clock)
    report = await asyncio.wait_for(
        make_sender(middleware=log, concurrency=4).drain(follow_retries=True), GUARD
    )
    assert (report.sent, report.rate_limited, report.failed) == (12, 1, 0)
    assert log.flooded_at is not None
    started = [at for at, _, _ in log.calls]
    before = [at for at in started if at <= log.flooded_at]
    after = [at for at in started if at > log.flooded_at]
    assert len(before) == 4  # the flooded call and the three already in flight
    assert len(after) == 9 and min(after) >= log.flooded_at + 7  # nothing started early
    assert await received(telegram, users) == Counter(dict.fromkeys(users, 1))
    assert all(row.attempts == 1 for row in await rows(sessions))  # a 429 costs no attempt


async def test_the_token_bucket_holds_with_k_calls_in_flight(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    telegram.server.latency = 0.02  # a round trip, so calls overlap
    users = await started_users(telegram, 40)
    await queue_texts(sessions, users)
    log = InFlight(clock)
    sender = make_sender(middleware=log, concurrency=8, rate_per_second=10, burst=2)
    report = await asyncio.wait_for(sender.drain(follow_retries=True), GUARD)
    assert (report.sent, report.rate_limited) == (40, 0)
    assert log.most > 1  # calls did overlap
    started = sorted(at for at, _, _ in log.calls)
    for first in started:  # any one second of the test's clock: 10, plus the burst of 2
        assert sum(1 for at in started if first <= at < first + 1.0) <= 12
    assert started[-1] - started[0] >= (40 - 2) / 10 - 1e-9


class StopAfter(CallLog):
    """Tells the sender to stop once `count` calls were answered, with others in flight."""

    def __init__(self, clock: FakeClock, count: int) -> None:
        super().__init__(clock)
        self.count = count
        self.answered = 0
        self.sender: Sender | None = None

    async def __call__(self, make_request, bot, method):
        response = await super().__call__(make_request, bot, method)
        self.answered += 1
        if self.answered == self.count and self.sender is not None:
            self.sender.stop()
        return response


async def test_stopped_mid_run_then_restarted_sends_each_once(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    telegram.server.latency = 0.02
    users = await started_users(telegram, 20)
    await queue_texts(sessions, users)
    log = StopAfter(clock, count=6)
    first = log.sender = make_sender(middleware=log, worker="first", concurrency=4)
    report = await asyncio.wait_for(first.drain(follow_retries=True), GUARD)
    assert 6 <= report.sent < 20
    left = await rows(sessions)
    assert {row.status for row in left} == {"sent", "queued"}  # in flight finished, rest back
    assert {row.claimed_by for row in left} == {""}
    assert sum(row.status == "sent" for row in left) == report.sent
    again = await asyncio.wait_for(
        make_sender(worker="second", concurrency=4).drain(follow_retries=True), GUARD
    )
    assert report.sent + again.sent == 20
    assert await received(telegram, users) == Counter(dict.fromkeys(users, 1))


class CrashWithKInFlight(CallLog):
    """After two answers, every call reaches Telegram and then never answers: the process
    dies with K messages delivered but not recorded, the worst moment."""

    def __init__(self, clock: FakeClock, k: int) -> None:
        super().__init__(clock)
        self.k = k
        self.answered = 0
        self.hung = 0
        self.all_hung = asyncio.Event()

    async def __call__(self, make_request, bot, method):
        response = await super().__call__(make_request, bot, method)
        self.answered += 1
        if self.answered > 2:
            self.hung += 1
            if self.hung == self.k:
                self.all_hung.set()
            await asyncio.Event().wait()  # the task is killed here
        return response


async def test_a_crash_with_k_calls_in_flight_repeats_at_most_k(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 10)
    await queue_texts(sessions, users)
    crash = CrashWithKInFlight(clock, k=4)
    first = asyncio.create_task(
        make_sender(middleware=crash, worker="first", concurrency=4).drain()
    )
    await asyncio.wait_for(crash.all_hung.wait(), GUARD)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    claims = Counter(row.claimed_by for row in await rows(sessions) if row.status == "sending")
    assert claims == {"first!": 4, "first": 4}  # four in flight, four claimed, not started
    report = await asyncio.wait_for(
        make_sender(worker="second", concurrency=4).drain(follow_retries=True), GUARD
    )
    assert report.sent == 8
    got = await received(telegram, users)
    assert all(count >= 1 for count in got.values())  # nothing lost
    assert sum(got.values()) - len(users) == 4  # the K in flight, sent twice: no more
    assert {row.status for row in await rows(sessions)} == {"sent"}


async def test_paid_broadcast_raises_the_pace_and_flags_every_call(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    settings = Settings(
        _env_file=None, send=SendSettings(allow_paid_broadcast=True, concurrency=3)
    )
    options = Sender.from_settings(sessions, None, settings).options
    assert (options.rate, options.concurrency, options.allow_paid_broadcast) == (1000, 3, True)
    assert SenderOptions().rate == 25  # off by default
    users = await started_users(telegram, 3)
    await queue_texts(sessions, users)
    log = CallLog(clock)
    sender = make_sender(middleware=log, allow_paid_broadcast=True, concurrency=3)
    assert sender.bucket.interval == 1 / 1000
    report = await asyncio.wait_for(sender.drain(), GUARD)
    assert report.sent == 3
    assert all(method.allow_paid_broadcast is True for _, _, method in log.calls)


async def test_a_chat_free_again_takes_its_turn_among_chats_never_written_to(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    # A staff chat written to a while ago (a broadcast's progress message, say) is free again:
    # its next message, first in the claim, goes first, not after every chat in the claim
    # that was never written to.
    users = await started_users(telegram, 21)
    staff, recipients = users[0], users[1:]
    await queue_texts(sessions, [staff], text="first")
    log = InFlight(clock)
    sender = make_sender(middleware=log, concurrency=1)
    assert (await sender.drain()).sent == 1
    clock.advance(5)
    await queue_texts(sessions, recipients)
    earlier = FakeClock.at(START).now() - dt.timedelta(seconds=1)  # claimed first
    await queue_texts(sessions, [staff], text="edit", not_before=earlier)
    report = await asyncio.wait_for(sender.drain(), GUARD)
    assert report.sent == 21
    assert [method.chat_id for _, _, method in log.calls[:2]] == [staff, staff]
