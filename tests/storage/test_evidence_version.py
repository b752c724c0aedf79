"""New evidence is a new version of the answer, so a button drawn before it is stale."""

from __future__ import annotations

import datetime as dt

from storage.services import reporting
from storage.services.reporting import Actor
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def test_evidence_moves_the_version_on_and_a_duplicate_does_not(sessions):
    async with sessions() as session:
        world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[901]])
        contact = world.contact(0)
        actor = Actor(world.unit_ids[0], contact.name, contact.id, at=AT)
        task = world.task_ids[0]
        await reporting.append_text(session, actor, world.round_id, task, "已公开")
        drawn_for = await reporting.entry_version(session, world.round_id, actor.unit_id, task)

        for _ in range(2):  # the same photo twice is kept once
            await reporting.add_evidence(
                session, actor, world.round_id, task, kind="photo", file_name="a.jpg", data=b"x"
            )
        now = await reporting.entry_version(session, world.round_id, actor.unit_id, task)
        assert now == drawn_for + 1
        stale = await reporting.stale_view(session, actor, world.round_id, task, drawn_for)
        assert stale is not None
