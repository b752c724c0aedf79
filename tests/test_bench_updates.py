"""bench/updates.py stops a bot without freezing the Bot API stand-in on its own event loop.

The stand-in answering the bot runs in the benchmark's process: a stop that waited for the
bot's exit there held the bot's last calls unanswered until the bot gave up and closed its
HTTP session, and every reply in flight ended as a traceback in the bot's log.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from aiohttp import web

from bench.updates import Process

# A "bot" that, told to stop, makes one last call and exits 0 only when it is answered.
CHILD = textwrap.dedent(
    """
    import signal, sys, urllib.request

    def stop(*_):
        try:
            urllib.request.urlopen(sys.argv[1], timeout=5).read()
        except OSError:
            sys.exit(3)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        signal.pause()  # until SIGTERM
    """
)


async def test_stopping_a_bot_lets_its_last_calls_be_answered(tmp_path, unused_tcp_port):
    calls = []

    async def answer(request: web.Request) -> web.Response:
        calls.append(request.path)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/last-call", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        process = Process("sqlite", {}, tmp_path)
        process.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, f"http://127.0.0.1:{unused_tcp_port}/last-call"],
            stdout=subprocess.PIPE,
        )
        assert process.proc.stdout.readline().strip() == b"ready"
        code = await process.stop(timeout=10)
    finally:
        await runner.cleanup()
    assert calls == ["/last-call"]
    assert code == 0
