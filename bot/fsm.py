"""Where aiogram keeps dialog state: the database by default, Redis when REDIS_URL is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.services.dialog import DialogStateStore


def storage_key(key: StorageKey) -> str:
    parts = [key.bot_id, key.chat_id, key.user_id, key.thread_id, key.business_connection_id]
    return ":".join("" if p is None else str(p) for p in parts) + f":{key.destiny}"


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker):
        self.store = DialogStateStore(sessions)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self.store.set_state(storage_key(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self.store.get(storage_key(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.store.set_data(storage_key(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self.store.get(storage_key(key))
        return data

    async def close(self) -> None:
        pass


def build_storage(redis_url: str, sessions: async_sessionmaker) -> BaseStorage:
    if redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(redis_url)
    return DatabaseStorage(sessions)
