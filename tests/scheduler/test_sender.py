"""The sender through the sandbox: pacing, 429, 5xx and time-outs, 403, crashes, two senders."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections import Counter

from sqlmodel import select

from scheduler.clock import FakeClock
from storage.models import Contact, OutboxMessage
from storage.services.outbox import NewMessage, enqueue
from tests.scheduler.conftest import START, CallLog, bot_texts, started_users
from tests.scheduler.world import build_world


async def queue_texts(sessions, chat_ids: list[int], text: str = "通知", **fields) -> None:
    """One message per chat, queued at the start of the test's (fake) time."""
    messages = [
        NewMessage(f"test:{text}:{chat}", "broadcast", chat, {"text": f"{text} {chat}"}, **fields)
        for chat in chat_ids
    ]
    async with sessions() as session:
        await enqueue(session, messages, now=FakeClock.at(START).now())
        await session.commit()


async def rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_every_message_arrives_once_and_keeps_its_message_id(
    sessions, telegram, make_sender
) -> None:
    users = await started_users(telegram, 5)
    await queue_texts(sessions, users)
    report = await make_sender().drain()
    assert (report.sent, report.failed, report.rate_limited) == (5, 0, 0)
    for user in users:
        assert await bot_texts(telegram, user) == [f"通知 {user}"]
    for row in await rows(sessions):
        view = await telegram.client.read_chat(row.chat_id)
        assert (row.status, row.attempts) == ("sent", 1)
        assert row.telegram_message_id == view.bot_messages[0]["message_id"]


async def test_pacing_keeps_under_the_global_and_per_chat_limits(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    """With Telegram's limits on in the sandbox, a paced sender never meets a 429."""
    users = await started_users(telegram, 60)
    staff = users[0]
    await queue_texts(sessions, users)
    await queue_texts(sessions, [staff] * 1, text="second")
    await queue_texts(sessions, [staff], text="third")
    log = CallLog(clock)
    report = await make_sender(middleware=log, rate_per_second=25).drain(follow_retries=True)
    assert (report.sent, report.rate_limited) == (62, 0)
    times = [at for at, _, _ in log.calls]
    per_second = Counter(int((at - times[0]) // 1) for at in times)
    assert max(per_second.values()) <= 27  # 25 a second, plus a burst of two at most
    to_staff = [at for at, _, method in log.calls if method.chat_id == staff]
    assert len(to_staff) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(to_staff))


async def test_a_429_pauses_the_sender_for_retry_after_and_loses_nothing(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 8)
    await queue_texts(sessions, users)
    await telegram.client.inject_fault("flood", method="sendMessage", retry_after=7)
    log = CallLog(clock)  # one call in flight: every other call comes after the 429
    report = await make_sender(middleware=log, concurrency=1).drain(follow_retries=True)
    assert (report.sent, report.rate_limited, report.failed) == (8, 1, 0)
    flooded_at = log.calls[0][0]
    assert all(at >= flooded_at + 7 for at, _, _ in log.calls[1:])  # nothing sent early
    for user in users:
        assert len(await bot_texts(telegram, user)) == 1
    assert all(row.attempts == 1 for row in await rows(sessions))  # a 429 costs no attempt


async def test_server_errors_and_time_outs_are_retried_with_back_off(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await started_users(telegram, 3)
    await queue_texts(sessions, users)
    await telegram.client.inject_fault("error", count=2, method="sendMessage", status=500)
    await telegram.client.inject_fault("error", method="sendMessage", status=502)
    await telegram.client.inject_fault("timeout", method="sendMessage", delay=30)
    log = CallLog(clock)
    # One call at a time: which row meets which fault is then fixed (with several in flight
    # the four faults fall on the rows in any order, and the attempts per row with them).
    sender = make_sender(middleware=log, concurrency=1, request_timeout=0.5)  # the 30 s hang
    report = await sender.drain(follow_retries=True)
    assert (report.sent, report.retried, report.failed) == (3, 4, 0)
    for user in users:
        assert len(await bot_texts(telegram, user)) == 1
    waits = [b[0] - a[0] for a, b in zip(log.calls, log.calls[1:], strict=False)]
    assert max(waits) >= 0.5  # backed off rather than hammering
    assert sorted(row.attempts for row in await rows(sessions)) == [2, 2, 3]


async def test_a_message_that_keeps_failing_gives_up_with_the_reason(
    sessions, telegram, make_sender
) -> None:
    (user,) = await started_users(telegram, 1)
    await queue_texts(sessions, [user])
    await telegram.client.inject_fault("error", count=10, method="sendMessage", status=500)
    report = await make_sender(max_attempts=3).drain(follow_retries=True)
    assert (report.sent, report.failed) == (0, 1)
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Internal Server Error" in row.last_error and "gave up after 3" in row.last_error


async def test_a_bad_request_is_final_and_keeps_the_reason(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    (user,) = await started_users(telegram, 1)
    async with sessions() as session:
        await enqueue(
            session, dedupe_key="long", kind="x", chat_id=user, payload={"text": "字" * 4097}
        )
        await session.commit()  # fmt: skip
    report = await make_sender().drain(follow_retries=True)
    assert (report.sent, report.failed) == (0, 1)
    (row,) = await rows(sessions)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "message is too long" in row.last_error


async def test_a_blocked_contact_becomes_unreachable_and_staff_hear_once(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    contact_user, staff_user = await started_users(telegram, 2)
    async with sessions() as session:
        world = await build_world(
            session,
            due=clock.now().date(),
            chat_ids=[[contact_user]],
            staff_chat_ids=[staff_user],
        )
        contact_id = world.contact(0).id
        await session.commit()
    await telegram.client.block(contact_user)
    await queue_texts(sessions, [contact_user], text="one", contact_id=contact_id)
    await queue_texts(sessions, [contact_user], text="two", contact_id=contact_id)
    report = await make_sender().drain(follow_retries=True)
    assert (report.failed, report.sent) == (2, 1)  # both to the contact; one notice to staff
    async with sessions() as session:
        contact = await session.get(Contact, contact_id)
    assert contact.reachable is False
    assert contact.unreachable_reason == "Forbidden: bot was blocked by the user"
    (notice,) = await bot_texts(telegram, staff_user)
    assert "联系人" in notice and "单位1" in notice and "屏蔽" in notice
    assert "没有机器人能联系到" in notice  # the unit's only contact
    failed = [row for row in await rows(sessions) if row.status == "failed"]
    assert all(row.last_error.startswith("403 Forbidden") for row in failed)


async def test_a_chat_telegram_does_not_know_makes_the_contact_unreachable(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    (staff_user,) = await started_users(telegram, 1)
    gone = 7999  # never opened the bot: Telegram answers 400 "chat not found"
    async with sessions() as session:
        world = await build_world(
            session, due=clock.now().date(), chat_ids=[[gone]], staff_chat_ids=[staff_user]
        )
        contact_id = world.contact(0).id
        await session.commit()
    await queue_texts(sessions, [gone], contact_id=contact_id)
    report = await make_sender().drain(follow_retries=True)
    assert (report.failed, report.sent) == (1, 1)
    async with sessions() as session:
        contact = await session.get(Contact, contact_id)
    assert contact.reachable is False and "chat not found" in contact.unreachable_reason
    (notice,) = await bot_texts(telegram, staff_user)
    assert f"联系人{gone}" in notice and "找不到" in notice


class CrashAfterDelivery(CallLog):
    """The process dies after Telegram took the n-th message but before the answer came."""

    def __init__(self, clock: FakeClock, crash_at: int) -> None:
        super().__init__(clock)
        self.crash_at = crash_at
        self.delivered = asyncio.Event()

    async def __call__(self, make_request, bot, method):
        response = await super().__call__(make_request, bot, method)
        if len(self.calls) == self.crash_at:
            self.delivered.set()
            await asyncio.Event().wait()  # never answers: the task is killed here
        return response


async def crashed_mid_batch(sessions, telegram, make_sender, clock: FakeClock) -> list[int]:
    """Ten messages queued; a sender named "first" with one call in flight claims them all
    and dies during the fifth call, after Telegram delivered it. Returns the recipients.
    (test_sender_concurrency.py crashes one with K calls in flight.)"""
    users = await started_users(telegram, 10)
    await queue_texts(sessions, users)
    crash = CrashAfterDelivery(clock, crash_at=5)
    one_in_flight = make_sender(middleware=crash, worker="first", concurrency=1)
    first = asyncio.create_task(one_in_flight.drain())
    await asyncio.wait_for(crash.delivered.wait(), 10)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    return users


async def test_a_sender_killed_mid_batch_loses_nothing_and_repeats_at_most_one(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    users = await crashed_mid_batch(sessions, telegram, make_sender, clock)
    statuses = Counter(row.status for row in await rows(sessions))
    assert statuses == {"sent": 4, "sending": 6}  # the batch was claimed; four were recorded
    # A new process starts: the five never tried go at once, the one in flight once stale.
    report = await make_sender(worker="second").drain(follow_retries=True)
    assert report.sent == 6
    received = {user: len(await bot_texts(telegram, user)) for user in users}
    assert all(count >= 1 for count in received.values())  # nothing lost
    assert sum(received.values()) - len(users) == 1  # the one in flight, sent twice
    assert {row.status for row in await rows(sessions)} == {"sent"}


async def test_after_a_crash_what_was_claimed_but_never_tried_goes_at_once(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    await crashed_mid_batch(sessions, telegram, make_sender, clock)
    started = clock.now()
    # The next process sends at once, without waiting out the stale time: the five never
    # tried go now; the one in flight when the process died waits, as it may have been sent.
    report = await make_sender(worker="second").drain()
    assert report.sent == 5 and clock.now() - started < dt.timedelta(seconds=60)
    left = [row for row in await rows(sessions) if row.status != "sent"]
    assert [(row.status, row.claimed_by) for row in left] == [("sending", "first!")]


async def test_two_senders_share_the_work_and_send_each_message_once(
    sessions, telegram, make_sender
) -> None:
    await telegram.client.set_rate_limits(False)
    users = await started_users(telegram, 40)
    await queue_texts(sessions, users)
    one = make_sender(worker="one", batch_size=4)
    two = make_sender(worker="two", batch_size=4)
    reports = await asyncio.gather(one.drain(), two.drain())
    assert sum(report.sent for report in reports) == 40
    for user in users:
        assert len(await bot_texts(telegram, user)) == 1
    by_worker = Counter(row.claimed_by for row in await rows(sessions))
    assert by_worker == {"": 40}  # every row finished and released
