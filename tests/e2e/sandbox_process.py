"""`taizhang sandbox` as a process, as a newcomer runs it: started on free ports, read until
it says how to stop it, stopped with Ctrl-C (SIGINT), which must end it cleanly.

    async with sandbox_process(tmp_path / "sandbox") as running:
        running.output          # what it printed at start
        running.base_url        # the stand-in and its web chat (and /mail)
        running.web_url         # the web report form and the office's console

`clock_env` (TAIZHANG_TEST_NOW and TAIZHANG_TEST_MONOTONIC, see tests/e2e/instance.py) runs
it on the test's clock, through `python -m tests.e2e.instance sandbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SandboxProcess:
    process: asyncio.subprocess.Process
    port: int
    web_port: int
    output: str = ""  # everything it printed so far (read as it comes, so it never blocks)
    _printed: asyncio.Event = field(default_factory=asyncio.Event)
    _ended: bool = False  # its output is closed

    async def wait_for_output(self, text: str, timeout: float = 30) -> None:
        """Until it has printed `text` (a log line, say)."""
        async with asyncio.timeout(timeout):
            while text not in self.output:
                if self._ended:
                    raise AssertionError(f"the sandbox ended before {text!r}: {self.output}")
                await self._printed.wait()

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            self.output += line.decode()
            self._printed.set()
            self._printed = asyncio.Event()
        self._ended = True
        self._printed.set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"


@contextlib.asynccontextmanager
async def sandbox_process(
    data_dir: Path, *, clock_env: Mapping[str, str] | None = None, start_timeout: float = 60
) -> AsyncIterator[SandboxProcess]:
    port, web_port = free_port(), free_port()
    entry = ["tests.e2e.instance", "sandbox"] if clock_env else ["bot.cli", "sandbox"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP__")}  # the mailbox
    env.update(COLUMNS="200", **(clock_env or {}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *entry,
        "--port",
        str(port),
        "--web-port",
        str(web_port),
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    running = SandboxProcess(process, port, web_port)
    reader = asyncio.create_task(running._read())
    try:
        await running.wait_for_output("Ctrl-C", start_timeout)
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)
        await asyncio.wait_for(reader, 5)
    assert process.returncode == 0, running.output
    assert "sandbox stopped" in running.output, running.output
