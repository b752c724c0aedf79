"""storage.sqlite_trips: on SQLite each statement is one trip to aiosqlite's thread, and what
SQLAlchemy reads back (rows, counts, ids, errors) is what the stock adapter gives."""

from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import exc, text

from storage.db import make_engine


@pytest.fixture
async def engine(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch) -> list[str]:
    """The functions sent to aiosqlite's thread, by name, from now on."""
    sent: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_statement_is_one_trip_to_the_thread(engine, trips) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the connection's own set-up, once
        trips.clear()
        rows = (await connection.execute(text("SELECT 1 AS one, 'x' AS two"))).all()
        assert trips == ["_run"]
        assert [tuple(r) for r in rows] == [(1, "x")]


async def test_counts_ids_and_many_rows_come_back(engine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert first.lastrowid == 1 and first.rowcount == 1
        many = await connection.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2
        changed = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        result = await connection.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(r) for r in result] == [(1, "a"), (2, "b!"), (3, "c!")]


async def test_errors_are_sqlalchemys_and_the_connection_goes_on(engine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(exc.IntegrityError):
            await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(exc.OperationalError):
            await connection.execute(text("SELECT nothing FROM nowhere"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
