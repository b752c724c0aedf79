"""The bot under test: the real taizhang bot polling the Bot API stand-in, as in production.

Tests talk to it only as people would, through `SimulatedUser`s of the stand-in; setup that
is the office's job (loading the ledger, creating invites) goes through the services, as the
command line does.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.client import SimulatedUser
from tests.e2e.phone import is_reminder
from tests.sandbox_fixtures import RunningSandbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Where the bot's clock starts, in Shanghai time; never the wall clock's date or hour.
# A Monday evening by default, so no reminder is due; CI also runs the end-to-end tests at
# TAIZHANG_TEST_NOW="… 10:00" on a working day, when the sample round's 5-days reminder is.
TEST_NOW_VARIABLE = "TAIZHANG_TEST_NOW"
DEFAULT_TEST_NOW = "2026-03-09 20:00"


def test_start_moment() -> dt.datetime:
    local = os.environ.get(TEST_NOW_VARIABLE) or DEFAULT_TEST_NOW
    return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


@dataclass
class BotUnderTest:
    sandbox: RunningSandbox
    database_url: str
    staff_ids: list[int] = field(default_factory=list)
    redis_url: str = ""
    extra_settings: dict[str, Any] = field(default_factory=dict)  # e.g. {"updates": {...}}
    round_id: int = 0
    previous_round_id: int = 0
    _task: asyncio.Task | None = None
    _stop: asyncio.Event | None = None
    _engine: Any = None
    sessions: Any = None
    now: dt.datetime | None = None  # set to hold the bot's clock at a moment
    # The test's clock: starts at test_start_moment() and runs at the speed of real time.
    started_at: dt.datetime = field(default_factory=test_start_moment)
    _started_monotonic: float = field(default_factory=time.monotonic)

    @property
    def settings(self):
        from bot.settings import load_settings

        return load_settings(
            bot_token=self.sandbox.token,
            telegram_api_base=self.sandbox.base_url,
            database_url=self.database_url,
            staff_ids=self.staff_ids,
            redis_url=self.redis_url,
            **self.extra_settings,
        )

    async def prepare(self, today: dt.date | None = None) -> None:
        from storage.db import make_engine, make_session_factory

        today = today or self.today()
        self.round_id, self.previous_round_id = await prepare_database(self.database_url, today)
        self._engine = make_engine(self.database_url)
        self.sessions = make_session_factory(self._engine)

    async def start(self) -> None:
        from bot.runner import run

        # Start-up ends with deleteWebhook (polling) or setWebhook; the stand-in logs a call
        # when it is answered, so a long poll would only show up a polling timeout later.
        ready = ("deleteWebhook", "setWebhook")
        before = [len(await self.sandbox.client.calls(name)) for name in ready]
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            run(self.settings, self._stop, polling_timeout=1, clock=self.clock)
        )
        for _ in range(400):  # until the new process has finished starting
            if self._task.done():
                self._task.result()  # start-up failed: raise its error here
            now = [len(await self.sandbox.client.calls(name)) for name in ready]
            if now != before:
                return
            await asyncio.sleep(0.025)
        raise TimeoutError("the bot did not finish starting")

    def clock(self) -> dt.datetime:
        if self.now is not None:
            return self.now
        return self.started_at + dt.timedelta(seconds=time.monotonic() - self._started_monotonic)

    def today(self) -> dt.date:
        """The date in Shanghai on the test's clock."""
        return self.clock().astimezone(SHANGHAI).date()

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, 15)
        finally:
            self._task = None

    async def crash(self) -> None:
        """Stop the bot the hard way: nothing in hand finishes, nothing is committed."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
        if self._engine is not None:
            await self._engine.dispose()

    # ---------------------------------------------------------------- the office's side

    async def invite(
        self,
        unit: str,
        *,
        uses: int = 1,
        expires_in: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        from storage.services.invites import create_invite, find_unit

        async with self.sessions() as session:
            created = await create_invite(
                session,
                await find_unit(session, unit),
                uses=uses,
                expires_in=expires_in or dt.timedelta(days=14),
                now=now or self.clock(),
            )
            await session.commit()
            return created.token

    async def contact(
        self, first_name: str, unit: str = "医保局", *, language_code: str = "zh-hans"
    ) -> SimulatedUser:
        """A person who opened an invite for `unit` and was greeted."""
        user = await self.sandbox.client.create_user(first_name, language_code=language_code)
        user.looks_past = is_reminder  # a reminder may come in the middle of the dialog
        await user.start(await self.invite(unit))
        await user.wait_for_reply()
        return user

    async def query(self, work):
        async with self.sessions() as session:
            return await work(session)


# ---------------------------------------------------------------- the prepared database

# One migrated SQLite database with the sample ledger per day of the test clock, copied for
# each test: the same upgrade and the same load, done once instead of for every test.
_PREPARED: dict[dt.date, tuple[Path, int, int]] = {}


async def prepare_database(url: str, today: dt.date) -> tuple[int, int]:
    """The migrated database at `url` with the sample ledger loaded on `today` (for SQLite, a
    copy of the one prepared for that day): (the open round's id, the previous round's)."""
    target = _sqlite_file(url)
    if target is None:
        return await _migrate_and_load(url, today)
    return await _copy_prepared(target, today)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite+aiosqlite:///"
    return Path(url.removeprefix(prefix)) if url.startswith(prefix) else None


async def _migrate_and_load(url: str, today: dt.date) -> tuple[int, int]:
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.services.samples import load_sample_ledger

    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            sample = await load_sample_ledger(session, today)
            await session.commit()
    finally:
        await engine.dispose()
    return sample.round_id, sample.previous_round_id


async def _copy_prepared(target: Path, today: dt.date) -> tuple[int, int]:
    prepared = _PREPARED.get(today)
    if prepared is None or not prepared[0].exists():
        folder = Path(tempfile.mkdtemp(prefix="taizhang-e2e-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "prepared.db"
        ids = await _migrate_and_load(f"sqlite+aiosqlite:///{template.as_posix()}", today)
        prepared = _PREPARED[today] = (template, *ids)
    # SQLite's backup copies a WAL database whole, whatever is still in its log.
    with (
        contextlib.closing(sqlite3.connect(prepared[0])) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return prepared[1], prepared[2]
