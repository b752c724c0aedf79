"""Leadership of the scheduled work: one leader on PostgreSQL, always the leader on SQLite."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import asyncpg
import pytest
from sqlmodel import select

from bot.settings import load_settings
from scheduler import metrics
from scheduler.jobs import start_scheduler, stop_scheduler
from scheduler.leader import APPLICATION_NAME, Leadership
from storage.models import OutboxMessage
from storage.services.outbox import enqueue
from tests.scheduler.conftest import aiogram_bot, started_users


def _plain(url: str) -> str:
    return url.replace("+asyncpg", "")


@pytest.mark.postgres
async def test_one_of_two_leads_and_the_other_takes_over_when_its_connection_closes(
    fresh_postgres_url: str,
) -> None:
    first, second = Leadership(fresh_postgres_url), Leadership(fresh_postgres_url)
    admin = await asyncpg.connect(_plain(fresh_postgres_url))
    try:
        assert await first.try_lead() is True
        assert await second.try_lead() is False
        assert await first.try_lead() is True  # staying leader: the lock is still its own
        assert await second.try_lead() is False
        assert first.backend_pid and second.backend_pid
        names = await admin.fetch(
            "SELECT application_name FROM pg_stat_activity WHERE pid = ANY($1::int[])",
            [first.backend_pid, second.backend_pid],
        )
        assert [r["application_name"] for r in names] == [APPLICATION_NAME] * 2

        # The leader's connection closes under it (as when its process dies).
        gone = first.backend_pid
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", gone)
        await _until_backend_gone(admin, gone)  # terminating only signals it; then it exits
        assert await second.try_lead() is True  # the server freed the lock with the session
        assert await first.try_lead() is False  # it learns at its next check
        assert first.last_error  # why it lost: the connection's error
        assert await first.try_lead() is False  # a new connection, and the lock is taken

        await second.release()
        assert second.is_leader is False and second.backend_pid is None
        assert await first.try_lead() is True
    finally:
        await first.release()
        await second.release()
        await admin.close()
    assert first.is_leader is False


async def _until_backend_gone(admin, pid: int, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.01)


@pytest.mark.postgres
async def test_a_lock_of_another_database_is_another_lock(
    fresh_postgres_url: str, postgres_admin_url: str
) -> None:
    ours, other = Leadership(fresh_postgres_url), Leadership(postgres_admin_url)
    try:
        assert await ours.try_lead() is True
        assert await other.try_lead() is True  # another deployment's database: its own leader
    finally:
        await ours.release()
        await other.release()


async def test_no_database_no_leader_and_it_tries_again() -> None:
    nowhere = Leadership("postgresql+asyncpg://postgres@127.0.0.1:1/none", timeout=2.0)
    assert await nowhere.try_lead() is False
    assert nowhere.last_error
    assert await nowhere.try_lead() is False
    await nowhere.release()


async def test_on_sqlite_the_instance_is_always_the_leader(sqlite_url: str) -> None:
    alone = Leadership(sqlite_url)
    assert alone.uses_lock is False
    assert await alone.try_lead() is True
    assert await Leadership(sqlite_url).try_lead() is True  # one file, one bot: no lock
    await alone.release()
    assert alone.is_leader is False


async def _until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def _leader_gauge() -> float | None:
    return metrics.REGISTRY.get_sample_value("taizhang_leader")


def _sweeps() -> float:
    return metrics.REGISTRY.get_sample_value("taizhang_reminder_sweep_seconds_count") or 0.0


@pytest.mark.postgres
async def test_the_jobs_wait_for_leadership_and_the_new_leader_frees_a_dead_senders_claims(
    fresh_postgres_url: str, telegram, clock, monkeypatch, tmp_path
) -> None:
    """While another instance leads, nothing is swept here; when it goes, this instance leads
    and at once gives back the rows a dead sender claimed and never tried (sent now, not after
    `stale_after`, 300 s), while the one the dead sender had in flight waits that out."""
    from sqlalchemy import update

    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.services.outbox import IN_FLIGHT, OUTBOX

    monkeypatch.chdir(tmp_path)  # no stray .env
    await asyncio.to_thread(upgrade, fresh_postgres_url)
    engine = make_engine(fresh_postgres_url)
    sessions = make_session_factory(engine)
    users = await started_users(telegram, 3)
    holder = Leadership(fresh_postgres_url)  # the other instance, leader for now
    assert await holder.try_lead()
    settings = load_settings(bot_token=telegram.token, telegram_api_base=telegram.base_url,
                             database_url=fresh_postgres_url)  # fmt: skip
    app = SimpleNamespace(settings=settings, sessions=sessions, bot=aiogram_bot(telegram))
    sweeps_before = _sweeps()
    scheduler = start_scheduler(app, clock=clock, sweep_every=3600, send_every=0.1,
                                leader_every=0.2)  # fmt: skip
    try:
        # Its sender has started (and given back what was left at its start); it does not lead.
        await _until(lambda: scheduler.sender._released_unattempted and _leader_gauge() == 0)
        assert _sweeps() == sweeps_before  # the sweep waits for leadership
        async with sessions() as session:
            for user in users:
                payload = {"text": f"给{user}"}
                await enqueue(session, dedupe_key=f"claimed:{user}", kind="staff_notice",
                              chat_id=user, payload=payload, now=clock.now())  # fmt: skip
            await session.commit()
            dead = "dead-host:0000"  # the leader's sender: it claimed all three, one in flight
            connection = await session.connection()
            await connection.execute(
                update(OUTBOX).values(status="sending", claimed_by=dead, claimed_at=clock.now())
            )
            await connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.chat_id == users[0])
                .values(claimed_by=dead + IN_FLIGHT)
            )
            await session.commit()
        await holder.release()  # the leader is gone
        await _until(lambda: _leader_gauge() == 1 and _sweeps() == sweeps_before + 1)
        for user in users[1:]:
            await telegram.client.wait_until(user, lambda v: bool(v.bot_messages), timeout=10)
    finally:
        await stop_scheduler(scheduler)
        await app.bot.session.close()
        await holder.release()
    assert _leader_gauge() == 0
    async with sessions() as session:
        rows = {r.chat_id: r.status for r in (await session.exec(select(OutboxMessage))).all()}
    await engine.dispose()
    assert rows == {users[0]: "sending", users[1]: "sent", users[2]: "sent"}
    assert not (await telegram.client.read_chat(users[0])).bot_messages
