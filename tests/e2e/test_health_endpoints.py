"""The running bot says in one log line what it serves, and serves /healthz and /metrics on
HEALTH__PORT beside its polling."""

from __future__ import annotations

import asyncio
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
            before = await _metrics(http)
            assert "taizhang_outbox_messages" in before
            user = await sandbox.client.create_user("王伟", language_code="zh-hans")
            await user.start()
            await user.wait_for_reply()
            # The reply leaves inside the handler; the update is counted once it returns.
            handled = 'taizhang_updates_total{outcome="handled"}'
            after = await _metrics_once(
                http, lambda page: _value(page, handled) > _value(before, handled)
            )
        assert _value(after, handled) == _value(before, handled) + 1
        timed = "taizhang_handler_seconds_count"
        assert _value(after, timed) == _value(before, timed) + 1
    finally:
        await bot.close()


async def _metrics(http: aiohttp.ClientSession) -> str:
    async with http.get("/metrics") as response:
        assert response.status == 200
        return await response.text()


async def _metrics_once(http: aiohttp.ClientSession, done, timeout: float = 10.0) -> str:
    """/metrics as soon as it shows what `done` looks for (or as it is at the time-out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(page := await _metrics(http)) and loop.time() < deadline:
        await asyncio.sleep(0.05)  # the page is the only outside view of the counter
    return page


def _value(page: str, name: str) -> float:
    """A sample's value in Prometheus's text format; 0 when it has not been counted yet."""
    for line in page.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
