"""How fast does taizhang start, and how fast do its listing commands answer?

    uv run python bench/startup.py [--runs 5] [--json]

Measured in one run, each against its baseline:
  - start-up: seconds from launching `taizhang run` (a subprocess, SQLite, the sample ledger)
    to its first getUpdates at the Bot API stand-in (in this process), against a bare aiogram
    bot (a Dispatcher with one handler, `start_polling`) launched the same way;
  - a listing command: `taizhang round list` against `python -c "import sqlalchemy"`.

Each figure is the median of RUNS; the ratios are taizhang / baseline. Bytecode is compiled
beforehand (as an install with uv's compile-bytecode leaves it), so no run pays for it.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/sandbox.py would otherwise shadow the sandbox package

from sandbox.client import SandboxClient  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402

TOKEN = "123456789:AAbenchmarkstartuptokenxxxxxxxxxxxxx"
BOT_ID = 123456789

BARE_BOT = textwrap.dedent(
    """
    import asyncio, sys
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    async def main():
        session = AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[1]))
        bot = Bot(sys.argv[2], session=session)
        dispatcher = Dispatcher()

        @dispatcher.message()
        async def echo(message: Message):
            await message.answer(message.text or "")

        await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=True)

    asyncio.run(main())
    """
)


async def _first_poll(client: SandboxClient, command: list[str], env: dict[str, str]) -> float:
    """Seconds from launching `command` to its first getUpdates; the process is then ended."""
    before = await _polls(client)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while await _polls(client) <= before:
            if process.poll() is not None:
                raise SystemExit(f"{command[:3]} exited: {process.stderr.read().decode()[-800:]}")
            if time.perf_counter() - started > 120:
                raise SystemExit(f"{command[:3]} did not poll within 120 s")
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(20)


async def _polls(client: SandboxClient) -> int:
    bot = next((b for b in await client.bots() if b["id"] == BOT_ID), None)
    return bot["get_updates_started"] if bot else 0


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


async def _prepare(data_dir: Path) -> None:
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.services.samples import load_sample_ledger

    url = f"sqlite+aiosqlite:///{(data_dir / 'taizhang.db').as_posix()}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        await load_sample_ledger(session, dt.date(2026, 3, 9))
        await session.commit()
    await engine.dispose()


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    for folder in (ROOT, Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=1, workers=0)
    work = Path(tempfile.mkdtemp(prefix="taizhang-startup-"))
    await _prepare(work)
    bare = work / "bare_bot.py"
    bare.write_text(BARE_BOT, encoding="utf-8")
    server = SandboxServer("127.0.0.1", 0)
    await server.start()
    server.register_bot(TOKEN)
    client = SandboxClient(server.base_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK__", "WEB__"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=server.base_url, DATA_DIR=str(work),
               DATABASE_URL="", REDIS_URL="", HEALTH__PORT="")  # fmt: skip
    taizhang_run, bare_run, listing, importing = [], [], [], []
    try:
        for _ in range(args.runs):
            taizhang_run.append(
                await _first_poll(client, [sys.executable, "-m", "bot.cli", "run"], env)
            )
            bare_run.append(
                await _first_poll(client, [sys.executable, str(bare), server.base_url, TOKEN], env)
            )
            listing.append(_timed([sys.executable, "-m", "bot.cli", "round", "list"], env))
            importing.append(_timed([sys.executable, "-c", "import sqlalchemy"], env))
    finally:
        await client.close()
        await server.stop()
    result = {
        "runs": args.runs,
        "run_to_first_poll_s": _median(taizhang_run),
        "bare_aiogram_to_first_poll_s": _median(bare_run),
        "start_ratio": round(statistics.median(taizhang_run) / statistics.median(bare_run), 2),
        "round_list_s": _median(listing),
        "import_sqlalchemy_s": _median(importing),
        "list_ratio": round(statistics.median(listing) / statistics.median(importing), 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"start-up, launch to first getUpdates (median of {args.runs}):")
    print(f"  taizhang run      {result['run_to_first_poll_s']:.2f} s")
    print(f"  bare aiogram bot  {result['bare_aiogram_to_first_poll_s']:.2f} s")
    print(f"  ratio             {result['start_ratio']:.2f}×")
    print("listing command:")
    print(f"  taizhang round list        {result['round_list_s']:.2f} s")
    print(f"  python -c import sqlalchemy {result['import_sqlalchemy_s']:.2f} s")
    print(f"  ratio                      {result['list_ratio']:.2f}×")


if __name__ == "__main__":
    asyncio.run(main())
