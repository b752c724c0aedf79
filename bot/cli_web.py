"""`taizhang web`: the contact's web report form on its own (docs/web.md).

Registered in bot/cli.py:

    from bot.cli_web import web_command
    app.command("web")(web_command)

It serves pages only: the reminders and the outbox (which carries the office's notices of
web submissions) are `taizhang run`'s, which also serves the form when WEB__PORT is set.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer


def web_command(
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: WEB__PORT, else 8082).")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: WEB__LISTEN_HOST).")
    ] = None,
) -> None:
    """Serve the contacts' web report form (their personal links: invite create --web)."""
    from bot import cli
    from bot.settings import SettingsError
    from bot.web_server import require_web

    settings = cli.load_settings_or_exit()
    if host:
        settings.web.listen_host = host
    if port:
        settings.web.port = port
    try:
        require_web(settings)
    except SettingsError as err:
        raise cli.fail(str(err), 2) from None
    with contextlib.suppress(KeyboardInterrupt):
        cli._run_guarded(_serve(settings))


async def _serve(settings) -> None:

    from bot.cli import console
    from bot.logs import configure_logging
    from bot.runner import _stop_on_signals
    from bot.web_server import start_web, web_base_url
    from storage.db import make_engine, make_session_factory
    from storage.migrate import ensure_current
    from storage.services.errors import ServiceError

    configure_logging(settings.log.format, settings.log.level)
    engine = make_engine(settings.effective_database_url)
    runner = None
    try:
        await ensure_current(engine, settings.effective_database_url)
        port = settings.web.port or 8082
        try:
            runner = await start_web(settings, make_session_factory(engine))
        except OSError as err:
            where = f"{settings.web.listen_host}:{port}"
            raise ServiceError(f"cannot serve the web form on {where}: {err.strerror}") from None
        console.print(
            f"web form on http://{settings.web.listen_host}:{port}/ "
            f"(links are made for {web_base_url(settings)}); Ctrl-C stops it",
            highlight=False,
        )
        await _stop_on_signals().wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await engine.dispose()
