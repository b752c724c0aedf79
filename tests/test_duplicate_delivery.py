"""A delivery of an update another delivery handled first changes nothing and says nothing.

The update's session no longer reads the update's status before the handler runs (one
statement per update): the guard's mark, in the commit before the bot's first Bot API call,
refuses it instead, even when the handler has nothing of its own to save.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.middlewares import DatabaseSession, SaveBeforeReplying
from storage.models import Directory, Unit
from storage.services import updates

BOT = 42
NOW = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)
PAYLOAD = {"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 7}}}


async def _deliver(sessions, handler, said: list[str]) -> dict:
    async def make_request(bot, method):
        said.append(method)
        return True

    async def replying_handler(event, data):
        await handler(data["session"])
        await SaveBeforeReplying()(make_request, None, "sendMessage")

    outcome: dict = {}
    data = {"inbound": (BOT, 5), "inbound_outcome": outcome}
    await DatabaseSession(sessions, [], lambda: NOW)(replying_handler, object(), data)
    return outcome


async def _nothing(session) -> None:
    pass


async def _adds_a_unit(session) -> None:
    directory = Directory(key="duplicate-units")
    session.add(directory)
    await session.flush()
    session.add(Unit(directory_id=directory.id, name="重复的单位", kind="department"))


@pytest.mark.parametrize("handler", [_nothing, _adds_a_unit], ids=["says only", "saves too"])
async def test_a_second_delivery_is_refused_before_the_bot_says_anything(sessions, handler):
    async with sessions() as session:
        await updates.store(session, BOT, [PAYLOAD], NOW)
        await updates.mark_handled(session, BOT, 5)  # the first delivery
        await session.commit()
    said: list[str] = []
    with pytest.raises(updates.AlreadyHandled):
        await _deliver(sessions, handler, said)
    assert said == []
    async with sessions() as session:
        assert (await session.exec(select(Unit))).all() == []
        assert (await session.exec(select(Directory))).all() == []


async def test_the_first_delivery_is_marked_with_the_commit_before_its_reply(sessions):
    async with sessions() as session:
        await updates.store(session, BOT, [PAYLOAD], NOW)
        await session.commit()
    said: list[str] = []
    outcome = await _deliver(sessions, _nothing, said)
    assert said == ["sendMessage"] and outcome == {"marked": True}
    async with sessions() as session:
        assert not await updates.is_pending(session, BOT, 5)
