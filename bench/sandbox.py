"""How fast is the Bot API stand-in? It must never be the bottleneck of a benchmark.

    uv run python bench/sandbox.py [--updates 2000] [--calls 3000] [--concurrency 16]

Measures, with rate limits off:
  1. updates delivered per second to a bare aiogram echo bot (getUpdates long polling),
     and echo round trips per second (update in, sendMessage out);
  2. sendMessage calls answered per second (a plain aiohttp client, several in flight).
Each is compared with a baseline measured in the same run: the same bot or client against a
trivial fake server that answers canned JSON, i.e. what aiohttp and aiogram manage with no
stand-in logic at all. A ratio near 1 means the stand-in costs little.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiohttp import web

# This file is itself named sandbox.py: put the repository first so `sandbox` is the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import users
from sandbox.server import SandboxServer

TOKEN = "123456789:" + "A" * 35
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
SENDERS = 50  # updates come from this many users


# ---------------------------------------------------------------- the baseline server


class FakeBotApi:
    """A trivial Bot API: canned updates and a fixed sendMessage answer, no checks at all."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.updates = updates
        self.stop = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        self.stop.set()
        if self._runner:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        method = request.match_info["method"].lower()
        if method == "getme":
            result: Any = BOT_USER
        elif method == "getupdates":
            offset = max(int(str(form.get("offset", 1))), 1)
            result = self.updates[offset - 1 : offset - 1 + 100]
            if not result:
                await asyncio.wait([asyncio.ensure_future(self.stop.wait())], timeout=1)
        else:
            chat_id = int(str(form["chat_id"]))
            result = {
                "message_id": 1,
                "from": BOT_USER,
                "chat": {"id": chat_id, "first_name": "U", "type": "private"},
                "date": 0,
                "text": form.get("text", ""),
            }
        return web.Response(
            text=json.dumps({"ok": True, "result": result}), content_type="application/json"
        )


def canned_updates(count: int) -> list[dict[str, Any]]:
    updates = []
    for number in range(1, count + 1):
        user = {"id": 1000 + number % SENDERS, "is_bot": False, "first_name": "U"}
        message = {
            "message_id": number,
            "from": user,
            "chat": {"id": user["id"], "first_name": "U", "type": "private"},
            "date": 0,
            "text": f"message {number}",
        }
        updates.append({"update_id": number, "message": message})
    return updates


# ---------------------------------------------------------------- measurements


async def echo_bot_run(
    base_url: str, expected: int, drained: Callable[[], bool]
) -> tuple[float, float]:
    """Poll with a bare aiogram echo bot until it echoed `expected` messages.

    Returns (seconds until every update was fetched, seconds until every echo was answered).
    """
    done = asyncio.Event()
    echoed = 0
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        nonlocal echoed
        await message.answer(message.text or "")
        echoed += 1
        if echoed == expected:
            done.set()

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    started = time.perf_counter()
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
    )
    fetched_at = None
    while not done.is_set():
        if fetched_at is None and drained():
            fetched_at = time.perf_counter() - started
        await asyncio.sleep(0.005)
    answered = time.perf_counter() - started
    await dispatcher.stop_polling()
    await polling
    await bot.session.close()
    return fetched_at or answered, answered


async def send_messages(base_url: str, chat_ids: list[int], calls: int, concurrency: int) -> float:
    """Seconds to get `calls` sendMessage answers, `concurrency` requests in flight."""
    url = f"{base_url}/bot{TOKEN}/sendMessage"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(calls):
        queue.put_nowait(number)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            number = queue.get_nowait()
            form = {"chat_id": str(chat_ids[number % len(chat_ids)]), "text": f"reply {number}"}
            async with session.post(url, data=form) as response:
                body = await response.json()
                assert body["ok"], body

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started


async def with_sandbox(run: Callable[[SandboxServer, list[int]], Awaitable[Any]]) -> Any:
    server = SandboxServer(bot_username="bench_bot", call_log_size=100)
    await server.start()
    server.register_bot(TOKEN)
    user_ids = [server.world.add_user(first_name=f"U{i}", started=True).id for i in range(SENDERS)]
    try:
        return await run(server, user_ids)
    finally:
        await server.stop()


async def bench_updates(count: int) -> tuple[tuple[float, float], tuple[float, float]]:
    async def run(server: SandboxServer, user_ids: list[int]) -> tuple[float, float]:
        world = server.world
        bot = world.find_bot()
        for number in range(count):
            user = world.user(user_ids[number % len(user_ids)])
            log = world.chat_for_user(bot, user.id, user)
            users.send_text(world, bot, log, user, f"message {number}")
        return await echo_bot_run(server.base_url, count, lambda: not bot.updates)

    sandbox = await with_sandbox(run)
    fake = FakeBotApi(canned_updates(count))
    base_url = await fake.start()
    try:
        baseline = await echo_bot_run(base_url, count, lambda: False)
    finally:
        await fake.close()
    return sandbox, baseline


async def bench_send_message(calls: int, concurrency: int) -> tuple[float, float]:
    async def run(server: SandboxServer, user_ids: list[int]) -> float:
        return await send_messages(server.base_url, user_ids, calls, concurrency)

    sandbox = await with_sandbox(run)
    fake = FakeBotApi([])
    base_url = await fake.start()
    try:
        baseline = await send_messages(base_url, [1001], calls, concurrency)
    finally:
        await fake.close()
    return sandbox, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    (fetched, answered), (_, baseline_answered) = asyncio.run(bench_updates(args.updates))
    sent, baseline_sent = asyncio.run(bench_send_message(args.calls, args.concurrency))

    n, m = args.updates, args.calls
    print(
        f"stand-in benchmark: {n} updates from {SENDERS} users, {m} sendMessage calls "
        f"({args.concurrency} in flight), rate limits off"
    )
    print(f"{'':44}{'stand-in':>10}{'baseline':>11}{'ratio':>8}")
    print(f"{'updates delivered to an aiogram echo bot':44}{n / fetched:8.0f}/s{'-':>11}")
    row("echo round trips (update in, reply out)", n / answered, n / baseline_answered)
    row("sendMessage calls answered", m / sent, m / baseline_sent)


def row(label: str, rate: float, baseline: float) -> None:
    print(f"{label:44}{rate:8.0f}/s{baseline:9.0f}/s{rate / baseline:8.2f}")


if __name__ == "__main__":
    main()
