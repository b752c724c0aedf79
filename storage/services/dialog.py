"""Conversation state kept in the database, so a restart or a week away loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DialogState
from storage.types import utcnow

# The session of the update being handled. State is written in the same transaction as the
# answers it points at, so both are saved together (and SQLite never waits on itself).
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)


class DialogStateStore:
    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        """(session, owned): the update's session if one is open, else a short one of our own."""
        shared = update_session.get()
        if shared is not None:
            yield shared, False
            return
        async with self.sessions() as session:
            yield session, True

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        async with self._session() as (session, owned):
            row = await _row(session, key, owned)
            return (row.state, dict(row.data)) if row else (None, {})

    async def set_state(self, key: str, state: str | None) -> None:
        await self._write(key, state=state)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def _write(self, key: str, **values: Any) -> None:
        """Write the values, unless the row holds them already: aiogram sets the state and
        the data it has just read back as often as it changes them."""
        async with self._session() as (session, owned):
            row = await _row(session, key, owned)
            if row is not None and all(getattr(row, n) == v for n, v in values.items()):
                return
            if row is None:
                row = DialogState(key=key)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.add(row)
            if owned:
                await session.commit()
            else:  # saved with the update's next flush or commit: aiogram often sets the
                # state and then the data, one UPDATE for both
                _held(session)[key] = row


async def _row(session: AsyncSession, key: str, owned: bool) -> DialogState | None:
    """The conversation's row: read once per update (the update's session holds it, or
    knows there is none), or afresh in a session of our own."""
    if owned:
        return await session.get(DialogState, key)
    held = _held(session)
    if key not in held:
        held[key] = await session.get(DialogState, key)
    return held[key]


def _held(session: AsyncSession) -> dict[str, DialogState | None]:
    """The update's dialog rows (None: there is none yet), held for as long as its session:
    aiogram reads the state several times per update, and the session itself keeps a row
    only while something refers to it."""
    return session.info.setdefault("dialog_rows", {})
