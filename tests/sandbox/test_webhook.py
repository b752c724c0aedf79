"""Webhooks: updates pushed in order with the secret header, retried until the bot takes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from sandbox.client import SimulatedUser
from tests.sandbox.conftest import BotApi

SECRET = "s3cret_token-1"


class Receiver:
    """A bot's webhook endpoint that records what arrives and answers as told."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.expected_secret: str | None = None
        self.failures_left = 0
        self.reply: dict[str, Any] | None = None
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.secrets.append(secret)
        if self.expected_secret and secret != self.expected_secret:
            return web.Response(status=401, text="Unauthorized")
        if self.failures_left:
            self.failures_left -= 1
            return web.Response(status=500)
        self.received.append(await request.json())
        self.arrived.set()
        return web.json_response(self.reply) if self.reply else web.Response()

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        while len(self.received) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook.url = f"http://127.0.0.1:{port}/hook"
    yield hook
    await runner.cleanup()


async def eventually(check: Callable[[], Any], timeout: float = 10) -> None:
    """Retry an async check until it holds (for state that settles in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_updates_are_pushed_with_the_secret_header(
    bot_api: BotApi, alice: SimulatedUser, receiver: Receiver
) -> None:
    set_answer = await bot_api.call("setWebhook", url=receiver.url, secret_token=SECRET)
    assert set_answer == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    await alice.send("hello")
    received = await receiver.wait_for(2)
    assert [u["message"]["text"] for u in received] == ["/start", "hello"]
    assert set(receiver.secrets) == {SECRET}
    info = await bot_api.ok("getWebhookInfo")
    assert (info["url"], info["pending_update_count"]) == (receiver.url, 0)


async def test_a_wrong_secret_is_refused_and_the_update_waits(
    bot_api: BotApi, alice: SimulatedUser, receiver: Receiver
) -> None:
    receiver.expected_secret = SECRET
    await bot_api.ok("setWebhook", url=receiver.url, secret_token="not_the_secret")

    async def refused() -> bool:
        info = await bot_api.ok("getWebhookInfo")
        return "last_error_message" in info

    await eventually(refused)
    info = await bot_api.ok("getWebhookInfo")
    assert info["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"
    assert info["pending_update_count"] == 1
    assert receiver.received == []
    await bot_api.ok("setWebhook", url=receiver.url, secret_token=SECRET)
    assert [u["message"]["text"] for u in await receiver.wait_for(1)] == ["/start"]


async def test_failed_deliveries_are_retried_in_order(
    bot_api: BotApi, alice: SimulatedUser, receiver: Receiver
) -> None:
    receiver.failures_left = 2
    await alice.send("second")
    await bot_api.ok("setWebhook", url=receiver.url)
    received = await receiver.wait_for(2)
    assert [u["update_id"] for u in received] == [1, 2]  # each delivered once, in order


async def test_an_unreachable_webhook_is_reported(bot_api: BotApi, alice: SimulatedUser) -> None:
    await bot_api.ok("setWebhook", url="http://127.0.0.1:9/hook")  # the discard port

    async def failed() -> bool:
        return "last_error_message" in await bot_api.ok("getWebhookInfo")

    await eventually(failed)
    assert (await bot_api.ok("getWebhookInfo"))["last_error_message"] == "Connection refused"


async def test_delete_webhook_can_drop_pending_updates(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("setWebhook", url="http://127.0.0.1:9/hook")
    answer = await bot_api.call("deleteWebhook", drop_pending_updates=True)
    assert answer == (200, {"ok": True, "result": True, "description": "Webhook was deleted"})
    assert (await bot_api.ok("getWebhookInfo"))["pending_update_count"] == 0
    assert await bot_api.ok("getUpdates") == []


async def test_a_method_in_the_webhook_answer_is_performed(
    bot_api: BotApi, alice: SimulatedUser, receiver: Receiver
) -> None:
    receiver.reply = {"method": "sendMessage", "chat_id": alice.id, "text": "answered in-line"}
    await bot_api.ok("setWebhook", url=receiver.url)
    reply = await alice.wait_for_reply()
    assert reply["text"] == "answered in-line"


async def test_setting_a_webhook_needs_an_http_url(bot_api: BotApi) -> None:
    assert await bot_api.error("setWebhook", url="ftp://example.org") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
