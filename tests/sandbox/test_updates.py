"""getUpdates: offsets, limits, long polling, conflicts, allowed_updates and update shapes."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import Update

from sandbox.client import SimulatedUser
from tests.sandbox.conftest import BotApi


async def _ids(bot_api: BotApi, **params: Any) -> list[int]:
    return [update["update_id"] for update in await bot_api.ok("getUpdates", **params)]


async def test_offset_confirms_earlier_updates_and_limit_caps_the_batch(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.send("two")
    await alice.send("three")  # with /start from the fixture: updates 1, 2, 3
    assert await _ids(bot_api) == [1, 2, 3]
    assert await _ids(bot_api, limit=1) == [1]
    assert await _ids(bot_api, offset=2) == [2, 3]
    assert await _ids(bot_api) == [2, 3]  # update 1 is forgotten for good
    assert await _ids(bot_api, offset=-1) == [3]
    assert await _ids(bot_api) == [3]
    assert await _ids(bot_api, offset=4) == []


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("getUpdates", offset=2)  # confirm /start
    poll = asyncio.create_task(bot_api.ok("getUpdates", offset=2, timeout=30))
    await asyncio.sleep(0.05)
    (bot,) = await sandbox.client.bots()
    assert bot["polling"] is True and bot["get_updates_started"] == 2
    await alice.send("wake up")
    # far below the poll's own 30 s: only a woken poll can finish in time
    updates = await asyncio.wait_for(poll, 10)
    assert [u["message"]["text"] for u in updates] == ["wake up"]
    assert (await sandbox.client.bots())[0]["polling"] is False


async def test_wait_until_polling_sees_the_bot_begin_get_updates(
    sandbox: Any, bot_api: BotApi
) -> None:
    waiting = asyncio.create_task(sandbox.client.wait_until_polling())
    await bot_api.ok("getUpdates")
    info = await asyncio.wait_for(waiting, 10)
    assert info["get_updates_started"] == 1


async def test_a_long_poll_with_nothing_to_deliver_returns_empty(bot_api: BotApi) -> None:
    assert await bot_api.ok("getUpdates", timeout=1) == []


async def test_a_second_poller_terminates_the_first_with_409(bot_api: BotApi) -> None:
    first = asyncio.create_task(bot_api.call("getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    assert await bot_api.ok("getUpdates") == []
    status, body = await asyncio.wait_for(first, 10)
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    )


async def test_allowed_updates_filters_what_is_queued_next(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("getUpdates", offset=2, allowed_updates=["callback_query"])
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    await bot_api.ok("sendMessage", chat_id=alice.id, text="pick", reply_markup=markup)
    await alice.send("ignored by the bot")
    await alice.press("Go", wait_answer=False)
    updates = await bot_api.ok("getUpdates")
    assert [next(k for k in u if k != "update_id") for u in updates] == ["callback_query"]
    assert (await alice.read_chat()).texts()[-1] == "ignored by the bot"  # the user still sees it


async def test_updates_have_telegram_shapes_that_aiogram_accepts(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    await bot_api.ok("sendMessage", chat_id=alice.id, text="pick", reply_markup=markup)
    await alice.start("invite-42")
    await alice.press("Go", wait_answer=False)
    await alice.block()
    updates = await bot_api.ok("getUpdates")
    start, press, blocked = (Update.model_validate(u) for u in updates[-3:])
    assert start.message is not None and start.message.text == "/start invite-42"
    assert start.message.entities is not None
    assert (start.message.entities[0].type, start.message.entities[0].length) == ("bot_command", 6)
    assert start.message.chat.type == "private" and start.message.from_user.id == alice.id
    assert start.message.from_user.language_code == "en"
    assert press.callback_query is not None and press.callback_query.data == "go"
    assert press.callback_query.message.text == "pick"
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"


async def test_getupdates_is_refused_while_a_webhook_is_set(bot_api: BotApi) -> None:
    await bot_api.ok("setWebhook", url="http://127.0.0.1:9/hook")
    status, body = await bot_api.call("getUpdates")
    assert (status, body["description"]) == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    )
