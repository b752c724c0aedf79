"""Per-update plumbing: a database session per update that also marks it handled; who writes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from sqlalchemy.ext.asyncio import async_sessionmaker

from scheduler.notices import change_reachability
from storage.services import updates
from storage.services.dialog import update_session
from storage.services.people import identify

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseSession(BaseMiddleware):
    """One session per update, committed when the handler succeeds, rolled back when it fails.

    A stored update (bot.inbox) comes with `inbound` = (bot id, update id): the session's first
    commit marks it handled with the handler's changes, and fails with AlreadyHandled when
    another delivery (another instance's worker) marked it first. That commit comes before
    the bot says anything (SaveBeforeReplying), so a second delivery changes nothing and says
    nothing; the inbox handed the update out as pending, so it is not read again here first.
    `inbound_outcome`, a dict when given, gets "marked": whether that is done (so the inbox
    need not mark it once more).
    """

    def __init__(self, sessions: async_sessionmaker, staff_ids: list[int], clock):
        self.sessions = sessions
        self.staff_ids = tuple(staff_ids)
        self.clock = clock  # what the bot takes for now; handlers get it as `now`

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        inbound: tuple[int, int] | None = data.get("inbound")
        outcome: dict[str, Any] = data.get("inbound_outcome", {})
        async with self.sessions() as session:
            guard = updates.guard_commit(session, *inbound) if inbound else None
            session.info["inbound_guard"] = guard
            data["session"] = session
            token = update_session.set(session)
            try:
                return await self._handle(handler, event, data, session)
            finally:
                update_session.reset(token)
                if guard is not None:
                    guard()
                    outcome["marked"] = guard.marked

    async def _handle(
        self, handler: Handler, event: TelegramObject, data: dict[str, Any], session
    ) -> Any:
        data["now"] = self.clock()
        user: User | None = data.get("event_from_user")
        if user is not None:
            identity = await identify(session, user.id, self.staff_ids)
            wrote = isinstance(getattr(event, "event", None), Message | CallbackQuery)
            if wrote and identity.unreachable:
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


class SaveBeforeReplying(BaseRequestMiddleware):
    """Commit the update's changes before the bot says anything about them.

    A person is never told "saved" (or shown a receipt) for something a failed commit lost
    (changes not yet flushed, such as the dialog state's, included),
    and the bot says nothing about an update another delivery handled: before the first call
    the commit also marks the update handled, even with nothing else to save.
    """

    async def __call__(self, make_request: NextRequestMiddlewareType, bot, method: TelegramMethod):
        session = update_session.get()
        if session is not None:
            guard = session.info.get("inbound_guard")
            unsaved = session.in_transaction() or session.new or session.dirty
            if unsaved or (guard is not None and not guard.marked):
                await session.commit()
        return await make_request(bot, method)


# Response[result type] of every method called so far: held for the life of the process.
_RESPONSE_TYPES: dict[Any, type] = {}


class KeepResponseTypes(BaseRequestMiddleware):
    """Build each kind of Bot API answer's model once per process, not again and again.

    aiogram reads every answer as `Response[the method's result type]`, a pydantic generic
    class made on first use and cached by pydantic only weakly. Such a class sits in reference
    cycles, so every run of the garbage collector frees it and the next call builds it anew:
    10 to 25 ms of CPU each time, about a tenth of the bot's CPU under load. Holding the
    classes here keeps pydantic's cache warm.
    """

    async def __call__(self, make_request: NextRequestMiddlewareType, bot, method: TelegramMethod):
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]
        return await make_request(bot, method)
