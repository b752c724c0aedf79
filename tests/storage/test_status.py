"""A round's status for the office: states, kinds, per-task counts, one unit's detail, and
whom a nudge reaches; on SQLite and PostgreSQL, in a fixed number of statements."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from storage.models import Round, Unit
from storage.services import staff, status, submitted
from storage.services.reporting import Actor, append_text, replace_text, set_status, submit
from storage.services.staff import StaffError
from tests.scheduler.world import build_world

DUE = dt.date(2023, 10, 10)
BEFORE = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
AFTER = dt.datetime(2023, 10, 11, 2, 0, tzinfo=dt.UTC)  # the day after the deadline
ADMIN, VIEWER = 801, 802
KINDS = ["department", "township", "street", "section"]


async def _world(session, units: int = 4, tasks: int = 3):
    """Units 1–4 of kinds department, township, street, section, a contact each; staff."""
    world = await build_world(
        session, due=DUE, tasks=tasks, chat_ids=[[700 + n] for n in range(units)]
    )
    for index, unit_id in enumerate(world.unit_ids):
        unit = await session.get(Unit, unit_id)
        unit.kind = KINDS[index % len(KINDS)]
        unit.short_name = f"短{index + 1}"
    await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
    await staff.add_staff(session, VIEWER, "钱科员", staff.VIEWER)
    await session.flush()
    return world


def _actor(world, index: int, at: dt.datetime) -> Actor:
    contact = world.contact(index)
    return Actor(world.unit_ids[index], contact.name, contact.id, at=at)


async def _answer(session, world, index: int, task: int, at=BEFORE, text="已完成"):
    actor = _actor(world, index, at)
    await append_text(session, actor, world.round_id, world.task_ids[task], text)


async def _mixed_round(session):
    """单位1 submitted on time (all answered), 单位2 answered one task, 单位3 nothing and
    unreachable, 单位4 submitted after the deadline with one task not applicable."""
    world = await _world(session)
    for task in range(3):
        await _answer(session, world, 0, task)
    await submit(session, _actor(world, 0, BEFORE), world.round_id)
    await _answer(session, world, 1, 0)
    world.contact(2).reachable = False
    await set_status(
        session,
        _actor(world, 3, BEFORE),
        world.round_id,
        world.task_ids[2],
        "not_applicable",
        "本单位不涉及",
    )
    await submit(session, _actor(world, 3, AFTER), world.round_id)
    await session.flush()
    return world


async def test_each_unit_has_its_state_answers_submission_and_reachability(sessions):
    async with sessions() as session:
        world = await _mixed_round(session)
        await session.commit()
        found = await status.round_status(session, ADMIN, world.round_id, now=AFTER)
    by_name = {u.name: u for u in found.units}
    assert [(u.state, u.answered, u.total) for u in found.units] == [
        (status.ON_TIME, 3, 3),
        (status.PARTLY, 1, 3),
        (status.NOT_STARTED, 0, 3),
        (status.LATE, 1, 3),
    ]
    assert found.counts() == {"on_time": 1, "late": 1, "partly": 1, "not_started": 1}
    assert by_name["单位1"].version == 1 and by_name["单位1"].submitted_at == BEFORE
    assert by_name["单位4"].submitted_at == AFTER and by_name["单位2"].version == 0
    assert [u.name for u in found.unreachable] == ["单位3"]
    assert by_name["单位1"].reachable and by_name["单位1"].review == ""
    assert found.overdue and found.open
    # Per task: how many of its four units answered it.
    counts = [(t.number, t.answered, t.total) for t in found.tasks]
    assert counts == [(1, 2, 4), (2, 1, 4), (3, 2, 4)]


async def test_townships_and_street_offices_are_one_group_and_the_unreported_are_named(sessions):
    async with sessions() as session:
        world = await _mixed_round(session)
        found = await status.round_status(session, VIEWER, world.round_id)
    assert found.groups() == [status.DEPARTMENT, status.TOWN, status.SECTION]
    missing = found.not_reported_by_group()
    assert {group: [u.label for u in units] for group, units in missing.items()} == {
        status.TOWN: ["短2", "短3"]
    }
    assert found.counts_by_group()[status.TOWN] == {
        "on_time": 0,
        "late": 0,
        "partly": 1,
        "not_started": 1,
    }
    assert not found.overdue  # asked without a clock


async def test_staff_see_changes_made_since_submitting(sessions):
    async with sessions() as session:
        world = await _world(session)
        await _answer(session, world, 0, 0)
        await submit(session, _actor(world, 0, BEFORE), world.round_id)
        later = BEFORE + dt.timedelta(hours=1)
        await replace_text(
            session, _actor(world, 0, later), world.round_id, world.task_ids[0], "改过的进展"
        )
        await _answer(session, world, 0, 1, at=later)
        await session.commit()
        found = await status.round_status(session, ADMIN, world.round_id)
        unit_id = world.unit_ids[0]
        expected = await submitted.unsubmitted_tasks(session, world.round_id, unit_id)
        detail = await status.unit_detail(session, ADMIN, world.round_id, unit_id)
    assert found.units[0].pending_changes == expected == [1, 2]
    assert found.units[0].state == status.ON_TIME  # still submitted: the first version stands
    assert [(a.number, a.changed) for a in detail.answers] == [(1, True), (2, True), (3, False)]
    assert detail.unit.pending_changes == [1, 2]


async def test_a_unit_detail_has_its_answers_versions_in_local_time_and_contacts(sessions):
    async with sessions() as session:
        world = await _mixed_round(session)
        unit_id = world.unit_ids[0]
        later = BEFORE + dt.timedelta(days=1)
        await replace_text(
            session, _actor(world, 0, later), world.round_id, world.task_ids[0], "第二版"
        )
        await submit(session, _actor(world, 0, later), world.round_id)
        await session.commit()
        detail = await status.unit_detail(session, VIEWER, world.round_id, unit_id)
        silent = await status.unit_detail(session, VIEWER, world.round_id, world.unit_ids[2])
    assert [(v.version, v.at.strftime("%m-%d %H:%M")) for v in detail.versions] == [
        (1, "09-25 10:00"),
        (2, "09-26 10:00"),
    ]
    assert detail.on_time and detail.unit.version == 2 and detail.submitted
    assert [(a.number, a.text, a.answered, a.changed) for a in detail.answers] == [
        (1, "第二版", True, False),
        (2, "已完成", True, False),
        (3, "已完成", True, False),
    ]
    assert [(c.name, c.reachable) for c in detail.contacts] == [("联系人700", True)]
    assert silent.unit.state == status.NOT_STARTED and not silent.submitted
    assert [c.reachable for c in silent.contacts] == [False]
    assert not any(a.answered for a in silent.answers)


async def test_only_staff_read_status_and_only_admins_choose_whom_to_nudge(sessions):
    async with sessions() as session:
        world = await _mixed_round(session)
        with pytest.raises(StaffError) as stranger:
            await status.round_status(session, 12345, world.round_id)
        assert stranger.value.code == "not_staff"
        with pytest.raises(StaffError):
            await status.unit_detail(session, 12345, world.round_id, world.unit_ids[0])
        with pytest.raises(StaffError) as viewer:
            await status.nudge_targets(session, VIEWER, world.round_id, now=BEFORE)
        assert viewer.value.code == "admin_only"


async def test_a_nudge_is_for_reachable_contacts_of_units_not_submitted(sessions):
    async with sessions() as session:
        world = await _mixed_round(session)
        plan = await status.nudge_targets(session, ADMIN, world.round_id, now=BEFORE)
        one = await status.nudge_targets(
            session, ADMIN, world.round_id, now=BEFORE, unit_id=world.unit_ids[0]
        )
        round_ = await session.get(Round, world.round_id)
        round_.status = "closed"
        await session.flush()
        with pytest.raises(status.StatusError) as closed:
            await status.nudge_targets(session, ADMIN, world.round_id, now=BEFORE)
    assert [(t.name, [c.chat_id for c in t.contacts]) for t in plan.targets] == [("单位2", [701])]
    assert plan.unreachable == ["短3"] and plan.day == dt.date(2023, 9, 25)
    assert one.targets == [] and one.already_submitted == ["短1"]
    assert closed.value.code == "round_closed"


async def test_the_default_round_is_the_open_one_due_soonest(sessions):
    async with sessions() as session:
        world = await _world(session)
        assert (await status.default_round(session)).id == world.round_id
        later = Round(
            plan_id=world.plan_id, name="下一轮", due_date=DUE + dt.timedelta(days=60),
            deadline_at=AFTER + dt.timedelta(days=60),
        )  # fmt: skip
        session.add(later)
        await session.flush()
        assert (await status.default_round(session)).id == world.round_id
        (await session.get(Round, world.round_id)).status = "closed"
        await session.flush()
        assert (await status.default_round(session)).id == later.id
        choices = await status.rounds_to_pick(session, VIEWER)
    assert [(c.round_id, c.open) for c in choices] == [(later.id, True), (world.round_id, False)]


async def test_reading_a_round_takes_the_same_statements_for_more_units(sessions):
    """A few statements per round, never one per unit or per task."""

    async def statements(units: int, tasks: int, key: str) -> int:
        async with sessions() as session:
            world = await build_world(
                session, due=DUE, tasks=tasks, key=key,
                chat_ids=[[9000 + 100 * tasks + n] for n in range(units)],
            )  # fmt: skip
            await staff.add_staff(session, ADMIN, "张主任", staff.ADMIN)
            for index in range(0, units, 2):
                await _answer(session, world, index, 0)
                await submit(session, _actor(world, index, BEFORE), world.round_id)
            await session.commit()
            seen = []
            engine = session.bind.sync_engine

            def count(*_args):
                seen.append(1)

            event.listen(engine, "before_cursor_execute", count)
            try:
                await status.round_status(session, ADMIN, world.round_id)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            return len(seen)

    assert await statements(2, 2, "small") == await statements(12, 6, "larger") <= 12
