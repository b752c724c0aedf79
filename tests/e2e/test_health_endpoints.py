"""The running bot says in one log line what it serves, and serves /healthz and /metrics on
HEALTH__PORT beside its polling."""

from __future__ import annotations

import logging

import aiohttp

from tests.e2e.harness import BotUnderTest


async def test_the_running_bot_serves_both(sandbox, sqlite_url, unused_tcp_port, caplog):
    caplog.set_level(logging.INFO, logger="bot.runner")
    port = unused_tcp_port
    bot = BotUnderTest(sandbox, sqlite_url, extra_settings={"health": {"port": port}})
    await bot.prepare()
    await bot.start()
    try:
        [started] = [r.getMessage() for r in caplog.records if "taizhang started" in r.message]
        assert f"polling {sandbox.base_url} as @sandbox_bot" in started
        assert "plans: xingqing-2023" in started and "open rounds: 2026年" in started
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/healthz") as response:
                body = await response.json()
            assert response.status == 200, body
            assert set(body["checks"]) == {"database", "sender"}
            async with http.get("/metrics") as response:
                assert "taizhang_outbox_messages" in await response.text()
    finally:
        await bot.close()
