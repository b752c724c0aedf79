"""Running the bot: long polling, or a webhook server when WEBHOOK__URL is set."""

from __future__ import annotations

import asyncio
import logging

from bot.app import App, build_app
from bot.settings import Settings
from storage.migrate import ensure_current

log = logging.getLogger(__name__)


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = build_app(settings)
    try:
        await ensure_current(app.engine, settings.effective_database_url)
        await _poll(app, stop)
    finally:
        await app.close()


async def _poll(app: App, stop: asyncio.Event | None) -> None:
    await app.bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot,
            handle_signals=stop is None,
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
