"""`taizhang sandbox`: the stand-in, the bot and the web chat in one process, on SQLite.

Nothing talks to Telegram. The sample 兴庆区 ledger is loaded with an open round a few working
days ahead, one staff member and three contacts already bound to their units.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import signal
from pathlib import Path
from typing import Annotated

import typer

SANDBOX_TOKEN = "1000000001:SANDBOXsandboxSANDBOXsandboxSANDBOX"  # local only, never real
DEFAULT_DIR = Path("data") / "sandbox"


def sandbox_command(
    port: Annotated[int, typer.Option(help="Port of the stand-in and its web chat.")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="Where the sandbox keeps its database.")] = (
        DEFAULT_DIR
    ),
    reset: Annotated[bool, typer.Option("--reset", help="Start with a fresh database.")] = False,
    web_port: Annotated[int, typer.Option(help="Port of the web report form.")] = 8082,
) -> None:
    """Run the bot against a local Telegram stand-in with a web chat (no Telegram needed)."""
    from bot.cli import console, fail

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_serve(host, port, data_dir, web_port))
    except OSError as error:
        raise fail(f"cannot start the sandbox on {host}:{port}: {error.strerror}") from None
    console.print("sandbox stopped")


async def _serve(host: str, port: int, data_dir: Path, web_port: int = 8082) -> None:
    from bot.cli import console
    from sandbox.server import SandboxServer

    database_url = f"sqlite+aiosqlite:///{(data_dir / 'sandbox.db').as_posix()}"
    seeded = await _prepare_database(database_url)
    server = SandboxServer(host, port, bot_username="taizhang_sandbox_bot")
    await server.start()
    server.register_bot(SANDBOX_TOKEN, first_name="台账助手")
    _add_people(server)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    from bot.web_server import sample_web_link, sandbox_secret

    web = {"port": web_port, "listen_host": host, "base_url": f"http://{host}:{web_port}"}
    web["secret"] = sandbox_secret(data_dir)
    bot = asyncio.create_task(_run_bot(database_url, server.base_url, stop, web))
    try:
        _print_welcome(console, server.base_url, seeded)
        console.print(
            f"Web report form: [bold cyan]{web['base_url']}/[/] — a 医保局 contact's link: "
            f"{await sample_web_link(database_url, web['base_url'])}",
            highlight=False,
            soft_wrap=True,
        )
        done, _ = await asyncio.wait(
            {bot, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if bot in done:
            bot.result()  # the bot stopped on its own: show why
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bot, 15)
        await server.stop()


async def _prepare_database(database_url: str) -> dict | None:
    """Create and seed the database the first time; returns what was seeded, or None."""
    from sqlmodel import select

    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import Plan
    from storage.services.samples import bind_sample_people, load_sample_ledger

    await asyncio.to_thread(upgrade, database_url)
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            if (await session.exec(select(Plan))).first() is not None:
                return None
            sample = await load_sample_ledger(session, dt.date.today())
            await bind_sample_people(session)
            await session.commit()
            return {"due": sample.due}
    finally:
        await engine.dispose()


def _add_people(server) -> None:
    """The stand-in keeps its users in memory: make the sample people again at each start."""
    from storage.services.samples import SAMPLE_PEOPLE

    for person in SAMPLE_PEOPLE:
        server.world.add_user(
            person.telegram_user_id,
            first_name=person.name,
            language_code="zh-hans",
            started=True,
        )


async def _run_bot(
    database_url: str, api_base: str, stop: asyncio.Event, web: dict | None = None
) -> None:
    from bot.runner import run
    from bot.settings import load_settings
    from storage.services.samples import SAMPLE_PEOPLE

    settings = load_settings(
        bot_token=SANDBOX_TOKEN,
        telegram_api_base=api_base,
        database_url=database_url,
        staff_ids=[p.telegram_user_id for p in SAMPLE_PEOPLE if p.unit is None],
        redis_url="",
        webhook={"url": ""},
        web=web or {},
    )
    await run(settings, stop, polling_timeout=5)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


def _print_welcome(console, base_url: str, seeded: dict | None) -> None:
    from storage.services.samples import SAMPLE_PEOPLE

    console.print()
    console.print(f"[bold]taizhang sandbox[/] — web chat: [bold cyan]{base_url}/[/]")
    console.print(f"Bot API stand-in: {base_url}/bot<token>/<method>")
    if seeded:
        console.print(f"Loaded the 兴庆区 sample ledger; the open round is due {seeded['due']}.")
    people = ", ".join(f"{p.name} ({p.unit or 'office staff'})" for p in SAMPLE_PEOPLE)
    console.print(f"In the web chat, pick one of: {people}; then send /report.")
    console.print("Press Ctrl-C to stop. `taizhang sandbox --reset` starts afresh.")
