"""Independence: an ordinary aiogram bot runs against the stand-in, unchanged.

The bot below knows nothing of the sandbox; only its session points at the stand-in
(`AiohttpSession(api=TelegramAPIServer.from_base(url))`), as it would at a local Bot API server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.sandbox_fixtures import RunningSandbox, aiogram_bot, polling


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def start_with_payload(message: Message, command: CommandObject) -> None:
        await message.answer(f"Welcome, invite <code>{command.args}</code>", parse_mode="HTML")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Again", callback_data="again")]]
        )
        await message.answer(message.text or "", reply_markup=keyboard)

    @router.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        await query.answer("once more")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"{query.message.text} (again)")

    @router.message(F.document)
    async def echo_document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document)
        assert data is not None
        upper = BufferedInputFile(data.read().upper(), filename="ECHO.TXT")
        await message.answer_document(upper, caption="your file, louder")

    return router


@pytest.fixture
async def echo_bot(sandbox: RunningSandbox) -> AsyncIterator[Bot]:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    bot = aiogram_bot(sandbox)
    async with polling(dispatcher, bot):
        yield bot


async def test_the_echo_bot_answers_text_commands_and_buttons(
    sandbox: RunningSandbox, echo_bot: Bot
) -> None:
    alice = await sandbox.client.create_user("Alice", language_code="zh-hans")
    await alice.start("abc-123")
    welcome = await alice.wait_for_reply()
    assert welcome["text"] == "Welcome, invite abc-123"
    assert welcome["entities"] == [{"offset": 16, "length": 7, "type": "code"}]
    await alice.send("你好, sandbox")
    echoed = await alice.wait_for_reply()
    assert echoed["text"] == "你好, sandbox"
    pressed = await alice.press("Again")
    assert pressed.text == "once more"
    view = await alice.wait_until(lambda v: v.last_bot_message["text"].endswith("(again)"))
    assert "reply_markup" not in view.last_bot_message


async def test_the_echo_bot_round_trips_a_file(sandbox: RunningSandbox, echo_bot: Bot) -> None:
    alice = await sandbox.client.create_user("Alice")
    await alice.send_document(b"quiet words", "words.txt")
    reply = await alice.wait_for_reply()
    assert (reply["document"]["file_name"], reply["caption"]) == ("ECHO.TXT", "your file, louder")
    assert await alice.download(reply) == b"QUIET WORDS"


async def test_an_aiogram_webhook_bot_gets_pushed_updates(sandbox: RunningSandbox) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    bot = aiogram_bot(sandbox)
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token="hook_secret").register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: Any = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="hook_secret")
        alice = await sandbox.client.create_user("Alice")
        await alice.send("through the webhook")
        assert (await alice.wait_for_reply())["text"] == "through the webhook"
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_message is None
    finally:
        await runner.cleanup()
        await bot.session.close()
