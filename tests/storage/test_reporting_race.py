"""Two contacts of one unit write to the same task at the same moment: both answers are kept.

Each contact has its own session (as two updates handled at once have), on SQLite and on
PostgreSQL. Both read before either writes, which is the moment that lost an answer before.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

from sqlmodel import select

from storage.models import ProgressEntry, Revision
from storage.services import reporting
from storage.services.reporting import Actor
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def _world(sessions):
    async with sessions() as session:
        world = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[501, 502]])
        await session.commit()
    actors = [
        Actor(unit_id=world.unit_ids[0], label=c.name, contact_id=c.id, at=AT)
        for c in world.contacts[world.unit_ids[0]]
    ]
    return world, actors


async def _write_together(sessions, world, actors, task_id, texts) -> None:
    """Each actor appends its text in its own session; they start at the same moment."""
    barrier = asyncio.Barrier(len(actors))

    async def write(actor: Actor, text: str) -> None:
        async with sessions() as session:
            await barrier.wait()
            await reporting.append_text(session, actor, world.round_id, task_id, text)
            await session.commit()

    await asyncio.wait_for(
        asyncio.gather(*(write(a, t) for a, t in zip(actors, texts, strict=True))), 60
    )


async def _stored(sessions, world, task_id) -> tuple[ProgressEntry, list[Revision]]:
    async with sessions() as session:
        (entry,) = (
            await session.exec(select(ProgressEntry).where(ProgressEntry.task_id == task_id))
        ).all()
        revisions = list(
            (
                await session.exec(
                    select(Revision).where(Revision.entry_id == entry.id).order_by(Revision.id)
                )
            ).all()
        )
    return entry, revisions


def _check_history(entry: ProgressEntry, revisions: list[Revision]) -> None:
    """Each revision starts from what the one before left: no change was written over."""
    assert entry.version == len(revisions)
    assert revisions[0].old_text == ""
    for before, after in itertools.pairwise(revisions):
        assert after.old_text == before.new_text
    assert revisions[-1].new_text == entry.text


async def test_two_first_answers_at_the_same_moment_are_both_kept(sessions) -> None:
    world, actors = await _world(sessions)
    for task_id in world.task_ids:  # a few rounds of the race
        texts = [f"甲写的 {task_id}", f"乙写的 {task_id}"]
        await _write_together(sessions, world, actors, task_id, texts)
        entry, revisions = await _stored(sessions, world, task_id)
        assert sorted(entry.text.split("\n")) == sorted(texts)
        assert entry.status == "in_progress"
        _check_history(entry, revisions)
        assert {r.by_contact_id for r in revisions} == {a.contact_id for a in actors}


async def test_two_appends_to_an_existing_answer_are_both_kept(sessions) -> None:
    world, actors = await _world(sessions)
    task_id = world.task_ids[0]
    async with sessions() as session:
        await reporting.append_text(session, actors[0], world.round_id, task_id, "第一段")
        await session.commit()
    for n in range(3):
        await _write_together(sessions, world, actors, task_id, [f"甲{n}", f"乙{n}"])
    entry, revisions = await _stored(sessions, world, task_id)
    lines = entry.text.split("\n")
    assert lines[0] == "第一段"
    assert sorted(lines[1:]) == sorted(f"{who}{n}" for who in "甲乙" for n in range(3))
    _check_history(entry, revisions)
