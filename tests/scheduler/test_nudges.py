"""Nudges: queued through the outbox to the reachable contacts of units not yet submitted,
once a day per unit, with the "report now" button, each one kept in the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from scheduler import nudges
from scheduler.buttons import ReportButton
from storage.models import OutboxMessage
from storage.services import audit, staff
from storage.services.reporting import Actor, append_text, submit
from storage.services.staff import StaffError
from tests.scheduler.world import build_world

DUE = dt.date(2023, 10, 10)
MORNING = dt.datetime(2023, 9, 25, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
ADMIN, VIEWER = 811, 812


async def _world(session):
    """单位1 submitted; 单位2 has two contacts, one of them English; 单位3 is unreachable."""
    world = await build_world(session, due=DUE, chat_ids=[[731], [732, 733], [734]])
    await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
    await staff.add_staff(session, VIEWER, "钱科员", staff.VIEWER)
    first = world.contact(0)
    actor = Actor(world.unit_ids[0], first.name, first.id, at=MORNING)
    await append_text(session, actor, world.round_id, world.task_ids[0], "已完成")
    await submit(session, actor, world.round_id)
    world.contact(1, 1).language = "en"
    world.contact(2).reachable = False
    await session.flush()
    return world


async def _queued(session) -> list[OutboxMessage]:
    return list(
        (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "nudge")
                .order_by(OutboxMessage.chat_id)
            )
        ).all()
    )


async def test_a_nudge_reaches_exactly_the_units_not_submitted_once_a_day(sessions):
    async with sessions() as session:
        world = await _world(session)
        first = await nudges.nudge(session, ADMIN, world.round_id, now=MORNING)
        again = await nudges.nudge(
            session, ADMIN, world.round_id, now=MORNING + dt.timedelta(hours=3)
        )
        await session.commit()
        queued = await _queued(session)
        tomorrow = await nudges.nudge(
            session, ADMIN, world.round_id, now=MORNING + dt.timedelta(days=1)
        )
        trail = await audit.trail(session, action_prefix="nudge")
    assert (first.queued, first.nudged, first.unreachable) == (2, ["单位2"], ["单位3"])
    assert (again.queued, again.nudged, again.already) == (0, [], ["单位2"])
    assert [m.chat_id for m in queued] == [732, 733]
    assert queued[0].dedupe_key == f"nudge:{world.round_id}:{world.unit_ids[1]}:" + (
        f"{world.contact(1).id}:2023-09-25"
    )
    assert tomorrow.queued == 2
    assert [(e.action, e.unit_id, e.actor_label) for e in trail] == [
        ("nudge.round", world.unit_ids[1], "张主任"),
        ("nudge.round", world.unit_ids[1], "张主任"),
    ]


async def test_the_message_says_the_office_asks_and_has_the_report_button(sessions):
    async with sessions() as session:
        world = await _world(session)
        await nudges.nudge(session, ADMIN, world.round_id, now=MORNING)
        chinese, english = [m.payload for m in await _queued(session)]
    assert "办公室请贵单位" in chinese["text"] and "2023-10-10" in chinese["text"]
    assert "已填报 0/3 项任务" in chinese["text"]
    assert "The office asks your unit" in english["text"]
    [[button]] = chinese["reply_markup"]["inline_keyboard"]
    assert button["text"] == "立即填报"
    assert ReportButton.unpack(button["callback_data"]) == ReportButton(
        unit=world.unit_ids[1], round=world.round_id
    )


async def test_one_unit_can_be_nudged_and_a_submitted_one_is_not(sessions):
    async with sessions() as session:
        world = await _world(session)
        done = await nudges.nudge(
            session, ADMIN, world.round_id, now=MORNING, unit_id=world.unit_ids[0]
        )
        one = await nudges.nudge(
            session, ADMIN, world.round_id, now=MORNING, unit_id=world.unit_ids[1]
        )
        trail = await audit.trail(session, action_prefix="nudge")
    assert (done.queued, done.already_submitted) == (0, ["单位1"])
    assert (one.queued, one.nudged) == (2, ["单位2"])
    assert [(e.action, e.unit_id) for e in trail] == [("nudge.unit", world.unit_ids[1])]


async def test_a_viewer_cannot_nudge_and_nothing_is_queued(sessions):
    async with sessions() as session:
        world = await _world(session)
        with pytest.raises(StaffError) as refused:
            await nudges.nudge(session, VIEWER, world.round_id, now=MORNING)
        assert refused.value.code == "admin_only"
        assert await _queued(session) == []
