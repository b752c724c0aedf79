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
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

Clock = Callable[[], dt.datetime]

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
    run_sandbox(host, port, data_dir, reset=reset, web_port=web_port)


def run_sandbox(
    host: str,
    port: int,
    data_dir: Path,
    *,
    reset: bool = False,
    web_port: int = 8082,
    clock: Clock | None = None,
) -> None:
    """`taizhang sandbox`; `clock` is what the bot takes for now (the wall's by default;
    tests/e2e/instance.py gives the test's)."""
    from bot.cli import console, fail
    from storage.types import utcnow

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_serve(host, port, data_dir, web_port, clock or utcnow))
    except OSError as error:
        raise fail(f"cannot start the sandbox on {host}:{port}: {error.strerror}") from None
    console.print("sandbox stopped")


async def _serve(host: str, port: int, data_dir: Path, web_port: int, clock: Clock) -> None:
    from bot.cli import console
    from bot.web_server import sample_web_link, sandbox_secret
    from sandbox.server import SandboxServer

    database_url = f"sqlite+aiosqlite:///{(data_dir / 'sandbox.db').as_posix()}"
    web = {"port": web_port, "listen_host": host, "base_url": f"http://{host}:{web_port}"}
    web["secret"] = sandbox_secret(data_dir)
    settings = _settings(database_url, web)
    seeded = await _prepare_database(database_url, clock().astimezone(settings.zone).date())
    server = SandboxServer(
        host,
        port,
        bot_username="taizhang_sandbox_bot",
        mail_words=mail_words(settings.default_locale),
        mail_zone=settings.zone,
    )
    await server.start()
    server.register_bot(SANDBOX_TOKEN, first_name="台账助手")
    _add_people(server)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    settings = _settings(database_url, web, server.base_url)
    transport = None if settings.smtp.host else catching_transport(server)
    bot = asyncio.create_task(_run_bot(settings, stop, clock, transport))
    try:
        _print_welcome(
            console, server.base_url, seeded, settings.smtp if transport is None else None
        )
        link = await sample_web_link(database_url, web["base_url"], now=clock())
        console.print(
            f"Web report form: [bold cyan]{web['base_url']}/[/] — a 医保局 contact's link: {link}",
            highlight=False,
            soft_wrap=True,
        )
        console.print("Press Ctrl-C to stop. `taizhang sandbox --reset` starts afresh.")
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


def catching_transport(server):
    """An EmailSender transport (scheduler.email_sender.Transport) that hands each message to
    the stand-in's mailbox instead of an SMTP server."""

    async def catch(message, config, timeout) -> None:
        server.mailbox.deliver(message)

    return catch


def mail_words(default_locale: str):
    """The mailbox pages' words from our catalogues, the default language first."""
    from locales import gettext_for
    from sandbox.mail import MailWords

    names = {"zh_CN": "中文", "en": "English"}
    order = [default_locale, *(code for code in names if code != default_locale)]
    return MailWords(
        lambda language, text: gettext_for(language)(text),
        tuple((code, names[code]) for code in order),
    )


async def _prepare_database(database_url: str, today: dt.date) -> dict | None:
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
            sample = await load_sample_ledger(session, today)
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


def _settings(database_url: str, web: dict, api_base: str | None = None):
    """The environment's settings (SMTP__*, LOG__* …) with the sandbox's own over them."""
    from bot.settings import load_settings
    from storage.services.samples import SAMPLE_PEOPLE

    return load_settings(
        bot_token=SANDBOX_TOKEN,
        **({"telegram_api_base": api_base} if api_base else {}),
        database_url=database_url,
        staff_ids=[p.telegram_user_id for p in SAMPLE_PEOPLE if p.unit is None],
        redis_url="",
        webhook={"url": ""},
        web=web,
    )


async def _run_bot(settings, stop: asyncio.Event, clock: Clock, mail_transport=None) -> None:
    from bot.runner import run

    await run(settings, stop, polling_timeout=5, clock=clock, mail_transport=mail_transport)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


def _print_welcome(console, base_url: str, seeded: dict | None, smtp=None) -> None:
    """`smtp`: the SMTP settings mail goes out through; None: the mailbox catches it."""
    from storage.services.samples import SAMPLE_PEOPLE

    console.print()
    console.print(f"[bold]taizhang sandbox[/] — web chat: [bold cyan]{base_url}/[/]")
    if smtp is None:
        console.print(
            f"Mailbox: [bold cyan]{base_url}/mail[/] — the bot's e-mails land here, none goes out",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(f"E-mail goes out through {smtp.host}:{smtp.effective_port} (SMTP__HOST)")
    console.print(f"Bot API stand-in: {base_url}/bot<token>/<method>")
    if seeded:
        console.print(f"Loaded the 兴庆区 sample ledger; the open round is due {seeded['due']}.")
    people = ", ".join(f"{p.name} ({p.unit or 'office staff'})" for p in SAMPLE_PEOPLE)
    console.print(f"In the web chat, pick one of: {people}; then send /report.")
