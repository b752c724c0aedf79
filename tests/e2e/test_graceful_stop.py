"""SIGTERM, as an orchestrator stops the bot: the update in hand is finished and answered, and
the process exits on its own, cleanly and within 10 seconds. The bot is a real process
(`python -m tests.e2e.instance`, the real `bot.runner.run` on the test's clock)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import time

import aiohttp

from tests.e2e.harness import _migrate_and_load
from tests.e2e.instance import NOW_VARIABLE, REMINDER_MORNING
from tests.e2e.test_instances import START_TIMEOUT, Instance, free_port, until

STOP_WITHIN = 10.0  # seconds, as docs/deploy.md promises
SLOW_REPLY = 2.0  # the Bot API holds the bot's answer this long: the update stays in hand


async def test_sigterm_finishes_the_update_in_hand_and_exits_within_ten_seconds(
    sandbox, sqlite_url, tmp_path
):
    await _migrate_and_load(sqlite_url, dt.date(2026, 3, 9))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK__", "WEB__"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(BOT_TOKEN=sandbox.token, TELEGRAM_API_BASE=sandbox.base_url,
               DATABASE_URL=sqlite_url, REDIS_URL="", DATA_DIR=str(tmp_path),
               HEALTH__PORT=str(free_port()))  # fmt: skip
    env.setdefault(NOW_VARIABLE, REMINDER_MORNING)
    bot = Instance("bot", env, tmp_path / "bot.log", int(env["HEALTH__PORT"]), 0)
    bot.start()
    try:
        async with aiohttp.ClientSession() as http:
            await until("healthy bot", lambda: bot.healthy(http), [bot], START_TIMEOUT)
        client = sandbox.client
        await client.inject_fault("slow", method="sendMessage", delay=SLOW_REPLY)
        person = await client.create_user("路人", language_code="zh-hans")
        await person.send("/start")
        # The slow answer has begun (the stand-in takes the fault as the call starts).
        await until("the bot's answer under way", _fault_taken(client), [bot], 30)
        asked = time.monotonic()
        os.kill(bot.proc.pid, signal.SIGTERM)
        # Waited for in a thread: the stand-in answering the bot runs on this event loop.
        code = await asyncio.to_thread(bot.proc.wait, STOP_WITHIN + 5)
        took = time.monotonic() - asked
        assert code == 0, bot.log()[-2000:]
        assert took < STOP_WITHIN, f"stopped in {took:.1f} s\n{bot.log()[-3000:]}"
        answers = (await person.read_chat()).bot_messages
        assert answers and "邀请" in answers[-1]["text"]  # /start without an invite, answered
    finally:
        bot.kill()


def _fault_taken(client):
    async def check() -> bool:
        return not await client.faults()

    return check
