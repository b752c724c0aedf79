"""The bot behind a webhook: the stand-in pushes updates with the secret header."""

from __future__ import annotations

import asyncio
import socket

from bot.runner import run
from bot.settings import load_settings
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import text_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_answers_pushed_updates(sandbox, sqlite_url):
    prepared = BotUnderTest(sandbox, sqlite_url)
    await prepared.prepare()
    port = free_port()
    settings = load_settings(
        bot_token=sandbox.token,
        telegram_api_base=sandbox.base_url,
        database_url=sqlite_url,
        webhook={
            "url": f"http://127.0.0.1:{port}/hook",
            "secret": "s3cret-Token_1",
            "listen_port": port,
            "path": "/hook",
        },
    )
    stop = asyncio.Event()
    bot = asyncio.create_task(run(settings, stop, clock=prepared.clock))
    try:
        user = await sandbox.client.create_user("周琪", language_code="zh-hans")
        await user.start(await prepared.invite("医保局"))
        assert "兴庆区医疗保障局" in text_of(await user.wait_for_reply(timeout=15))
        calls = await sandbox.client.calls("setWebhook")
        assert calls and calls[-1]["params"]["secret_token"] == "s3cret-Token_1"
    finally:
        stop.set()
        await asyncio.wait_for(bot, 15)
        await prepared.close()
