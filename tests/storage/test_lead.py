"""A lead unit reads its co-units' answers: submitted ones as submitted, drafts marked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from storage.models import Assignment
from storage.services import lead, reporting
from storage.services.reporting import Actor, ReportError
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def _world_with_a_lead(session):
    world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[801], [802], [803]])
    task = world.task_ids[0]
    row = (
        await session.exec(
            select(Assignment).where(
                Assignment.task_id == task, Assignment.unit_id == world.unit_ids[0]
            )
        )
    ).one()
    row.role = "lead"
    await session.flush()
    actors = [
        Actor(world.unit_ids[i], world.contact(i).name, world.contact(i).id, at=AT)
        for i in range(3)
    ]
    return world, task, actors


async def test_the_lead_sees_submitted_answers_and_drafts_marked(sessions):
    async with sessions() as session:
        world, task, (_, second, third) = await _world_with_a_lead(session)
        await reporting.append_text(session, second, world.round_id, task, "二单位已公开")
        await reporting.submit(session, second, world.round_id)
        await reporting.append_text(session, second, world.round_id, task, "又补充一句")
        await reporting.append_text(session, third, world.round_id, task, "三单位草稿")
        await session.commit()

        view = await lead.co_unit_answers(session, world.round_id, world.unit_ids[0], task)
        by_unit = {a.unit_name: a for a in view.answers}
        assert set(by_unit) == {"单位2", "单位3"}
        assert by_unit["单位2"].text == "二单位已公开"  # what was submitted, not the later edit
        assert by_unit["单位2"].submitted_version == 1 and by_unit["单位2"].changed_since
        assert by_unit["单位3"].submitted_version is None
        assert by_unit["单位3"].text == "三单位草稿"
        assert view.answered == 2


async def test_a_unit_that_does_not_lead_the_task_is_refused(sessions):
    async with sessions() as session:
        world, task, _ = await _world_with_a_lead(session)
        with pytest.raises(ReportError) as refused:
            await lead.co_unit_answers(session, world.round_id, world.unit_ids[1], task)
        assert refused.value.code == "not_lead"
