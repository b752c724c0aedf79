"""The web report form, wired: its settings, the clock, and how a submission tells the office
(the same outbox notice as the bot's, scheduler.notices.submit_and_tell_staff).

`taizhang web` (bot/cli_web.py), `taizhang run` when WEB__PORT is set (bot/runner.py) and
`taizhang sandbox` (bot/cli_sandbox.py) all start it with `start_web`.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from aiohttp import web as aiohttp_web
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.settings import Settings, SettingsError
from storage.types import utcnow

log = logging.getLogger("taizhang.web")


def require_web(settings: Settings) -> None:
    """Refuse to serve the web form without what it needs, naming the setting."""
    if not settings.web.secret:
        raise SettingsError(
            "setting WEB__SECRET is missing: the web form signs its cookies with it "
            "(at least 16 characters, e.g. `openssl rand -hex 32`)"
        )


def web_base_url(settings: Settings) -> str:
    """WEB__BASE_URL, or where the form listens when it is not set (good for one machine)."""
    if settings.web.base_url:
        return settings.web.base_url
    return f"http://{settings.web.listen_host}:{settings.web.port or 8082}"


def build_web(settings: Settings, sessions: async_sessionmaker, clock=utcnow, bot=None):
    """The web app with the console's actions; `bot` (the running bot's, from bot/runner.py)
    uploads a broadcast's file: without one the console sends no files."""
    from bot.attachments import attachment_uploader
    from scheduler.notices import submit_and_tell_staff
    from web.app import MB, WebConfig, build_web_app

    require_web(settings)
    staff_ids = list(settings.staff_ids)

    async def submit(session, actor, round_id, membership, now: dt.datetime):
        return await submit_and_tell_staff(
            session, actor, round_id, membership, staff_ids, now=now
        )

    config = WebConfig(
        sessions=sessions,
        secret=settings.web.secret,
        submit=submit,
        base_url=web_base_url(settings),
        clock=clock,
        default_locale=settings.default_locale,
        max_upload_bytes=settings.web.max_upload_mb * MB,
        session_idle=dt.timedelta(days=settings.web.session_idle_days),
        session_lifetime=dt.timedelta(days=settings.web.session_max_days),
        trust_forwarded=settings.web.trust_forwarded,
        # the office console's review notices and broadcasts, queued as from the bot
        office=office_actions(
            attachment_uploader(bot, staff_ids, settings.default_locale) if bot else None
        ),
    )
    return build_web_app(config)


def office_actions(upload_attachment=None):
    """What the console does that tells someone (scheduler/), wired as the bot wires it;
    `upload_attachment` only where a bot runs (bot.attachments.attachment_uploader)."""
    from scheduler.broadcasts import confirm_and_queue, remind_unacknowledged, schedule, time_for
    from scheduler.nudges import nudge
    from scheduler.review_notices import accept_and_tell, return_and_tell
    from web.app import OfficeActions

    return OfficeActions(
        accept_and_tell,
        return_and_tell,
        confirm_and_queue,
        nudge,
        remind_unacknowledged=remind_unacknowledged,
        broadcast_time=time_for,
        schedule_broadcast=schedule,
        upload_attachment=upload_attachment,
    )


async def start_web(
    settings: Settings,
    sessions: async_sessionmaker,
    clock=utcnow,
    *,
    port: int | None = None,
    bot=None,
) -> aiohttp_web.AppRunner:
    """Serve the form on WEB__LISTEN_HOST:WEB__PORT (or `port`); the caller cleans it up.
    `bot`: the running bot, for the console's file uploads (none from `taizhang web`)."""
    from web.security import AccessLogger

    app = build_web(settings, sessions, clock, bot)
    runner = aiohttp_web.AppRunner(app, access_log_class=AccessLogger, access_log=log)
    await runner.setup()
    listen = port or settings.web.port or 8082
    await aiohttp_web.TCPSite(runner, settings.web.listen_host, listen).start()
    log.info(
        "web form on %s:%s (links: %s)", settings.web.listen_host, listen, web_base_url(settings)
    )
    return runner


# ---------------------------------------------------------------- the sandbox's


def sandbox_secret(data_dir: Path) -> str:
    """The sandbox's own WEB__SECRET, kept beside its database so a restart keeps sessions."""
    import secrets

    path = data_dir / "web-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


async def sample_web_link(database_url: str, base_url: str, now: dt.datetime | None = None) -> str:
    """A fresh web link for 兴庆区医疗保障局, for a contact without Telegram (made `now`)."""
    from storage.db import make_engine, make_session_factory
    from storage.services.invites import find_unit
    from storage.services.web_access import create_web_invite, web_link
    from storage.types import utcnow

    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as session:
            unit = await find_unit(session, "兴庆区医疗保障局")
            created = await create_web_invite(session, unit, now=now or utcnow(), name="赵敏")
            await session.commit()
    finally:
        await engine.dispose()
    return web_link(base_url, created.token)
