"""`taizhang sandbox`, the README's first command, as a newcomer runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

from sandbox.client import SandboxClient
from tests.e2e.phone import screen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_sandbox_serves_the_web_chat_and_the_seeded_bot(tmp_path):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "sandbox",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "sandbox"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    output = b""
    try:
        while b"Ctrl-C" not in output:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, output.decode()
            output += line
        assert f"http://127.0.0.1:{port}/".encode() in output
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            zhou = client.as_user(10001)  # 周琪 of 兴庆区医疗保障局, bound by the seed
            await zhou.send("/report")
            await screen(zhou, "兴庆区医疗保障局", "已填 0 /", timeout=20)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, (output + rest).decode()
    assert b"sandbox stopped" in rest
