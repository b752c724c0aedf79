"""End-to-end fixtures: the stand-in, and the taizhang bot polling it with the sample ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.harness import BotUnderTest
from tests.sandbox_fixtures import RunningSandbox, sandbox, sandbox_factory  # noqa: F401

STAFF_ID = 900001


@pytest.fixture
async def taizhang(sandbox: RunningSandbox, sqlite_url: str) -> AsyncIterator[BotUnderTest]:  # noqa: F811
    bot = BotUnderTest(sandbox, sqlite_url, staff_ids=[STAFF_ID])
    await bot.prepare()
    await bot.start()
    try:
        yield bot
    finally:
        await bot.close()
