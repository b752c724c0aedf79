"""Queuing is idempotent: the same message is never queued twice, however often we sweep."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import event, func
from sqlmodel import select

from scheduler.buttons import ReportButton, SnoozeButton
from scheduler.clock import FakeClock
from scheduler.reminders import snooze, sweep
from storage.models import Contact, OutboxMessage
from storage.services.outbox import NewMessage, enqueue
from tests.scheduler.world import answer, build_world, submit

DUE = dt.date(2023, 10, 10)
MONDAY_MORNING = FakeClock.at("2023-10-09 09:30").now()  # before-1 of the round


async def outbox_rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_enqueueing_the_same_key_twice_keeps_one_row(sessions) -> None:
    message = NewMessage("notice:1", "staff_notice", 42, {"chat_id": 42, "text": "hello"})
    async with sessions() as session:
        assert await enqueue(session, [message, message]) == 1
        await session.commit()
    async with sessions() as session:
        assert await enqueue(session, [message]) == 0
        # the keyword form the handlers use, without chat_id in the payload
        assert await enqueue(session, dedupe_key="notice:1", kind="x", chat_id=1, payload={}) == 0
        await session.commit()
    (row,) = await outbox_rows(sessions)
    assert (row.dedupe_key, row.status, row.payload["text"]) == ("notice:1", "queued", "hello")


async def test_a_sweep_queues_each_reminder_once(sessions) -> None:
    async with sessions() as session:
        world = await build_world(session, due=DUE, chat_ids=[[101], [102, 103]])
        await session.commit()
    async with sessions() as session:
        first = await sweep(session, now=MONDAY_MORNING)
        await session.commit()
    async with sessions() as session:
        again = await sweep(session, now=MONDAY_MORNING + dt.timedelta(hours=2))
        await session.commit()
    assert (first.reminders, first.queued) == (3, 3)
    assert (again.reminders, again.queued) == (3, 0)
    rows = await outbox_rows(sessions)
    assert sorted(row.chat_id for row in rows) == [101, 102, 103]
    unit = world.unit_ids[0]
    contact = world.contact(0).id
    assert f"reminder:{world.round_id}:{unit}:{contact}:before-1:2023-10-09" in {
        row.dedupe_key for row in rows
    }


async def test_two_sweeps_at_once_queue_each_reminder_once(sessions) -> None:
    async with sessions() as session:
        await build_world(session, due=DUE, chat_ids=[[100 + i] for i in range(20)])
        await session.commit()

    async def one_sweep() -> int:
        async with sessions() as session:
            result = await sweep(session, now=MONDAY_MORNING)
            await session.commit()
            return result.reminders

    assert await asyncio.gather(one_sweep(), one_sweep()) == [20, 20]
    rows = await outbox_rows(sessions)
    assert len(rows) == 20
    assert len({row.chat_id for row in rows}) == 20


async def test_the_reminder_says_round_deadline_progress_and_carries_two_buttons(
    sessions,
) -> None:
    async with sessions() as session:
        world = await build_world(session, due=DUE, chat_ids=[[101], [102]], tasks=3)
        await answer(session, world, 0, 0)
        english = await session.get(Contact, world.contact(1).id)
        english.language = "en"
        await session.commit()
        await sweep(session, now=MONDAY_MORNING)
        await session.commit()
    chinese, english = await outbox_rows(sessions)
    assert chinese.payload["text"].splitlines() == [
        "⏰ <b>2023年报送</b> · 单位1",
        "截止日期为 2023-10-10，即下一个工作日。",
        "已填报 1/3 项任务。",
    ]
    assert english.payload["text"].splitlines()[1:] == [
        "The deadline is 2023-10-10, the next working day.",
        "0 of 3 tasks answered.",
    ]
    (buttons,) = english.payload["reply_markup"]["inline_keyboard"]
    unit, round_id = world.unit_ids[1], world.round_id
    assert [b["text"] for b in buttons] == ["Report now", "Remind me tomorrow"]
    assert [b["callback_data"] for b in buttons] == [
        ReportButton(unit=unit, round=round_id).pack(),
        SnoozeButton(unit=unit, round=round_id).pack(),
    ]


async def test_submitted_units_and_unreachable_contacts_get_nothing(sessions) -> None:
    async with sessions() as session:
        world = await build_world(session, due=DUE, chat_ids=[[101], [102], [103]])
        await submit(session, world, 0, MONDAY_MORNING)
        world.contact(1).reachable = False
        await session.commit()
        result = await sweep(session, now=MONDAY_MORNING)
        await session.commit()
    assert [row.chat_id for row in await outbox_rows(sessions)] == [103]
    assert result.unreachable == [(world.round_id, "单位2")]


async def test_the_escalation_reaches_each_staff_member_once(sessions) -> None:
    async with sessions() as session:
        await build_world(session, due=DUE, chat_ids=[[101], [102]], staff_chat_ids=[900])
        await session.commit()
    escalation_day = FakeClock.at("2023-10-18 09:00").now()
    for hours in (0, 1, 24):  # again later that day, and the next day (catching up)
        async with sessions() as session:
            result = await sweep(
                session, now=escalation_day + dt.timedelta(hours=hours), staff_ids=[901]
            )
            await session.commit()
        assert result.escalations == 2
    rows = await outbox_rows(sessions)
    assert sorted(row.chat_id for row in rows) == [900, 901]
    text = rows[0].payload["text"]
    assert "2 个单位" in text and "• 单位1 (0/3)" in text and "• 单位2 (0/3)" in text


async def test_snoozing_brings_a_reminder_on_the_next_working_day(sessions) -> None:
    async with sessions() as session:
        world = await build_world(session, due=DUE, chat_ids=[[101, 102]])
        await session.commit()
        contact = world.contact(0)
        # Thursday Sep 28, before the National Day holiday: next working day is Sat Oct 7
        thursday = dt.date(2023, 9, 28)
        day = await snooze(session, world.unit_ids[0], world.round_id, contact.id, thursday)
        again = await snooze(session, world.unit_ids[0], world.round_id, contact.id, thursday)
        await session.commit()
    assert day == again == dt.date(2023, 10, 7)
    async with sessions() as session:
        result = await sweep(session, now=FakeClock.at("2023-10-07 09:05").now())
        await session.commit()
    assert result.reminders == 1
    (row,) = await outbox_rows(sessions)
    assert row.chat_id == 101 and row.dedupe_key.endswith(":snooze:2023-10-07")


async def test_the_sweep_reads_with_a_fixed_number_of_statements(sessions) -> None:
    async def statements_for(key: str, units: int, base: int) -> int:
        async with sessions() as session:
            world = await build_world(
                session,
                due=DUE,
                chat_ids=[[base + i, base + 1000 + i] for i in range(units)],
                key=key,
            )
            await answer(session, world, 0, 0)
            await session.commit()
        async with sessions() as session:
            connection = await session.connection()
            count = 0

            def counted(*_args) -> None:
                nonlocal count
                count += 1

            event.listen(connection.sync_connection, "before_cursor_execute", counted)
            await sweep(session, now=MONDAY_MORNING, round_ids=[world.round_id])
            await session.rollback()
            return count

    assert await statements_for("small", 2, 10_000) == await statements_for("big", 40, 20_000)


async def test_a_task_due_before_the_round_reminds_its_unit(sessions) -> None:
    """医保局 measure 7 (due 2023年3月底) belongs to 办公室 alone."""
    from ledger.plan_yaml import load_plan
    from ledger.samples import sample_path
    from ledger.units import load_units
    from storage.models import Unit
    from storage.services.directories import import_directory
    from storage.services.plans import import_plan

    async with sessions() as session:
        await import_directory(session, load_units(sample_path("yibao-units.yaml")))
        await import_plan(session, load_plan(sample_path("yibao-2023.yaml")))
        units = (await session.exec(select(Unit))).all()
        for n, unit in enumerate(units):
            session.add(Contact(unit_id=unit.id, telegram_user_id=500 + n, chat_id=500 + n))
        await session.commit()
        office = next(unit for unit in units if unit.name == "办公室")
        result = await sweep(session, now=FakeClock.at("2023-03-29 09:00").now())
        await session.commit()
        count = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    assert (result.reminders, count) == (1, 1)
    (row,) = await outbox_rows(sessions)
    office_chat = 500 + [unit.id for unit in units].index(office.id)
    assert row.chat_id == office_chat
    assert ":task-7-before-2:2023-03-29" in row.dedupe_key
    assert "任务 7" in row.payload["text"] and "2023-03-31" in row.payload["text"]
