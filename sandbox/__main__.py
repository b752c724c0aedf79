"""Run the stand-in on its own: `python -m sandbox --port 8081`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from sandbox.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A local Telegram Bot API stand-in with a web chat. Point a bot at "
        "http://HOST:PORT instead of https://api.telegram.org.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="sandbox_bot", help="username getMe reports")
    parser.add_argument(
        "--token", action="append", default=[], help="register a bot token up front (repeatable)"
    )
    parser.add_argument("--rate-limits", action="store_true", help="enforce Telegram's limits")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="hold back every Bot API answer this long"
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = SandboxServer(
        args.host,
        args.port,
        bot_username=args.bot_username,
        rate_limits=args.rate_limits,
        latency=args.latency_ms / 1000,
    )
    await server.start()
    for token in args.token:
        server.register_bot(token)
    print(f"Bot API stand-in: {server.base_url}/bot<token>/<method>")
    print(f"Web chat:         {server.base_url}/")
    print("Press Ctrl-C to stop.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
