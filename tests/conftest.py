"""Shared fixtures: databases (SQLite always, PostgreSQL when present), sample files."""

from __future__ import annotations

import contextlib
import os
import shutil
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


@contextlib.contextmanager
def _postgres_database(admin_url: str, prefix: str, template: str = "") -> Iterator[str]:
    """A database of its own (a copy of `template` when given), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    _pg_execute(admin_url, f'CREATE DATABASE "{name}"{copy}')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty database of its own, dropped afterwards: tests never see each other's rows."""
    with _postgres_database(postgres_admin_url, "taizhang_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres(postgres_admin_url: str) -> Iterator[str]:
    """One database migrated from empty, the template every test's migrated database copies
    (CREATE DATABASE … TEMPLATE: a fraction of running the migrations again each time)."""
    from storage.migrate import upgrade

    with _postgres_database(postgres_admin_url, "taizhang_template") as url:
        upgrade(url)  # its engine is disposed after: a template must have no one connected
        yield url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated from empty, copied for every test that wants a migrated one."""
    from storage.migrate import upgrade

    path = tmp_path_factory.mktemp("migrated") / "taizhang.db"
    upgrade(f"sqlite+aiosqlite:///{path.as_posix()}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{(tmp_path / 'taizhang.db').as_posix()}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of the test's own: every test using it runs on SQLite and
    on PostgreSQL. Each is a copy of one migrated from empty at the session's start."""
    if request.param == "sqlite":
        path = tmp_path / "taizhang.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite+aiosqlite:///{path.as_posix()}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    template = request.getfixturevalue("migrated_postgres")
    with _postgres_database(admin_url, "taizhang_test", template) as url:
        yield url


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
