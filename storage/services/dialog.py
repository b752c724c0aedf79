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
            row = await session.get(DialogState, key)
            if row is not None and not owned:
                _held(session)[key] = row
            return (row.state, dict(row.data)) if row else (None, {})

    async def set_state(self, key: str, state: str | None) -> None:
        await self._write(key, state=state)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def _write(self, key: str, **values: Any) -> None:
        async with self._session() as (session, owned):
            row = await session.get(DialogState, key)
            if row is None:
                row = DialogState(key=key)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.add(row)
            if not owned:
                _held(session)[key] = row
            if owned:
                await session.commit()
            else:
                await session.flush()


def _held(session: AsyncSession) -> dict[str, DialogState]:
    """The update's dialog rows, held for as long as its session: the session keeps its rows
    only while something refers to them, so each read of the state would otherwise ask the
    database again (aiogram reads it several times per update)."""
    return session.info.setdefault("dialog_rows", {})
