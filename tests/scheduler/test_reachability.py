"""Reachability changes in one place, and the staff hear of each change once.

Blocking, a 403 from the outbox, unblocking and writing again all go through
scheduler.notices.change_reachability; these tests drive it directly, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from scheduler.notices import change_reachability
from storage.models import Contact, OutboxMessage
from tests.scheduler.world import build_world

NOW = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)
STAFF = [9001, 9002]
A, B = 8001, 8002  # the two contacts of 单位1


async def _world(sessions):
    async with sessions() as session:
        world = await build_world(
            session, due=dt.date(2023, 10, 10), chat_ids=[[A, B]], staff_chat_ids=STAFF[:1]
        )
        await session.commit()
    return world


async def _change(sessions, user: int, reachable: bool, cause: str, reason: str = ""):
    async with sessions() as session:
        changes = await change_reachability(
            session,
            reachable,
            cause=cause,
            telegram_user_id=user,
            reason=reason,
            staff_ids=STAFF,  # one staff member in the table, one from STAFF_IDS only
            now=NOW,
        )
        await session.commit()
    return changes


async def _notices(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert {row.chat_id for row in rows} <= set(STAFF)
    return [row for row in rows if row.chat_id == STAFF[0]]


async def test_each_change_is_told_once_naming_the_unit_and_the_person(sessions) -> None:
    await _world(sessions)
    (first,) = await _change(sessions, A, False, "update:1", "blocked the bot")
    assert (first.unit_name, first.contact_name, first.reachable) == ("单位1", f"联系人{A}", False)
    assert first.unit_reachable  # B is still there
    (notice,) = await _notices(sessions)
    assert f"联系人{A}" in notice.payload["text"] and "单位1" in notice.payload["text"]
    assert "屏蔽" in notice.payload["text"] and "没有机器人能联系到" not in notice.payload["text"]
    assert notice.next_attempt_at == NOW  # on the bot's clock, not the wall clock

    # The same block seen again (a 403 to a reminder, a redelivered update): nothing new.
    assert await _change(sessions, A, False, "outbox:7", "Forbidden: bot was blocked") == []
    assert len(await _notices(sessions)) == 1

    (second,) = await _change(sessions, B, False, "outbox:8", "Forbidden: user is deactivated")
    assert not second.unit_reachable
    last = (await _notices(sessions))[-1].payload["text"]
    assert f"联系人{B}" in last and "注销" in last and "单位1 目前已没有机器人能联系到" in last

    (back,) = await _change(sessions, B, True, "update:9")
    assert back.reachable and back.unit_reachable
    notices = await _notices(sessions)
    assert len(notices) == 3 and "已可以重新通过机器人联系" in notices[-1].payload["text"]
    assert f"联系人{B}" in notices[-1].payload["text"]
    assert await _change(sessions, B, True, "update:10") == []  # writing again: no change
    assert len(await _notices(sessions)) == 3
    async with sessions() as session:
        outbox = (await session.exec(select(OutboxMessage))).all()
    assert len(outbox) == 6  # every notice to both staff chats


async def test_a_person_with_two_units_is_told_for_each_unit(sessions) -> None:
    async with sessions() as session:
        world = await build_world(
            session, due=dt.date(2023, 10, 10), chat_ids=[[A], [A, B]], staff_chat_ids=STAFF[:1]
        )
        await session.commit()
    changes = await _change(sessions, A, False, "update:1", "blocked the bot")
    assert [(c.unit_id, c.unit_reachable) for c in changes] == [
        (world.unit_ids[0], False),
        (world.unit_ids[1], True),
    ]
    assert len(await _notices(sessions)) == 2


async def test_two_paths_noticing_the_same_block_at_once_tell_it_once(sessions) -> None:
    """my_chat_member and a 403 to a reminder, in two sessions at the same moment."""
    world = await _world(sessions)
    contact_id = world.contact(0).id
    barrier = asyncio.Barrier(2)

    async def notice(**who) -> list:
        async with sessions() as session:
            await barrier.wait()
            changes = await change_reachability(
                session, False, reason="blocked", staff_ids=STAFF, now=NOW, **who
            )
            await session.commit()
        return changes

    found = await asyncio.wait_for(
        asyncio.gather(
            notice(cause="update:1", telegram_user_id=A),
            notice(cause="outbox:1", contact_id=contact_id),
        ),
        60,
    )
    assert sorted(len(changes) for changes in found) == [0, 1]
    assert len(await _notices(sessions)) == 1
    async with sessions() as session:
        contact = await session.get(Contact, contact_id)
    assert not contact.reachable
