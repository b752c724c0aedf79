"""Reusable pytest fixtures for the Bot API stand-in (sandbox/).

Register them once for the whole suite with, in tests/conftest.py:

    pytest_plugins = ["tests.sandbox_fixtures"]

`sandbox` starts a stand-in on a free 127.0.0.1 port with one registered bot token and
yields a `RunningSandbox`: its `server`, `base_url`, `token` and a `client`
(sandbox.client.SandboxClient). `sandbox_factory` starts more, with options.
`aiogram_bot(sandbox)` and `polling(dispatcher, bot)` run an aiogram bot against one.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer


def make_token(bot_id: int = 123456789) -> str:
    """A well-formed bot token (digits, a colon, 35 characters)."""
    return f"{bot_id}:AA{secrets.token_urlsafe(25)[:33]}"


class ManualClock:
    """A clock for the rate limiter that moves only when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RunningSandbox:
    server: SandboxServer
    token: str
    client: SandboxClient

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_url(self) -> str:
        """The Bot API base for this token, like https://api.telegram.org/bot<token>."""
        return f"{self.server.base_url}/bot{self.token}"


SandboxFactory = Callable[..., Awaitable[RunningSandbox]]


@pytest.fixture
async def sandbox_factory() -> AsyncIterator[SandboxFactory]:
    """Start stand-ins with SandboxServer options (rate_limits=True, clock=..., ...)."""
    running: list[RunningSandbox] = []

    async def start(
        *, token: str | None = None, bot_username: str = "sandbox_bot", **options: Any
    ) -> RunningSandbox:
        server = SandboxServer("127.0.0.1", 0, bot_username=bot_username, **options)
        await server.start()
        token = token or make_token()
        server.register_bot(token)
        started = RunningSandbox(server, token, SandboxClient(server.base_url))
        running.append(started)
        return started

    try:
        yield start
    finally:
        for started in running:
            await started.client.close()
            await started.server.stop()


@pytest.fixture
async def sandbox(sandbox_factory: SandboxFactory) -> RunningSandbox:
    """A running stand-in with one bot token registered, stopped after the test."""
    return await sandbox_factory()


def aiogram_bot(running: RunningSandbox, **bot_options: Any) -> Any:
    """An aiogram Bot talking to the stand-in instead of api.telegram.org."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(running.base_url))
    return Bot(running.token, session=session, **bot_options)


@contextlib.asynccontextmanager
async def polling(dispatcher: Any, bot: Any, **options: Any) -> AsyncIterator[None]:
    """Run `dispatcher.start_polling(bot)` for the body of the `async with`, then stop it."""
    options.setdefault("polling_timeout", 1)
    options.setdefault("handle_signals", False)
    task = asyncio.create_task(dispatcher.start_polling(bot, **options))
    try:
        yield
    finally:
        try:
            await dispatcher.stop_polling()
        except RuntimeError:  # polling had not started yet
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await bot.session.close()
