"""handlers.routes: the handlers' plain filters are checked in the event loop, not in threads."""

from __future__ import annotations

import datetime as dt
import threading

from aiogram import Bot, Dispatcher, F
from aiogram.types import Chat, Message, Update, User

from handlers.routes import Routes


def _text_update(text: str) -> Update:
    user = User(id=5, is_bot=False, first_name="A")
    message = Message(
        message_id=1,
        date=dt.datetime(2026, 3, 9, tzinfo=dt.UTC),
        chat=Chat(id=5, type="private"),
        from_user=user,
        text=text,
    )
    return Update(update_id=1, message=message)


async def test_plain_filters_run_in_the_event_loops_thread() -> None:
    checked_in: list[int] = []
    handled: list[str] = []
    routes = Routes("test")

    def plain_check(message: Message) -> bool:
        checked_in.append(threading.get_ident())
        return message.text != "skip"

    @routes.message(plain_check, F.text.startswith("h"), F.text.as_("said"))
    async def hello(message: Message, said: str) -> None:
        handled.append(said)

    dispatcher = Dispatcher()
    dispatcher.include_router(routes.build())
    bot = Bot("42:TEST")
    try:
        await dispatcher.feed_update(bot, _text_update("hello"))
        await dispatcher.feed_update(bot, _text_update("skip"))
        await dispatcher.feed_update(bot, _text_update("other"))
    finally:
        await bot.session.close()

    assert handled == ["hello"]  # results and the values filters hand on are unchanged
    assert checked_in == [threading.get_ident()] * 3
