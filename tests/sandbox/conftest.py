"""Fixtures for the stand-in's own tests (sandbox fixtures are imported from the shared file)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.client import SimulatedUser
from tests.sandbox_fixtures import RunningSandbox, sandbox, sandbox_factory  # noqa: F401


class BotApi:
    """Raw Bot API calls, encoded as JSON, urlencoded form or multipart, as a bot would."""

    def __init__(self, running: RunningSandbox, session: aiohttp.ClientSession) -> None:
        self.running = running
        self.session = session

    async def call(
        self,
        method: str,
        *,
        encoding: str = "json",
        token: str | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
        http_timeout: float = 10,
        **params: Any,
    ) -> tuple[int, dict[str, Any]]:
        url = f"{self.running.base_url}/bot{token or self.running.token}/{method}"
        kwargs: dict[str, Any] = {}
        if encoding == "json":
            kwargs["json"] = params
        elif encoding == "form":
            kwargs["data"] = {k: _text(v) for k, v in params.items()}
        else:
            kwargs["data"] = _multipart(params, files or {})
        async with self.session.post(
            url, timeout=aiohttp.ClientTimeout(total=http_timeout), **kwargs
        ) as response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        """The result of a call that must succeed."""
        status, body = await self.call(method, **params)
        assert (status, body["ok"]) == (200, True), body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self.call(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]


def _multipart(params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
    """multipart/form-data even without files (aiohttp's FormData would urlencode those)."""
    writer = aiohttp.MultipartWriter("form-data")
    for key, value in params.items():
        writer.append(_text(value)).set_content_disposition("form-data", name=key)
    for key, (name, data) in files.items():
        part = writer.append(data, {"Content-Type": "application/octet-stream"})
        part.set_content_disposition("form-data", name=key, filename=name, quote_fields=False)
    return writer


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@pytest.fixture
async def bot_api(sandbox: RunningSandbox) -> AsyncIterator[BotApi]:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        yield BotApi(sandbox, session)


@pytest.fixture
async def alice(sandbox: RunningSandbox) -> SimulatedUser:  # noqa: F811
    """A user who has started the bot, so the bot may write to her."""
    user = await sandbox.client.create_user(
        "Alice", language_code="en", phone_number="+8613800000001"
    )
    await user.start()
    return user


def png(width: int = 2, height: int = 1) -> bytes:
    """A valid PNG image of the given size (grey pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
