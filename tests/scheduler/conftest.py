"""Scheduler fixtures: a clock the tests move, the sandbox on that clock, and senders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram.client.session.middlewares.base import BaseRequestMiddleware

from scheduler.clock import FakeClock
from scheduler.outbox import Sender, SenderOptions
from tests.sandbox_fixtures import (  # noqa: F401
    RunningSandbox,
    SandboxFactory,
    aiogram_bot,
    sandbox,
    sandbox_factory,
)

START = "2023-09-25 09:00"  # a Monday, before the National Day holiday


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock.at(START)


@pytest.fixture
async def telegram(sandbox_factory: SandboxFactory, clock: FakeClock) -> RunningSandbox:  # noqa: F811
    """The stand-in with Telegram's flood limits on, counting time on the test's clock."""
    return await sandbox_factory(rate_limits=True, clock=clock)


class CallLog(BaseRequestMiddleware):
    """Every Bot API call a sender makes, with the (fake) time it went out."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str, Any]] = []

    async def __call__(self, make_request, bot, method):
        self.calls.append((self.clock.monotonic(), method.__api_method__, method))
        return await make_request(bot, method)


SenderFactory = Callable[..., Sender]


@pytest.fixture
async def make_sender(sessions, telegram: RunningSandbox, clock: FakeClock) -> AsyncIterator:
    """Senders on the test's clock, no jitter surprises (seeded)."""
    import random

    bots = []

    def make(*, middleware: BaseRequestMiddleware | None = None, **options: Any) -> Sender:
        options.setdefault("stale_after", 60.0)
        # Long enough that a loaded machine's slow answer is never taken for a lost call (it
        # would be sent again, and every count be off); a test of time-outs sets a short one.
        options.setdefault("request_timeout", 5.0)
        options.setdefault("backoff_base", 1.0)
        bot = aiogram_bot(telegram)
        bots.append(bot)
        if middleware is not None:
            bot.session.middleware(middleware)
        worker = options.pop("worker", None)
        return Sender(
            sessions,
            bot,
            SenderOptions(**options),
            clock=clock,
            worker=worker,
            rng=random.Random(7),
        )

    yield make
    for bot in bots:
        await bot.session.close()


async def started_users(running: RunningSandbox, count: int, first_id: int = 7001) -> list[int]:
    """Users who have opened the bot (so it may write to them); returns their ids."""
    ids = []
    for n in range(count):
        user = await running.client.create_user(
            f"User{n}", user_id=first_id + n, language_code="zh-hans", started=True
        )
        ids.append(user.id)
    return ids


async def bot_texts(running: RunningSandbox, user_id: int) -> list[str]:
    view = await running.client.read_chat(user_id)
    return [m.get("text", "") for m in view.bot_messages]
