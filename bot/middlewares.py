"""Per-update plumbing: drop redelivered updates, a database session per update, who writes."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from scheduler.notices import change_reachability
from storage.models import ProcessedUpdate
from storage.services.dialog import update_session
from storage.services.people import identify

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OneAtATimePerUser(BaseMiddleware):
    """A person's updates are handled in order, each after the last one's changes are saved.

    Polling handles updates concurrently; without this, a quick second message could be read
    against the state the first one has not committed yet. Register it first of all (see
    `first_of_all`), so updates queue here in the order they arrived.
    """

    def __init__(self) -> None:
        self.locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # Runs before aiogram's own context middlewares, so the user comes from the update.
        user: User | None = getattr(getattr(event, "event", None), "from_user", None)
        if user is None:
            return await handler(event, data)
        lock = self.locks.get(user.id)
        if lock is None:
            lock = self.locks[user.id] = asyncio.Lock()
        async with lock:
            return await handler(event, data)


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

    def __init__(self, sessions: async_sessionmaker, staff_ids: list[int], clock):
        self.sessions = sessions
        self.staff_ids = tuple(staff_ids)
        self.clock = clock  # what the bot takes for now; handlers get it as `now`

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessions() as session:
            data["session"] = session
            token = update_session.set(session)
            try:
                return await self._handle(handler, event, data, session)
            finally:
                update_session.reset(token)

    async def _handle(
        self, handler: Handler, event: TelegramObject, data: dict[str, Any], session
    ) -> Any:
        data["now"] = self.clock()
        user: User | None = data.get("event_from_user")
        if user is not None:
            identity = await identify(session, user.id, self.staff_ids)
            if isinstance(getattr(event, "event", None), Message | CallbackQuery):
                await change_reachability(  # they just wrote to us
                    session,
                    True,
                    cause=f"update:{event.update_id}",
                    telegram_user_id=user.id,
                    staff_ids=self.staff_ids,
                    now=data["now"],
                )
            data["identity"] = identity
            data["chosen_language"] = identity.language
        try:
            result = await handler(event, data)
        except Exception:
            await session.rollback()
            raise
        await session.commit()
        return result


def first_of_all(manager, middleware: BaseMiddleware) -> None:
    """Put a middleware before those aiogram registered itself."""
    registered = list(manager)
    for existing in registered:
        manager.unregister(existing)
    manager.register(middleware)
    for existing in registered:
        manager.register(existing)


class SaveBeforeReplying(BaseRequestMiddleware):
    """Commit the update's changes before the bot says anything about them.

    A person is never told "saved" (or shown a receipt) for something a failed commit lost.
    """

    async def __call__(self, make_request: NextRequestMiddlewareType, bot, method: TelegramMethod):
        session = update_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)
