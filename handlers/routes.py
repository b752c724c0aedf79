"""Handlers declared once at import, registered on a fresh Router each time a bot is built.

aiogram lets a Router belong to one parent only; building new routers per Dispatcher lets
one process build the bot more than once (a restart in the tests, the sandbox).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject


class Routes:
    def __init__(self, name: str):
        self.name = name
        self._entries: list[tuple[str, tuple[Any, ...], Callable[..., Any]]] = []

    def _on(self, observer: str, filters: tuple[Any, ...]) -> Callable:
        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self._entries.append((observer, filters, handler))
            return handler

        return register

    def message(self, *filters: Any) -> Callable:
        return self._on("message", filters)

    def callback_query(self, *filters: Any) -> Callable:
        return self._on("callback_query", filters)

    def my_chat_member(self, *filters: Any) -> Callable:
        return self._on("my_chat_member", filters)

    def build(self) -> Router:
        router = Router(name=self.name)
        for observer, filters, handler in self._entries:
            router.observers[observer].register(handler, *filters)
            _check_filters_inline(router.observers[observer].handlers[-1])
        return router


def _check_filters_inline(handler: HandlerObject) -> None:
    """Run the handler's plain (not async) filters in the event loop, as the cheap checks they are.

    aiogram hands each plain callable, `F.text` and the like included, to a worker thread for
    every update it checks: with a few dozen handlers, about 6% of the bot's CPU under load
    (bench/updates.py), and a thread's round trip of delay per check.
    """
    for event_filter in handler.filters or ():
        if not event_filter.awaitable:
            event_filter.callback = _awaiting(event_filter.callback)
            event_filter.awaitable = True


def _awaiting(check: Callable[..., Any]) -> Callable[..., Any]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return inline
