"""What the dialog's changes refuse, and that a refusal writes nothing, now that the round and
the task are checked in one statement and an append is not read twice before it is locked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from storage.models import ProgressEntry, Revision, Round
from storage.services import reporting
from storage.services.reporting import MAX_ANSWER_CHARS, Actor, ReportError
from tests.scheduler.world import build_world

AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


async def _worlds(sessions):
    async with sessions() as session:
        ours = await build_world(session, due=dt.date(2023, 10, 10), chat_ids=[[501]])
        other = await build_world(
            session, due=dt.date(2023, 10, 10), chat_ids=[[601]], key="other-plan"
        )
        await session.commit()
    contact = ours.contacts[ours.unit_ids[0]][0]
    return ours, other, Actor(ours.unit_ids[0], contact.name, contact.id, at=AT)


async def _refusal(sessions, change) -> str:
    async with sessions() as session:
        with pytest.raises(ReportError) as refused:
            await change(session)
        await session.commit()  # as the bot does when it answers the refusal
    return refused.value.code


async def _entries_and_revisions(sessions) -> tuple[list[ProgressEntry], int]:
    async with sessions() as session:
        entries = list((await session.exec(select(ProgressEntry))).all())
        revisions = len((await session.exec(select(Revision))).all())
    return entries, revisions


async def test_refusals_of_the_round_and_the_task(sessions):
    ours, other, actor = await _worlds(sessions)
    task = ours.task_ids[0]

    def append(round_id: int, task_id: int):
        return lambda s: reporting.append_text(s, actor, round_id, task_id, "进展")

    assert await _refusal(sessions, append(ours.round_id + 1000, task)) == "round_missing"
    assert await _refusal(sessions, append(ours.round_id, other.task_ids[0])) == "not_your_task"
    card = lambda s: reporting.card(s, ours.round_id, actor.unit_id, other.task_ids[0])  # noqa: E731
    assert await _refusal(sessions, card) == "not_your_task"
    async with sessions() as session:
        round_ = await session.get(Round, ours.round_id)
        round_.status = "closed"
        session.add(round_)
        await session.commit()
    assert await _refusal(sessions, append(ours.round_id, task)) == "round_closed"
    assert await _entries_and_revisions(sessions) == ([], 0)
    async with sessions() as session:  # a closed round's card still shows
        shown = await reporting.card(session, ours.round_id, actor.unit_id, task)
    assert shown.item == "重点工作" and shown.version == 0


async def test_an_answer_grown_too_long_is_refused_whole_and_nothing_is_written(sessions):
    ours, _, actor = await _worlds(sessions)
    task = ours.task_ids[0]
    too_long = "长" * (MAX_ANSWER_CHARS + 1)
    append_too_long = lambda s: reporting.append_text(s, actor, ours.round_id, task, too_long)  # noqa: E731
    assert await _refusal(sessions, append_too_long) == "answer_too_long"
    assert await _entries_and_revisions(sessions) == ([], 0)  # not even an empty entry

    async with sessions() as session:
        first = "字" * (MAX_ANSWER_CHARS - 10)
        await reporting.append_text(session, actor, ours.round_id, task, first)
        await session.commit()
    more = lambda s: reporting.append_text(s, actor, ours.round_id, task, "再写二十个字" * 4)  # noqa: E731
    assert await _refusal(sessions, more) == "answer_too_long"
    (entry,), revisions = await _entries_and_revisions(sessions)
    assert (entry.text, entry.version, revisions) == (first, 1, 1)
