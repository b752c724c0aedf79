"""SQLite through aiosqlite in one trip to its thread per statement, where SQLAlchemy's adapter
makes four.

aiosqlite runs SQLite in a thread of its own, and every call is a trip there and back (about
75 µs of CPU on these machines). SQLAlchemy's adapter asks for a cursor, executes, fetches the
rows and closes the cursor: four trips, about 45 for an answer, most of what SQLite cost over
PostgreSQL in bench/updates.py. Here one function does all four in the thread, and the adapter
keeps the rows, the description, the row count and the last row id it brought back.

`make_engine` (storage/db.py) passes `dbapi()` as the engine's DBAPI module; nothing else in
SQLAlchemy's aiosqlite dialect changes (connections, transactions, errors, pooling).
"""

from __future__ import annotations

import collections
import sqlite3
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT


@dataclass
class _Finished:
    """What a cursor tells once its statement ran and its rows were fetched (it is closed)."""

    description: Any = None
    rowcount: int = -1
    lastrowid: int | None = None
    arraysize: int = 1

    def close(self) -> None:
        pass


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool):
    """In aiosqlite's thread: execute, fetch what it returns, close; (finished, rows)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        rows = cursor.fetchall() if cursor.description else None
        return _Finished(cursor.description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # the real cursor is closed in the thread already

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection):
        # Not super().__init__: that opens a cursor in the thread, a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Finished()
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._in_one_trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._in_one_trip(operation, seq_of_parameters, many=True)

    async def _in_one_trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection
        async with self._adapt_connection._execute_mutex:
            finished, rows = await driver._execute(_run, driver._conn, operation, parameters, many)
        self._cursor = finished
        self._rows = collections.deque(rows or ())


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
