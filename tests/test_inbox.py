"""The inbox's worker holds only the updates it handles at once; a stop finishes those.

Under load every sender has an update waiting. The worker used to take them all in hand at
once, waiting on a semaphore: a stop then waited for all of them, gave up after 5 s, and those
still waiting started after the bot had closed its HTTP session and engine, each one a
traceback (a reply cut off after its answer was saved). Now the rest wait in the database and
are handled at the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace

from sqlmodel import select

from bot.inbox import Inbox
from bot.settings import UpdateSettings
from storage.models import InboundUpdate
from storage.services import updates

BOT = 42
NOW = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)


def message(update_id: int, user_id: int) -> dict:
    sender = {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}
    chat = {"id": user_id, "type": "private"}
    body = {"message_id": update_id, "date": 0, "chat": chat, "from": sender, "text": "hi"}
    return {"update_id": update_id, "message": body}


class HeldDispatcher:
    """Feeds updates to nobody: each waits until released; counts those begun."""

    def __init__(self, expected: int) -> None:
        self.fed: list[int] = []
        self.release = asyncio.Event()
        self.all_begun = asyncio.Event()
        self.expected = expected

    async def feed_update(self, bot, update, **kwargs) -> None:
        self.fed.append(update.update_id)
        if len(self.fed) == self.expected:
            self.all_begun.set()
        await self.release.wait()


async def test_a_stop_finishes_the_updates_in_hand_and_leaves_the_rest_stored(sessions):
    async with sessions() as session:
        await updates.store(session, BOT, [message(n, 100 + n) for n in range(1, 6)], NOW)
        await session.commit()
    dispatcher = HeldDispatcher(expected=2)
    inbox = Inbox(
        SimpleNamespace(id=BOT),
        dispatcher,
        sessions,
        UpdateSettings(concurrency=2),
        clock=lambda: NOW,
        wall_clock=lambda: NOW,
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(inbox.run(stop))
    await asyncio.wait_for(dispatcher.all_begun.wait(), 10)
    assert len(inbox._busy) == 2  # in hand: the two being handled, not all five
    stop.set()
    dispatcher.release.set()
    await asyncio.wait_for(worker, 10)

    assert dispatcher.fed == [1, 2]
    async with sessions() as session:
        rows = (await session.exec(select(InboundUpdate).order_by(InboundUpdate.update_id))).all()
    assert {r.update_id: r.status for r in rows} == {
        1: updates.HANDLED,
        2: updates.HANDLED,
        3: updates.PENDING,
        4: updates.PENDING,
        5: updates.PENDING,
    }
