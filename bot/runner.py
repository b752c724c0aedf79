"""Running the bot: long polling, or a webhook server when WEBHOOK__URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.app import App, Clock, build_app, register_commands, sync_staff
from bot.inbox import poll, webhook_handler
from bot.logs import configure_logging, started_line
from bot.settings import Settings
from scheduler.email_sender import Transport
from scheduler.jobs import start_scheduler, stop_scheduler
from storage.migrate import ensure_current
from storage.services.rounds import plans_and_open_rounds
from storage.types import utcnow

log = logging.getLogger(__name__)
# A stop (SIGTERM) lets the updates in hand finish (up to 5 s, bot/inbox.py), then the
# sender's calls in flight (up to this): with closing, within the 10 s an orchestrator allows.
SENDER_STOP_SECONDS = 4.0


async def run(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    polling_timeout: int = 25,
    clock: Clock = utcnow,
    mail_transport: Transport | None = None,
) -> None:
    """`mail_transport`: where e-mail goes instead of SMTP__HOST (`taizhang sandbox`'s mailbox)."""
    configure_logging(settings.log.format, settings.log.level)
    app = build_app(settings, clock)
    scheduler = web_form = health = None
    try:
        await ensure_current(app.engine, settings.effective_database_url)
        await sync_staff(app.sessions, settings.staff_ids)
        await register_commands(app.bot, settings.default_locale, app.sessions)
        # reminders and the outbox senders
        scheduler = start_scheduler(app, clock=clock, mail_transport=mail_transport)
        if settings.health.port:  # /healthz and /metrics (bot/health.py)
            health = await _serve_health(app)
        log.info(await _started(app))
        if settings.web.port:  # the web report form beside the bot (bot/web_server.py)
            from bot.web_server import start_web

            web_form = await start_web(settings, app.sessions, clock, bot=app.bot)
        if settings.webhook.url:
            await _serve_webhook(app, stop)
        else:
            await _poll(app, stop, polling_timeout)
    finally:
        if health is not None:
            await health.cleanup()
        if web_form is not None:
            await web_form.cleanup()
        if scheduler is not None:
            await stop_scheduler(scheduler, timeout=SENDER_STOP_SECONDS)
        await app.close()


async def _started(app: App) -> str:
    settings = app.settings
    if settings.webhook.url:
        mode = f"webhook at {settings.webhook.url}"
    else:
        me = await app.bot.me()
        mode = f"polling {settings.telegram_api_base} as @{me.username}"
    async with app.sessions() as session:
        plans, open_rounds = await plans_and_open_rounds(session)
    return started_line(mode, settings.effective_database_url, plans, open_rounds)


async def _serve_health(app: App):
    from bot.health import Health, start_health

    redis = getattr(app.dispatcher.storage, "redis", None)  # RedisStorage keeps its client
    hosted = app.settings.health
    return await start_health(Health(app.sessions, redis), hosted.listen_host, hosted.port)


async def _poll(app: App, stop: asyncio.Event | None, polling_timeout: int) -> None:
    await app.bot.delete_webhook(drop_pending_updates=False)
    stop = stop or _stop_on_signals()
    worker = asyncio.create_task(app.inbox.run(stop))
    try:
        await poll(
            app.bot,
            app.inbox,
            stop,
            timeout=polling_timeout,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    finally:
        stop.set()
        await worker


async def _serve_webhook(app: App, stop: asyncio.Event | None) -> None:
    """Telegram posts updates to WEBHOOK__URL; our server behind it checks the secret header
    and answers only once the update is stored."""
    from aiohttp import web

    hook = app.settings.webhook
    stop = stop or _stop_on_signals()
    web_app = web.Application()
    web_app.router.add_post(hook.path, webhook_handler(app.inbox, hook.secret))
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, hook.listen_host, hook.listen_port).start()
    worker = asyncio.create_task(app.inbox.run(stop))
    try:
        await app.bot.set_webhook(
            hook.url,
            secret_token=hook.secret or None,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
        log.info("webhook at %s, listening on %s:%s", hook.url, hook.listen_host, hook.listen_port)
        await stop.wait()
    finally:
        stop.set()
        await runner.cleanup()
        await worker


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, so both stop the bot the same graceful way."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
            loop.add_signal_handler(getattr(signal, name), stop.set)
    return stop
