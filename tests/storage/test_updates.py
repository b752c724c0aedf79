"""Incoming updates as state: stored once, each sender's in order, retried, given up, pruned."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from storage.models import InboundUpdate, Unit
from storage.services import updates

BOT = 42
NOW = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)


def message(update_id: int, user_id: int, text: str = "hi") -> dict:
    sender = {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}
    chat = {"id": user_id, "type": "private"}
    body = {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "text": text}
    return {"update_id": update_id, "message": body}


async def stored(sessions, *payloads) -> int:
    async with sessions() as session:
        new = await updates.store(session, BOT, payloads, NOW)
        await session.commit()
    return new


async def test_an_update_delivered_twice_is_stored_once(sessions):
    assert await stored(sessions, message(1, 7), message(2, 7)) == 2
    assert await stored(sessions, message(2, 7), message(3, 8)) == 1
    async with sessions() as session:
        rows = (await session.exec(select(InboundUpdate))).all()
    assert sorted(r.update_id for r in rows) == [1, 2, 3]
    assert {r.update_id: r.user_id for r in rows} == {1: 7, 2: 7, 3: 8}


async def test_each_sender_waits_for_their_earlier_update(sessions):
    await stored(sessions, message(1, 7), message(2, 7), message(3, 8))
    async with sessions() as session:
        first = await updates.due(session, BOT, set(), now=NOW)
        while_7_is_busy = await updates.due(session, BOT, {7}, now=NOW)
    assert [r.update_id for r in first] == [1, 3]
    assert [r.update_id for r in while_7_is_busy] == [3]


async def test_a_failed_update_waits_out_its_back_off_and_holds_back_the_next(sessions):
    await stored(sessions, message(1, 7), message(2, 7))
    later = NOW + dt.timedelta(seconds=4)
    async with sessions() as session:
        row = await updates.record_failure(
            session, BOT, 1, "OperationalError: refused", max_attempts=3, retry_at=later
        )
        await session.commit()
        assert row.status == updates.PENDING and row.attempts == 1
        assert await updates.due(session, BOT, set(), now=NOW) == []  # 2 waits behind 1
        assert await updates.next_retry_at(session, BOT, NOW) == later
        assert [r.update_id for r in await updates.due(session, BOT, set(), now=later)] == [1]


async def test_the_last_attempt_gives_up(sessions):
    await stored(sessions, message(1, 7))
    async with sessions() as session:
        for _ in range(3):
            row = await updates.record_failure(
                session, BOT, 1, "boom", max_attempts=3, retry_at=NOW
            )
        await session.commit()
        assert row.status == updates.FAILED and row.attempts == 3
        assert [r.update_id for r in await updates.unreported_failures(session, BOT)] == [1]
        assert await updates.due(session, BOT, set(), now=NOW) == []


async def test_the_mark_is_saved_with_the_handlers_changes_or_not_at_all(sessions):
    await stored(sessions, message(1, 7), message(2, 8))
    async with sessions() as session:  # a handler that fails: nothing of it stays
        release = updates.guard_commit(session, BOT, 1)
        session.add(Unit(directory_id=999_999, name="x", kind="department"))
        with pytest.raises(Exception):  # noqa: B017 - the foreign key refuses the unit
            await session.commit()
        await session.rollback()
        release()
    async with sessions() as session:
        assert await updates.is_pending(session, BOT, 1)
    async with sessions() as session:  # one that succeeds: handled with its commit
        release = updates.guard_commit(session, BOT, 2)
        await session.commit()
        release()
        assert not await updates.is_pending(session, BOT, 2)


async def test_a_second_delivery_handled_at_the_same_time_is_refused(sessions):
    await stored(sessions, message(1, 7))
    async with sessions() as first, sessions() as second:
        release_first = updates.guard_commit(first, BOT, 1)
        release_second = updates.guard_commit(second, BOT, 1)
        await first.commit()
        with pytest.raises(updates.AlreadyHandled):
            await second.commit()
        release_first()
        release_second()


async def test_old_handled_updates_are_pruned_and_pending_ones_kept(sessions):
    await stored(sessions, message(1, 7), message(2, 8))
    async with sessions() as session:
        await updates.mark_handled(session, BOT, 1)
        await session.commit()
        assert await updates.prune(session, NOW + dt.timedelta(days=8)) == 1
        await session.commit()
        rows = (await session.exec(select(InboundUpdate.update_id))).all()
    assert rows == [2]


def test_who_sent_an_update_and_where_the_answer_goes():
    press = {
        "update_id": 5,
        "callback_query": {
            "id": "q",
            "from": {"id": 7, "is_bot": False, "first_name": "A", "language_code": "zh-hans"},
            "message": {"message_id": 3, "date": 0, "chat": {"id": -100, "type": "group"}},
            "chat_instance": "c",
        },
    }
    assert updates.sender_of(press) == 7
    assert updates.chat_of(press) == -100
    assert updates.language_code_of(press) == "zh-hans"
    assert updates.sender_of({"update_id": 6}) is None


async def test_the_worker_takes_each_senders_oldest_up_to_its_free_places(sessions):
    await stored(sessions, message(1, 7), message(2, 8), message(3, 7), message(4, 9))
    later = NOW + dt.timedelta(seconds=4)
    async with sessions() as session:
        two = await updates.look(session, BOT, set(), now=NOW, take=2)
        assert [r.update_id for r in two.rows] == [1, 2]
        assert two.rows[0].payload == message(1, 7)  # loaded whole, in the same statement
        # 1 in hand: its sender's 3 waits; 2 and 4 may go
        rest = await updates.look(session, BOT, {7}, busy_updates={1}, now=NOW, take=5)
        assert [r.update_id for r in rest.rows] == [2, 4] and rest.retry_at is None
        await updates.record_failure(session, BOT, 2, "boom", max_attempts=3, retry_at=later)
        await session.commit()
        waiting = await updates.look(session, BOT, {7}, busy_updates={1}, now=NOW, take=5)
    assert [r.update_id for r in waiting.rows] == [4] and waiting.retry_at == later
