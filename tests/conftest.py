"""Shared fixtures: databases (SQLite always, PostgreSQL when present), sample files."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
PG_HOST, PG_PORT = "127.0.0.1", 5432


def services_required() -> bool:
    return os.environ.get("TAIZHANG_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (TAIZHANG_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not _port_open(PG_HOST, PG_PORT):
        skip_or_fail(f"PostgreSQL is not running on {PG_HOST}:{PG_PORT}")
    return f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/test"


def _pg_execute(admin_url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def fresh_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty database of its own, dropped afterwards: tests never see each other's rows."""
    name = f"taizhang_test_{uuid.uuid4().hex[:12]}"
    _pg_execute(postgres_admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{(tmp_path / 'taizhang.db').as_posix()}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: every test using it runs on SQLite and on PostgreSQL."""
    from storage.migrate import upgrade

    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    upgrade(url)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator:
    from storage.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.exists():
        skip_or_fail("the seed documents (../shared/seeds) are not beside the repository")
    return SEEDS
