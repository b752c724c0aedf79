"""The web form under test: the sample ledger in SQLite, the app on aiohttp's test server,
on a clock of the test's own (never the wall's date or hour)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.e2e.harness import SHANGHAI, _copy_prepared, test_start_moment

SECRET = "test-secret-for-the-web-form-0123456789"
STAFF_ID = 900001
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@dataclass
class Clock:
    moment: dt.datetime
    seconds: float = 0.0

    def __call__(self) -> dt.datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, **delta: float) -> None:
        step = dt.timedelta(**delta)
        self.moment += step
        self.seconds += step.total_seconds()


@dataclass
class WebWorld:
    sessions: Any
    round_id: int
    previous_round_id: int
    clock: Clock
    server: TestServer | None = None
    clients: list[TestClient] = field(default_factory=list)

    async def link(self, unit: str = "医保局", **options: Any) -> str:
        """A web link's path for the unit, as `taizhang invite create --web` makes it."""
        from storage.services.invites import find_unit
        from storage.services.web_access import create_web_invite, link_path

        async with self.sessions() as session:
            created = await create_web_invite(
                session, await find_unit(session, unit), now=self.clock(), **options
            )
            await session.commit()
        return link_path(created.token)

    async def client(self) -> TestClient:
        """A browser of its own (its own cookies)."""
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return client

    async def signed_in(self, unit: str = "医保局", **options: Any) -> TestClient:
        client = await self.client()
        response = await client.get(await self.link(unit, **options), allow_redirects=False)
        assert response.status == 303, await response.text()
        return client

    async def query(self, work):
        async with self.sessions() as session:
            return await work(session)

    async def unit_task_ids(self, unit: str = "医保局") -> list[int]:
        from storage.services import reporting
        from storage.services.invites import find_unit

        async def work(session):
            found = await find_unit(session, unit)
            summary = await reporting.overview(session, self.round_id, found.id)
            return [line.task_id for line in summary.lines]

        return await self.query(work)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


def web_config(sessions, clock: Clock, **overrides: Any):
    from scheduler.notices import submit_and_tell_staff
    from web.app import WebConfig

    async def submit(session, actor, round_id, membership, now):
        return await submit_and_tell_staff(
            session, actor, round_id, membership, [STAFF_ID], now=now
        )

    values: dict[str, Any] = {
        "sessions": sessions,
        "secret": SECRET,
        "submit": submit,
        "base_url": "http://127.0.0.1",
        "clock": clock,
        "monotonic": clock.monotonic,
    }
    values.update(overrides)
    return WebConfig(**values)


@pytest.fixture
async def prepared(tmp_path: Path) -> AsyncIterator[tuple[Any, int, int, Clock]]:
    from storage.db import make_engine, make_session_factory

    start = test_start_moment()
    target = tmp_path / "web.db"
    round_id, previous_id = await _copy_prepared(target, start.astimezone(SHANGHAI).date())
    engine = make_engine(f"sqlite+aiosqlite:///{target.as_posix()}")
    try:
        yield make_session_factory(engine), round_id, previous_id, Clock(start)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(prepared) -> AsyncIterator[WebWorld]:
    from web.app import build_web_app

    sessions, round_id, previous_id, clock = prepared
    found = WebWorld(sessions, round_id, previous_id, clock)
    found.server = TestServer(build_web_app(web_config(sessions, clock)))
    await found.server.start_server()
    try:
        yield found
    finally:
        for client in found.clients:
            await client.close()
        await found.server.close()
