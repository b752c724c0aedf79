"""APScheduler is only the clock: its jobs run the sweep and the sender, nothing is pickled."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from apscheduler.jobstores.memory import MemoryJobStore
from sqlmodel import select

from bot.settings import load_settings
from scheduler.clock import FakeClock
from scheduler.jobs import SEND_JOB, SWEEP_JOB, start_scheduler, stop_scheduler
from storage.models import OutboxMessage
from storage.services.outbox import enqueue
from tests.scheduler.conftest import aiogram_bot, started_users
from tests.scheduler.world import build_world


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: nothing here is dialect-specific (the queries run on both elsewhere)."""
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    return sqlite_url


async def test_the_jobs_sweep_and_send_until_stopped(
    sessions, telegram, clock: FakeClock, database_url, monkeypatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    (user,) = await started_users(telegram, 1)
    async with sessions() as session:
        await build_world(session, due=FakeClock.at("2023-10-10 09:00").now().date(),
                          chat_ids=[[user]])  # fmt: skip
        await session.commit()
    clock.set("2023-10-09 10:00")  # one working day before the deadline
    settings = load_settings(
        bot_token=telegram.token,
        telegram_api_base=telegram.base_url,
        database_url=database_url,
    )
    app = SimpleNamespace(settings=settings, sessions=sessions, bot=aiogram_bot(telegram))
    scheduler = start_scheduler(app, clock=clock, sweep_every=3600, send_every=0.1)
    try:
        view = await telegram.client.wait_until(user, lambda v: bool(v.bot_messages))
        assert "下一个工作日" in view.bot_messages[0]["text"]
        for job_id in (SWEEP_JOB, SEND_JOB):
            job = scheduler.get_job(job_id)
            assert job.coalesce is True and job.misfire_grace_time is None
        assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    finally:
        await stop_scheduler(scheduler)
        await app.bot.session.close()
    assert not scheduler.running


def test_the_bots_own_clock_function_serves_as_the_schedulers_clock() -> None:
    import datetime as dt

    from scheduler.clock import SystemClock, as_clock

    moment = dt.datetime(2023, 10, 9, 2, 0, tzinfo=dt.UTC)
    assert as_clock(lambda: moment).now() == moment
    fake = FakeClock(moment)
    assert as_clock(fake) is fake
    assert isinstance(as_clock(None), SystemClock)


class HeldCall(BaseRequestMiddleware):
    """Holds the first sendMessage until the test lets it go."""

    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()

    async def __call__(self, make_request, bot, method):
        if method.__api_method__ == "sendMessage":
            self.started.set()
            await self.release.wait()
        return await make_request(bot, method)


async def test_stopping_lets_the_call_in_flight_finish_and_be_recorded(
    sessions, telegram, clock: FakeClock, database_url, make_sender, monkeypatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    (user,) = await started_users(telegram, 1)
    async with sessions() as session:
        await enqueue(session, dedupe_key="held", kind="staff_notice", chat_id=user,
                      payload={"text": "在途"}, now=clock.now())  # fmt: skip
        await session.commit()
    held = HeldCall()
    settings = load_settings(bot_token=telegram.token, telegram_api_base=telegram.base_url,
                             database_url=database_url)  # fmt: skip
    app = SimpleNamespace(settings=settings, sessions=sessions, bot=aiogram_bot(telegram))
    sender = make_sender(middleware=held)
    scheduler = start_scheduler(app, clock=clock, sweep_every=3600, send_every=0.1, sender=sender)
    try:
        await asyncio.wait_for(held.started.wait(), 10)
        stopping = asyncio.create_task(stop_scheduler(scheduler))
        await asyncio.sleep(0)  # stop_scheduler runs up to its first wait: the sender is told
        held.release.set()
        await asyncio.wait_for(stopping, 10)
    finally:
        await app.bot.session.close()
    async with sessions() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert row.status == "sent"
    assert [m["text"] for m in (await telegram.client.read_chat(user)).bot_messages] == ["在途"]
