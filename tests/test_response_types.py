"""The bot builds each kind of Bot API answer's model once, not after every garbage collection.

aiogram reads an answer as Response[result type]; pydantic caches that generic class only
weakly, the garbage collector freed it, and the next call built it again (10-25 ms of CPU,
about a tenth of the bot's CPU under the updates benchmark).
"""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import EditMessageText
from aiogram.methods.base import Response

from bot.app import build_bot
from bot.settings import load_settings


async def test_an_answers_model_outlives_the_garbage_collector():
    settings = load_settings(
        bot_token="123456:" + "A" * 35, telegram_api_base="http://127.0.0.1:9"
    )
    bot = build_bot(settings)
    answered = []

    async def make_request(bot, method, timeout=None):  # the Bot API, as far as this goes
        answered.append(method)
        return True

    bot.session.make_request = make_request
    try:
        await bot.edit_message_text("saved", chat_id=1, message_id=2)
    finally:
        await bot.session.close()
    assert len(answered) == 1
    model = weakref.ref(Response[EditMessageText.__returning__])
    gc.collect()
    assert model() is not None
    assert Response[EditMessageText.__returning__] is model()
