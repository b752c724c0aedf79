"""APScheduler as the clock, and nothing more: its jobs call the sweep and the sender.

Jobs live in the default in-memory job store and close over the running App, so nothing is
pickled; all state is in the database, so a restart loses nothing. A sweep missed while the
bot was down or the event loop was busy runs once when it can (coalesce, no grace limit),
not once per missed interval.

With several instances on one PostgreSQL database, the sweep and the broadcast progress run only
on the leader (scheduler/leader.py), which a leadership job elects every `leader_every` seconds;
an instance that becomes leader sweeps at once. Every instance sends from the outbox.

    scheduler = start_scheduler(app)      # in bot/runner.py, inside the running loop
    ...
    await stop_scheduler(scheduler)       # before closing the bot session and the engine
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import metrics
from scheduler.broadcasts import progress_job
from scheduler.clock import Clock, as_clock
from scheduler.email_sender import EmailSender, Transport
from scheduler.leader import Leadership
from scheduler.outbox import Sender
from scheduler.reminders import sweep

log = logging.getLogger(__name__)

SWEEP_JOB = "reminder-sweep"
SEND_JOB = "outbox-sender"
EMAIL_JOB = "outbox-email-sender"
BROADCAST_JOB = "broadcast-progress"
LEADER_JOB = "leadership"
SWEEP_EVERY = 300.0  # seconds; reminders are due by the day, within office hours
SEND_EVERY = 2.0  # seconds between looks at the outbox when idle
# Seconds between looks at broadcasts' progress. An edit waits until the last one is
# PROGRESS_EVERY (3 s) old: looking every 3 s would miss that by a hair and edit every 6.
PROGRESS_LOOK_EVERY = 1.0


class ReminderScheduler(AsyncIOScheduler):
    """An AsyncIOScheduler that also holds the outbox sender its jobs drive."""

    sender: Sender
    email_sender: EmailSender | None  # None: no SMTP__HOST (or no WEB__BASE_URL for links)
    leadership: Leadership
    _send_lock: asyncio.Lock
    _email_lock: asyncio.Lock


def start_scheduler(
    app: Any,
    *,
    clock: Clock | Callable[[], dt.datetime] | None = None,
    sweep_every: float = SWEEP_EVERY,
    send_every: float = SEND_EVERY,
    sender: Sender | None = None,
    leadership: Leadership | None = None,
    leader_every: float | None = None,
    email_sender: EmailSender | None = None,
    mail_transport: Transport | None = None,
) -> AsyncIOScheduler:
    """Start the sweep and sender jobs for an App (settings, sessions, bot); needs a loop.

    `clock` is a scheduler.clock.Clock, or the bot's own clock (a function returning now).
    `mail_transport` takes each e-mail instead of an SMTP server (the sandbox's mailbox): with
    it the e-mail channel is on whenever WEB__BASE_URL is set, SMTP__HOST or not.
    """
    clock = as_clock(clock)
    settings = app.settings
    scheduler = ReminderScheduler(timezone=settings.zone)
    scheduler.sender = sender or Sender.from_settings(app.sessions, app.bot, settings, clock=clock)
    scheduler._send_lock = asyncio.Lock()
    if mail_transport is not None and email_sender is None and settings.web.base_url:
        email_sender = EmailSender.from_settings(
            app.sessions, settings, clock=clock, transport=mail_transport
        )
    if email_sender is None and getattr(settings, "email_enabled", False):
        email_sender = EmailSender.from_settings(app.sessions, settings, clock=clock)
    scheduler.email_sender = email_sender
    scheduler._email_lock = asyncio.Lock()
    engine = getattr(app, "engine", None)  # tests may pass an app of sessions alone
    scheduler.leadership = leadership or Leadership(
        engine.url if engine is not None else settings.effective_database_url
    )
    leader_every = leader_every or settings.scheduler.leader_every

    async def leader_job() -> None:  # become or stay leader; the leader sweeps at once
        was_leader = scheduler.leadership.is_leader
        leading = await scheduler.leadership.try_lead()
        metrics.LEADER.set(1 if leading else 0)
        if leading and not was_leader:
            _run_soon(scheduler, SWEEP_JOB)
            if not scheduler.leadership.uses_lock:
                return  # SQLite: always the leader, nothing to say
            log.info("leader: this instance now runs the reminder sweeps and broadcast progress")
            # A dead leader's rows, claimed but never tried, go back to the queue now rather
            # than after stale_after; a live sender whose claim this was skips them.
            try:
                await scheduler.sender.release_unattempted()
            except Exception as error:  # the sender's own start gives them back too
                log.warning("leader: could not give back a stopped sender's rows: %s", error)
        elif was_leader and not leading:
            reason = scheduler.leadership.last_error or "another instance holds the lock"
            log.warning("leader: this instance no longer leads (%s)", reason)

    async def sweep_job() -> None:
        if not scheduler.leadership.is_leader:
            return
        with metrics.SWEEP_SECONDS.time():
            result = await sweep_once()
        if result.queued:
            log.info("reminder sweep queued %d messages", result.queued)
            _send_soon(scheduler)

    async def sweep_once():
        async with app.sessions() as session:
            result = await sweep(
                session,
                clock=clock,
                staff_ids=settings.staff_ids,
                default_language=settings.default_locale,
                email=scheduler.email_sender is not None,
            )
            await session.commit()
        return result

    async def send_job() -> None:
        metrics.SENDER_HEARTBEAT.beat()
        if scheduler._send_lock.locked():
            return  # the previous run is still draining; it will pick up new rows
        async with scheduler._send_lock:
            report = await scheduler.sender.drain()
        if report.handled:
            log.info("outbox: %s", report)

    async def email_job() -> None:  # the e-mail channel's rows, at their own pace
        if scheduler._email_lock.locked() or scheduler.email_sender is None:
            return
        async with scheduler._email_lock:
            report = await scheduler.email_sender.drain()
        if report.handled:
            log.info("outbox (e-mail): %s", report)

    async def broadcast_job() -> None:  # the progress messages of broadcasts, via the outbox
        if not scheduler.leadership.is_leader:
            return
        async with app.sessions() as session:
            edits = await progress_job(
                session,
                now=clock.now(),
                rate=scheduler.sender.options.rate,  # the paid rate when it is allowed
                default_language=settings.default_locale,
            )
            await session.commit()
        if edits:
            _send_soon(scheduler)

    now = dt.datetime.now(settings.zone)
    common = {"coalesce": True, "misfire_grace_time": None, "replace_existing": True}
    scheduler.add_job(
        leader_job,
        IntervalTrigger(seconds=leader_every),
        id=LEADER_JOB,
        max_instances=1,
        next_run_time=now,
        **common,
    )
    scheduler.add_job(  # its first run comes when this instance becomes leader
        sweep_job,
        IntervalTrigger(seconds=sweep_every),
        id=SWEEP_JOB,
        max_instances=1,
        **common,
    )
    scheduler.add_job(
        send_job,
        IntervalTrigger(seconds=send_every),
        id=SEND_JOB,
        max_instances=2,  # a tick during a long drain returns at once instead of warning
        next_run_time=now,
        **common,
    )
    if scheduler.email_sender is not None:
        scheduler.add_job(
            email_job,
            IntervalTrigger(seconds=send_every),
            id=EMAIL_JOB,
            max_instances=2,
            next_run_time=now,
            **common,
        )
    scheduler.add_job(
        broadcast_job,
        IntervalTrigger(seconds=PROGRESS_LOOK_EVERY),
        id=BROADCAST_JOB,
        max_instances=1,
        next_run_time=now,
        **common,
    )
    scheduler.start()
    return scheduler


def _send_soon(scheduler: AsyncIOScheduler) -> None:
    _run_soon(scheduler, SEND_JOB)
    _run_soon(scheduler, EMAIL_JOB)


def _run_soon(scheduler: AsyncIOScheduler, job_id: str) -> None:
    job = scheduler.get_job(job_id)
    if job is not None:
        job.modify(next_run_time=dt.datetime.now(scheduler.timezone))


async def stop_scheduler(scheduler: AsyncIOScheduler, *, timeout: float = 10.0) -> None:
    """Stop the jobs. The sender first: it starts no new call, finishes and records those in
    flight and gives back the rest, before APScheduler cancels whatever still runs (a call
    cancelled mid-way would stay marked in flight until `stale_after`). Leadership last: another
    instance takes it at its next try."""
    scheduler.pause()  # no job starts from now on; the ones running go on
    if isinstance(scheduler, ReminderScheduler):
        scheduler.sender.stop()
        if scheduler.email_sender is not None:
            scheduler.email_sender.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                async with scheduler._send_lock, scheduler._email_lock:
                    pass
    scheduler.shutdown(wait=False)
    if isinstance(scheduler, ReminderScheduler):
        was_leader = scheduler.leadership.is_leader
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await scheduler.leadership.release()
        metrics.LEADER.set(0)
        if was_leader and scheduler.leadership.uses_lock:
            log.info("leader: this instance stopped and gave up leadership")
