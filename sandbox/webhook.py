"""Pushing a bot's updates to its webhook, in order, retrying with backoff as Telegram does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import aiohttp

from sandbox.spec import Upload
from sandbox.state import BotState, PendingUpdate, Webhook, unix_now

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# (bot, method, raw params, uploads) -> None: runs a method the webhook answered with.
Executor = Callable[[BotState, str, dict[str, str], dict[str, Upload]], Awaitable[Any]]


class WebhookPusher:
    def __init__(
        self,
        bot: BotState,
        session: aiohttp.ClientSession,
        execute: Executor,
        stopping: asyncio.Event,
        *,
        retry_delays: tuple[float, float] = (0.1, 5.0),
        timeout: float = 10.0,
    ) -> None:
        self.bot = bot
        self.session = session
        self.execute = execute
        self.stopping = stopping
        self.first_delay, self.max_delay = retry_delays
        self.timeout = timeout

    async def run(self) -> None:
        delay = self.first_delay
        while not self.stopping.is_set() and self.bot.webhook is not None:
            hook = self.bot.webhook
            if not self.bot.updates:
                await self._wait(None)
                continue
            update = self.bot.updates[0]
            error = await self.deliver(hook, update)
            if error is None:
                self._delivered(update)
                delay = self.first_delay
                continue
            hook.last_error_date = unix_now()
            hook.last_error_message = error
            await self._wait(delay)
            delay = min(delay * 2, self.max_delay)

    async def _wait(self, seconds: float | None) -> None:
        """Sleep `seconds` (a retry delay), or until new updates (None); a stop ends both."""
        stop = asyncio.ensure_future(self.stopping.wait())
        waiters = {stop}
        if seconds is None:
            waiters.add(asyncio.ensure_future(self.bot.wakeup.wait()))
        await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
        for waiter in waiters:
            waiter.cancel()

    def _delivered(self, update: PendingUpdate) -> None:
        updates = self.bot.updates
        if not updates or updates[0] is not update:
            return  # dropped meanwhile (deleteWebhook with drop_pending_updates)
        if update.repeats > 0:
            update.repeats -= 1  # the duplicate_updates fault: deliver it once more
        else:
            updates.popleft()

    async def deliver(self, hook: Webhook, update: PendingUpdate) -> str | None:
        """POST one update; None when the webhook took it, else Telegram's error message."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        try:
            async with self.session.post(
                hook.url,
                data=json.dumps(update.payload, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                body = await response.read()
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                content_type = response.headers.get("Content-Type", "")
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as error:
            return f"Connection error: {error}"
        await self._run_reply(content_type, body)
        return None

    async def _run_reply(self, content_type: str, body: bytes) -> None:
        """A webhook may answer with a method call, which Telegram then performs."""
        raw, uploads = parse_reply(content_type, body)
        method = raw.pop("method", None)
        if method:
            await self.execute(self.bot, method, raw, uploads)


def parse_reply(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    if not body.strip():
        return {}, {}
    if content_type.startswith("application/json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            return {}, {}
        return (flatten(decoded) if isinstance(decoded, dict) else {}), {}
    if content_type.startswith("multipart/"):
        return _parse_multipart(content_type, body)
    return {}, {}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    raw: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename():
            uploads[name] = Upload(name, part.get_filename(), part.get_content_type(), data)
        elif name:
            raw[name] = data.decode("utf-8")
    return raw, uploads


def flatten(body: dict[str, Any]) -> dict[str, str]:
    """Top-level JSON values as the text the Bot API server sees them as."""
    raw = {}
    for key, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool):
            raw[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            raw[key] = json.dumps(value, ensure_ascii=False)
        else:
            raw[key] = str(value)
    return raw
