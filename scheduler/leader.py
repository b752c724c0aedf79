"""Which instance runs the scheduled work (reminder sweeps, broadcast progress): the leader.

On PostgreSQL the leader is the instance holding a session-level advisory lock
(`pg_try_advisory_lock`) on a connection of its own, opened outside the engine's pool and kept
open while it leads. `try_lead()` is called every few seconds (scheduler/jobs.py): an instance
that is not leader tries to take the lock; the leader checks that its connection still holds
it. On SQLite (one machine, one file) the instance is always the leader.

What this guarantees, and what not:

- PostgreSQL grants the lock to one session at a time, so at most one instance at a time has
  been told "you lead" by the database.
- A leader process that dies (even by SIGKILL) loses its connection, and the server frees the
  lock at once; another instance takes it at its next try, so within one interval. A connection
  that vanishes without closing (a cut cable) is noticed by the server through TCP keep-alives
  (asked for here: about 30 s), and the lock is freed then.
- A leader learns that it lost the lock (the server restarted, its backend was terminated, the
  network failed, a check took longer than `timeout`) only at its next check. Until then, for
  up to one interval, a former leader may still be finishing work while another instance already
  leads. Work done as leader must therefore be harmless when done twice at once; the sweep is:
  it queues with dedupe keys (docs/delivery.md).
- Nobody leads while the database cannot be reached; an instance that lost its connection tries
  again, with a new one, at its next try.
- Two processes on one SQLite file would both lead; the dedupe keys keep their reminders single,
  but run one bot per SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The advisory lock's two int4 keys: taizhang's ("tz"), and the scheduled work's within it.
LOCK_KEYS = (0x747A, 1)
APPLICATION_NAME = "taizhang-leader"  # how the lock's connection shows in pg_stat_activity
# The server drops a silent client after idle + interval x count seconds: 10 + 5 x 4.
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "4",
}

_TRY = text("SELECT pg_try_advisory_lock(:classid, :objid)")
_UNLOCK = text("SELECT pg_advisory_unlock(:classid, :objid)")
# A two-key advisory lock shows in pg_locks as (classid, objid, objsubid 2).
_HOLDS = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = :classid AND objid = :objid AND objsubid = 2)"
)


class Leadership:
    """Become or stay leader with `await try_lead()`; give it up with `await release()`."""

    def __init__(self, url: str | URL, *, timeout: float = 10.0) -> None:
        self.url = make_url(url)
        self.timeout = timeout  # seconds one try may take; longer counts as lost
        self.is_leader = False
        self.backend_pid: int | None = None  # of the lock's connection, while it is open
        self.last_error = ""  # why the last try failed, for the log
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._guard = asyncio.Lock()
        self._keys = {"classid": LOCK_KEYS[0], "objid": LOCK_KEYS[1]}

    @property
    def uses_lock(self) -> bool:
        """False on SQLite, where this instance is always the leader."""
        return self.url.get_backend_name() == "postgresql"

    async def try_lead(self) -> bool:
        """Take the lock, or check it is still ours; True while this instance leads."""
        async with self._guard:
            if not self.uses_lock:
                self.is_leader = True
                return True
            try:
                async with asyncio.timeout(self.timeout):
                    self.is_leader = await self._try()
                self.last_error = ""
            except Exception as error:  # no connection, or it dropped: not leader, try again
                self.last_error = f"{type(error).__name__}: {error}"[:300]
                self.is_leader = False
                await self._drop(graceful=False)
            return self.is_leader

    async def release(self) -> None:
        """Give up leadership (at stop): unlock and close the lock's connection."""
        async with self._guard:
            was_leader, self.is_leader = self.is_leader, False
            if self._connection is not None and was_leader:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.timeout):
                        await self._connection.execute(_UNLOCK, self._keys)
            await self._drop(graceful=True)
            if self._engine is not None:
                await self._engine.dispose()
                self._engine = None

    async def _try(self) -> bool:
        connection = await self._connect()
        if self.is_leader and await connection.scalar(_HOLDS, self._keys):
            return True
        return bool(await connection.scalar(_TRY, self._keys))

    async def _connect(self) -> AsyncConnection:
        if self._connection is not None:
            return self._connection
        if self._engine is None:
            settings = {"application_name": APPLICATION_NAME, **KEEPALIVES}
            self._engine = create_async_engine(
                self.url,
                poolclass=NullPool,  # its own connection: closing it really closes it
                isolation_level="AUTOCOMMIT",  # no transaction left open between two tries
                connect_args={"server_settings": settings},
            )
        self._connection = await self._engine.connect()
        self.backend_pid = await self._connection.scalar(text("SELECT pg_backend_pid()"))
        return self._connection

    async def _drop(self, *, graceful: bool) -> None:
        connection, self._connection = self._connection, None
        self.backend_pid = None
        if connection is None:
            return
        if not graceful:
            with contextlib.suppress(Exception):
                await connection.invalidate()  # the socket closes: the server frees the lock
        with contextlib.suppress(Exception):
            await connection.close()
