"""The async engine and session factory. Built by the composition root, never at import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> AsyncEngine:
    """`pool_size`: connections kept open. Give at least as many as are used at once in the
    long run (the bot: its updates handled at once, and a few for intake and the scheduler):
    a connection used beyond it is closed when returned and opened anew the next time, a new
    PostgreSQL backend or SQLite thread each time, whose statements are prepared again."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options: dict = {"pool_size": pool_size} if database and database != ":memory:" else {}
        if parsed.get_driver_name() == "aiosqlite":
            from storage import sqlite_trips

            options["module"] = sqlite_trips.dbapi()  # one trip to its thread per statement
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
