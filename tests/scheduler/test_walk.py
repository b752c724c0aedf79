"""Walk a round through the 2023 National Day holiday with a clock the test moves.

Three units report for a round due Tuesday 2023-10-10. Each working day at 09:00 and again
at 15:00 the sweep runs and the sender drains the outbox into the sandbox; the test reads
the chats as the people see them.
"""

from __future__ import annotations

import datetime as dt

from scheduler.clock import FakeClock
from scheduler.reminders import snooze, sweep
from tests.scheduler.conftest import bot_texts, started_users
from tests.scheduler.world import answer, build_world, submit

DUE = dt.date(2023, 10, 10)


def days(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


async def test_a_round_walked_through_national_day(
    sessions, telegram, make_sender, clock: FakeClock
) -> None:
    a, b, c, staff = await started_users(telegram, 4)
    async with sessions() as session:
        world = await build_world(
            session, due=DUE, chat_ids=[[a], [b], [c]], staff_chat_ids=[staff]
        )
        await session.commit()
    sender = make_sender()
    arrived: dict[int, list[tuple[dt.date, str]]] = {user: [] for user in (a, b, c, staff)}

    async def run_the_day(day: dt.date) -> None:
        for hour in ("09:00", "15:00"):  # a second sweep the same day queues nothing new
            clock.set(f"{day} {hour}")
            async with sessions() as session:
                await sweep(session, clock=clock)
                await session.commit()
            await sender.drain(follow_retries=True)
        for user, seen in arrived.items():
            texts = await bot_texts(telegram, user)
            seen.extend((day, text) for text in texts[len(seen) :])

    for day in days("2023-09-25", "2023-10-20"):
        if day == dt.date(2023, 10, 10):
            await telegram.client.block(c)  # unit 3's contact blocks the bot
        await run_the_day(day)
        async with sessions() as session:
            if day == dt.date(2023, 9, 27):  # unit 1 presses "remind me tomorrow"
                await snooze(session, world.unit_ids[0], world.round_id, world.contact(0).id, day)
            if day == dt.date(2023, 10, 9):
                await answer(session, world, 0, 0)
                await submit(session, world, 1, clock.now())  # unit 2 submits
            await session.commit()

    def when(user: int) -> list[str]:
        return [day.isoformat() for day, _ in arrived[user]]

    assert when(a) == [
        "2023-09-27",  # 5 working days before
        "2023-09-28",  # snoozed: the next working day
        "2023-10-08",  # 2 working days before: a 调休 Sunday
        "2023-10-09",
        "2023-10-10",  # the morning of the deadline
        "2023-10-11", "2023-10-12", "2023-10-13", "2023-10-16", "2023-10-17",  # overdue
    ]  # fmt: skip
    assert when(b) == ["2023-09-27", "2023-10-08", "2023-10-09"]  # then it submitted
    assert when(c) == ["2023-09-27", "2023-10-08", "2023-10-09"]  # then it blocked the bot
    assert when(staff) == ["2023-10-10", "2023-10-18"]  # told of the block; the escalation

    texts_a = [text for _, text in arrived[a]]
    assert "还有 5 个工作日" in texts_a[0]
    assert "按您的要求再次提醒" in texts_a[1]
    assert "还有 2 个工作日" in texts_a[2]
    assert "今天（2023-10-10）是截止日期" in texts_a[4] and "已填报 1/3 项任务" in texts_a[4]
    assert "截止日期（2023-10-10）已过" in texts_a[5]
    assert "已超过截止日期（2023-10-10）5 个工作日" in texts_a[9]
    (_, notice), (_, escalation) = arrived[staff]
    assert "单位3" in notice and "屏蔽" in notice
    assert "仍有 2 个单位未报送" in escalation
    assert "• 单位1 (1/3)" in escalation and "• 单位3 (0/3)" in escalation
    assert "单位2" not in escalation
