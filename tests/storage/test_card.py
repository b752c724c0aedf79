"""A task's card reads its answer and the evidence's names in one statement."""

from __future__ import annotations

import datetime as dt

from storage.services import reporting
from storage.services.reporting import Actor
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def test_the_card_shows_the_answer_and_every_file_in_the_order_kept(sessions):
    async with sessions() as session:
        world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[501]])
        await session.commit()
    contact = world.contacts[world.unit_ids[0]][0]
    actor = Actor(world.unit_ids[0], contact.name, contact.id, at=AT)
    task = world.task_ids[1]
    async with sessions() as session:
        empty = await reporting.card(session, world.round_id, actor.unit_id, task)
        assert (empty.text, empty.version, empty.evidence) == ("", 0, [])
        await reporting.append_text(session, actor, world.round_id, task, "已完成")
        written = await reporting.card(session, world.round_id, actor.unit_id, task)
        assert (written.text, written.evidence) == ("已完成", [])
        for name, data in (("b.pdf", b"2"), ("a.jpg", b"1"), ("b.pdf", b"3")):
            await reporting.add_evidence(
                session, actor, world.round_id, task, kind="document", file_name=name, data=data
            )
        await session.commit()
    async with sessions() as session:
        shown = await reporting.card(session, world.round_id, actor.unit_id, task)
    assert shown.text == "已完成" and shown.version == 4
    assert shown.evidence == ["b.pdf", "a.jpg", "b-2.pdf"]
    assert (shown.position, shown.total) == (2, 3)
