"""Per-update plumbing: drop redelivered updates, a database session per update, who writes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.models import ProcessedUpdate
from storage.services.people import identify

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OncePerUpdate(BaseMiddleware):
    """Telegram redelivers updates; the second delivery of an update id does nothing."""

    def __init__(self, sessions: async_sessionmaker):
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot = data.get("bot")
        async with self.sessions() as session:
            session.add(ProcessedUpdate(update_id=event.update_id, bot_id=bot.id if bot else 0))
            try:
                await session.commit()
            except IntegrityError:
                log.info("update %s seen before: ignored", event.update_id)
                return None
        return await handler(event, data)


class DatabaseSession(BaseMiddleware):
    """One session per update, committed when the handler succeeds, rolled back when it fails."""

    def __init__(self, sessions: async_sessionmaker, staff_ids: list[int]):
        self.sessions = sessions
        self.staff_ids = tuple(staff_ids)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessions() as session:
            data["session"] = session
            user: User | None = data.get("event_from_user")
            if user is not None:
                identity = await identify(session, user.id, self.staff_ids)
                data["identity"] = identity
                data["chosen_language"] = identity.language
            try:
                result = await handler(event, data)
            except Exception:
                await session.rollback()
                raise
            await session.commit()
            return result
