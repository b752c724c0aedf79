"""Running the bot: long polling, or a webhook server when WEBHOOK__URL is set."""

from __future__ import annotations

import asyncio
import logging

from bot.app import App, Clock, build_app, register_commands
from bot.settings import Settings
from scheduler.jobs import start_scheduler, stop_scheduler
from storage.migrate import ensure_current
from storage.types import utcnow

log = logging.getLogger(__name__)


async def run(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    polling_timeout: int = 25,
    clock: Clock = utcnow,
) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update is noise
    app = build_app(settings, clock)
    scheduler = None
    try:
        await ensure_current(app.engine, settings.effective_database_url)
        await register_commands(app.bot, settings.default_locale)
        scheduler = start_scheduler(app, clock=clock)  # reminders and the outbox sender
        if settings.webhook.url:
            await _serve_webhook(app, stop)
        else:
            await _poll(app, stop, polling_timeout)
    finally:
        if scheduler is not None:
            await stop_scheduler(scheduler)
        await app.close()


async def _poll(app: App, stop: asyncio.Event | None, polling_timeout: int) -> None:
    await app.bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot,
            handle_signals=stop is None,
            polling_timeout=polling_timeout,
            close_bot_session=False,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    )
    if stop is None:
        await polling
        return
    await stop.wait()
    await app.dispatcher.stop_polling()
    await polling


async def _serve_webhook(app: App, stop: asyncio.Event | None) -> None:
    """Telegram posts updates to WEBHOOK__URL; our server behind it checks the secret header."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web

    hook = app.settings.webhook
    web_app = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dispatcher, bot=app.bot, secret_token=hook.secret or None
    ).register(web_app, path=hook.path)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, hook.listen_host, hook.listen_port).start()
    await app.bot.set_webhook(
        hook.url,
        secret_token=hook.secret or None,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    log.info("webhook at %s, listening on %s:%s", hook.url, hook.listen_host, hook.listen_port)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()
