"""Stickers, locations and forged button presses reach the bot as Telegram would send them."""

from __future__ import annotations


async def test_sticker_and_location_arrive_as_messages(sandbox, bot_api, alice):
    await bot_api.ok("getUpdates")  # alice's /start
    last = await bot_api.ok("getUpdates")
    offset = last[-1]["update_id"] + 1 if last else 0
    await alice.send_sticker()
    await alice.send_location(38.47, 106.27)
    updates = await bot_api.ok("getUpdates", offset=offset)
    messages = [u["message"] for u in updates]
    assert messages[-2]["sticker"]["type"] == "regular"
    assert messages[-1]["location"] == {"latitude": 38.47, "longitude": 106.27}


async def test_forged_press_carries_any_data_and_waits_for_the_answer(sandbox, bot_api, alice):
    sent = await bot_api.ok(
        "sendMessage",
        chat_id=alice.id,
        text="pick",
        reply_markup={"inline_keyboard": [[{"text": "ok", "callback_data": "real"}]]},
    )
    import asyncio

    async def answer_it() -> None:
        for _ in range(50):
            updates = await bot_api.ok("getUpdates", timeout=1)
            queries = [u["callback_query"] for u in updates if "callback_query" in u]
            if queries:
                assert queries[-1]["data"] == "forged:123"
                assert queries[-1]["message"]["message_id"] == sent["message_id"]
                await bot_api.ok(
                    "answerCallbackQuery", callback_query_id=queries[-1]["id"], text="refused"
                )
                return
        raise AssertionError("no callback query arrived")

    answering = asyncio.create_task(answer_it())
    pressed = await alice.forge_press("forged:123")
    await answering
    assert pressed.text == "refused"
