"""The stand-in's HTTP server: the Bot API, file downloads, the control/user API, the web chat
and its mailbox.

async with SandboxServer(port=0) as server:   # any free port on 127.0.0.1
    server.register_bot(TOKEN, username="my_bot")
    api = TelegramAPIServer.from_base(server.base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from sandbox import control, mail
from sandbox.botapi import METHODS, Answer, Call
from sandbox.errors import (
    ENTITY_TOO_LARGE,
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    too_many_requests,
)
from sandbox.limits import Fault, RateLimitSettings
from sandbox.spec import Spec, Upload
from sandbox.state import MAX_UPLOAD, BotState, World, unix_now
from sandbox.webhook import WebhookPusher, flatten

log = logging.getLogger("sandbox")
STATIC = Path(__file__).parent / "static"


class SandboxServer:
    """A local Telegram Bot API stand-in, in-process: `await start()`, then `base_url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_username: str = "sandbox_bot",
        rate_limits: bool | RateLimitSettings = False,
        clock: Callable[[], float] = time.monotonic,
        webhook_retry_delays: tuple[float, float] = (0.1, 5.0),
        webhook_timeout: float = 10.0,
        call_log_size: int = 2000,
        latency: float = 0.0,
        mail_words: mail.MailWords | None = None,
        mail_zone: dt.tzinfo | None = None,
    ) -> None:
        settings = (
            rate_limits
            if isinstance(rate_limits, RateLimitSettings)
            else RateLimitSettings(enabled=rate_limits)
        )
        self.host = host
        self.port = port
        self.world = World(bot_username=bot_username, rate_limits=settings, clock=clock)
        self.spec = Spec.bundled()
        self.calls: deque[dict[str, Any]] = deque(maxlen=call_log_size)
        self._call_ids = itertools.count(1)  # ids keep growing when old records fall off
        self.webhook_retry_delays = webhook_retry_delays
        self.webhook_timeout = webhook_timeout
        self.latency = latency  # seconds every Bot API answer is held back, as a round trip
        self._pushers: dict[str, asyncio.Task[None]] = {}
        # Mail the bot would send, caught (sandbox/mail.py): `server.mailbox.deliver(message)`.
        self.mailbox = mail.Mailbox(self.world.publish)
        self.mail_words = mail_words
        self.mail_zone = mail_zone
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stopping(self) -> asyncio.Event:
        return self.world.stopping

    def register_bot(
        self, token: str, username: str | None = None, first_name: str | None = None
    ) -> BotState:
        """Make a token known (any token is accepted anyway) and choose its bot's name."""
        return self.world.register_bot(token, username, first_name)

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_request)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file_download)
        control.add_routes(app, self)
        mail.add_routes(
            app, self.mailbox, self.world.stopping, words=self.mail_words, zone=self.mail_zone
        )
        app.router.add_get("/", self._handle_index)
        app.router.add_static("/static", STATIC)
        return app

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None and server.sockets  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        self.world.stopping.set()  # ends long polls, hangs, event streams and pushers
        for bot in self.world.bots.values():
            bot.signal()
        for task in self._pushers.values():
            task.cancel()
        await asyncio.gather(*self._pushers.values(), return_exceptions=True)
        self._pushers.clear()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ control helpers

    def reset(self) -> None:
        for task in self._pushers.values():
            task.cancel()
        self._pushers.clear()
        self.world.reset()
        self.calls.clear()
        self.mailbox.clear()

    def inject_fault(self, kind: str, count: int = 1, **options: Any) -> Fault:
        return self.world.faults.add(Fault(kind, count, **options))

    def set_rate_limits(self, enabled: bool | None = None, **settings: Any) -> None:
        if enabled is not None:
            settings["enabled"] = enabled
        self.world.limiter.configure(**settings)

    def webhook_changed(self, bot: BotState) -> None:
        """Restart the bot's pusher when its webhook is set, changed or deleted."""
        old = self._pushers.pop(bot.token, None)
        if old is not None:
            old.cancel()
        if bot.webhook is None or self._session is None:
            return
        pusher = WebhookPusher(
            bot,
            self._session,
            self.execute,
            self.world.stopping,
            retry_delays=self.webhook_retry_delays,
            timeout=self.webhook_timeout,
        )
        self._pushers[bot.token] = asyncio.create_task(pusher.run())

    # ------------------------------------------------------------ the Bot API

    async def _handle_bot_request(self, request: web.Request) -> web.StreamResponse:
        bot = self.world.bot_for_token(request.match_info["token"])
        if bot is None:
            return _reply(UNAUTHORIZED.code, UNAUTHORIZED.payload())
        name = request.match_info["method"]
        if name.lower() not in METHODS or self.spec.method(name) is None:
            if self.spec.method(name) is not None:
                log.warning("the sandbox does not implement %s; answering 404", name)
            return _reply(NOT_FOUND.code, NOT_FOUND.payload())
        try:
            raw, uploads = await read_arguments(request)
        except ApiError as error:
            return _reply(error.code, error.payload())
        status, payload = await self.execute(bot, name, raw, uploads)
        if self.latency > 0:
            await self._sleep(self.latency)  # real seconds, whatever clock the limiter counts
        return _reply(status, payload)

    async def execute(
        self, bot: BotState, name: str, raw: dict[str, str], uploads: dict[str, Upload]
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call (faults first), log it, and return (HTTP status, body)."""
        fault = self.world.faults.take_call_fault(name)
        if fault and fault.kind in ("error", "flood"):
            status, payload = _fault_answer(fault)
        elif fault and fault.kind == "slow":
            status, payload = await self._run(bot, name, raw, uploads)
            await self._sleep(fault.delay if fault.delay is not None else 2.0)
        elif fault and fault.kind == "timeout":
            status, payload = 504, ApiError(504, "Gateway Timeout").payload()
            if fault.execute:
                status, payload = await self._run(bot, name, raw, uploads)
            await self._sleep(fault.delay if fault.delay is not None else 3600.0)
        else:
            status, payload = await self._run(bot, name, raw, uploads)
        self._log_call(bot, name, raw, uploads, status, payload, fault)
        return status, payload

    async def _run(
        self, bot: BotState, name: str, raw: dict[str, str], uploads: dict[str, Upload]
    ) -> tuple[int, dict[str, Any]]:
        try:
            params = self.spec.coerce(name, raw, uploads)
            result = await METHODS[name.lower()](Call(self.world, bot, params, self))
        except ApiError as error:
            return error.code, error.payload()
        if isinstance(result, Answer):
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.world.stopping.wait(), seconds)

    def _log_call(
        self,
        bot: BotState,
        name: str,
        raw: dict[str, str],
        uploads: dict[str, Upload],
        status: int,
        payload: dict[str, Any],
        fault: Fault | None,
    ) -> None:
        params: dict[str, Any] = dict(raw)
        for key, upload in uploads.items():
            params[key] = f"<file {upload.filename!r}, {len(upload.data)} bytes>"
        record = {
            "id": next(self._call_ids),
            "bot_id": bot.id,
            "method": name,
            "params": params,
            "status": status,
            "ok": payload.get("ok", False),
            "description": payload.get("description"),
            "fault": fault.kind if fault else None,
            "date": unix_now(),
        }
        self.calls.append(record)

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        if self.world.bot_for_token(request.match_info["token"]) is None:
            return _reply(UNAUTHORIZED.code, UNAUTHORIZED.payload())
        stored = self.world.file_paths.get(request.match_info["path"])
        if stored is None:
            return _reply(NOT_FOUND.code, NOT_FOUND.payload())
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _handle_index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")


def _reply(status: int, payload: dict[str, Any]) -> web.Response:
    return web.Response(  # compact, as Telegram writes it
        text=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def _fault_answer(fault: Fault) -> tuple[int, dict[str, Any]]:
    if fault.kind == "flood":
        error = too_many_requests(fault.retry_after)
        return error.code, error.payload()
    phrase = http.HTTPStatus(fault.status).phrase
    return fault.status, ApiError(fault.status, phrase).payload()


async def read_arguments(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, str] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return raw, uploads
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read())
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        raw.update(flatten(body))
    elif content_type.startswith("multipart/"):
        await _read_multipart(request, raw, uploads)
    else:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ENTITY_TOO_LARGE from None
        raw.update({key: value for key, value in form.items() if isinstance(value, str)})
    return raw, uploads


async def _read_multipart(
    request: web.Request, raw: dict[str, str], uploads: dict[str, Upload]
) -> None:
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            raw[part.name] = await part.text()
            continue
        data = bytearray()
        while chunk := await part.read_chunk(1024 * 1024):
            data += chunk
            if len(data) > MAX_UPLOAD:
                raise ENTITY_TOO_LARGE
        content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "application/octet-stream")
        uploads[part.name] = Upload(part.name, part.filename, content_type, bytes(data))
