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
