"""Conversation state kept in the database, so a restart or a week away loses nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.models import DialogState
from storage.types import utcnow


class DialogStateStore:
    """Each call is its own short transaction: a step is saved the moment it is taken."""

    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        async with self.sessions() as session:
            row = await session.get(DialogState, key)
            return (row.state, dict(row.data)) if row else (None, {})

    async def set_state(self, key: str, state: str | None) -> None:
        await self._write(key, state=state)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def _write(self, key: str, **values: Any) -> None:
        async with self.sessions() as session:
            row = await session.get(DialogState, key)
            if row is None:
                row = DialogState(key=key)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
