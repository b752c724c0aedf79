"""The simulated phones: what users can do and what they see."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.client import SandboxError, SimulatedUser, button_texts
from tests.sandbox.conftest import BotApi

CONTACT_KEYBOARD = {
    "keyboard": [[{"text": "Share my phone", "request_contact": True}], [{"text": "Skip"}]],
    "one_time_keyboard": True,
    "resize_keyboard": True,
}


async def test_the_chat_shows_edits_and_hides_deleted_messages(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    first = await bot_api.ok("sendMessage", chat_id=alice.id, text="draft")
    second = await bot_api.ok("sendMessage", chat_id=alice.id, text="to delete")
    await bot_api.ok(
        "editMessageText", chat_id=alice.id, message_id=first["message_id"], text="final"
    )
    await bot_api.ok("deleteMessage", chat_id=alice.id, message_id=second["message_id"])
    view = await alice.read_chat()
    assert view.texts() == ["/start", "final"]
    assert "edit_date" in view.messages[-1]


async def test_wait_for_reply_walks_through_the_bots_answers(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("sendMessage", chat_id=alice.id, text="one")
    await bot_api.ok("sendMessage", chat_id=alice.id, text="two")
    assert (await alice.wait_for_reply())["text"] == "one"
    assert (await alice.wait_for_reply())["text"] == "two"
    with pytest.raises(TimeoutError):
        await alice.wait_for_reply(timeout=0.2)


async def test_pressing_a_button_records_the_bots_answer(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    markup = {"inline_keyboard": [[{"text": "完成", "callback_data": "done:1"}]]}
    sent = await bot_api.ok("sendMessage", chat_id=alice.id, text="task 1", reply_markup=markup)
    assert button_texts(sent) == ["完成"]
    pressed = await alice.press("完成", wait_answer=False)
    assert (pressed.data, pressed.message_id, pressed.answered) == (
        "done:1",
        sent["message_id"],
        False,
    )
    await bot_api.ok(
        "answerCallbackQuery",
        callback_query_id=pressed.callback_query_id,
        text="Saved",
        show_alert=True,
    )
    query = await sandbox.client.callback_query(pressed.callback_query_id)
    assert query["answer"]["text"] == "Saved" and query["answer"]["show_alert"] is True
    assert await bot_api.error(
        "answerCallbackQuery", callback_query_id=pressed.callback_query_id
    ) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    by_data = await alice.press(data="done:1", wait_answer=False)
    assert by_data.message_id == sent["message_id"]


async def test_pressing_a_missing_button_is_refused(alice: SimulatedUser) -> None:
    with pytest.raises(SandboxError) as refused:
        await alice.press("Nope")
    assert "no inline button" in refused.value.message


async def test_a_contact_button_shares_the_phone_and_a_one_time_keyboard_hides(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("sendMessage", chat_id=alice.id, text="phone?", reply_markup=CONTACT_KEYBOARD)
    view = await alice.read_chat()
    assert view.keyboard_buttons() == ["Share my phone", "Skip"]
    shared = await alice.tap("Share my phone")
    assert shared["contact"] == {
        "phone_number": "+8613800000001",
        "first_name": "Alice",
        "user_id": alice.id,
    }
    assert (await alice.read_chat()).reply_keyboard is None
    update = (await bot_api.ok("getUpdates"))[-1]["message"]
    assert update["contact"]["user_id"] == alice.id


async def test_a_plain_keyboard_button_sends_its_text(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok(
        "sendMessage", chat_id=alice.id, text="?", reply_markup={"keyboard": [["是", "否"]]}
    )
    await alice.tap("是")
    assert (await bot_api.ok("getUpdates"))[-1]["message"]["text"] == "是"
    assert (await alice.read_chat()).keyboard_buttons() == ["是", "否"]  # not one-time: stays
    await bot_api.ok(
        "sendMessage", chat_id=alice.id, text="ok", reply_markup={"remove_keyboard": True}
    )
    assert (await alice.read_chat()).reply_keyboard is None


async def test_a_reply_quotes_the_message_it_answers(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    question = await bot_api.ok(
        "sendMessage", chat_id=alice.id, text="Your name?", reply_markup={"force_reply": True}
    )
    assert (await alice.read_chat()).raw["force_reply"] == {"force_reply": True}
    await alice.send("Alice", reply_to_message_id=question["message_id"])
    message = (await bot_api.ok("getUpdates"))[-1]["message"]
    assert message["reply_to_message"]["text"] == "Your name?"


async def test_groups_follow_privacy_mode(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    bob = await sandbox.client.create_user("Bob")
    group = await sandbox.client.create_group("办公室", [alice, bob])
    in_group = bob.in_chat(group["id"])
    await bot_api.ok("getUpdates", offset=2)
    await in_group.send("chatter the bot must not see")
    await in_group.send("/report@sandbox_bot now")
    await in_group.send("😀😀 hey @sandbox_bot")  # offsets count UTF-16 units
    await in_group.send("/report@other_bot")
    texts = [u["message"]["text"] for u in await bot_api.ok("getUpdates")]
    assert texts == ["/report@sandbox_bot now", "😀😀 hey @sandbox_bot"]
    sent = await bot_api.ok("sendMessage", chat_id=group["id"], text="noted")
    assert sent["chat"] == {"id": group["id"], "title": "办公室", "type": "group"}
    assert (await alice.in_chat(group["id"]).read_chat()).texts()[-1] == "noted"


async def test_commands_follow_scope_and_language(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    wang = await sandbox.client.create_user("王", language_code="zh-hans")
    await wang.start()
    default = [{"command": "start", "description": "Start"}]
    chinese = [{"command": "start", "description": "开始"}]
    just_alice = [{"command": "admin", "description": "Staff tools"}]
    await bot_api.ok("setMyCommands", commands=default)
    await bot_api.ok("setMyCommands", commands=chinese, language_code="zh")
    await bot_api.ok(
        "setMyCommands", commands=just_alice, scope={"type": "chat", "chat_id": alice.id}
    )
    assert (await wang.read_chat()).commands == chinese
    assert (await alice.read_chat()).commands == just_alice
    assert await bot_api.ok("getMyCommands", language_code="zh") == chinese
    assert (
        await bot_api.ok("getMyCommands", scope={"type": "chat", "chat_id": alice.id})
        == just_alice
    )
    await bot_api.ok("deleteMyCommands", language_code="zh")
    assert (await wang.read_chat()).commands == default


async def test_menu_button_and_chat_action_show_in_the_chat(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    assert await bot_api.ok("getChatMenuButton") == {"type": "commands"}
    button = {"type": "web_app", "text": "Open", "web_app": {"url": "https://example.org"}}
    await bot_api.ok("setChatMenuButton", chat_id=alice.id, menu_button=button)
    assert await bot_api.ok("getChatMenuButton", chat_id=alice.id) == button
    await bot_api.ok("sendChatAction", chat_id=alice.id, action="upload_document")
    view = await alice.read_chat()
    assert (view.raw["menu_button"], view.chat_action) == (button, "upload_document")
    await bot_api.ok("sendMessage", chat_id=alice.id, text="here it is")
    assert (await alice.read_chat()).chat_action is None  # a message ends the action


async def test_users_can_be_created_and_updated_with_a_fixed_id(sandbox: Any) -> None:
    user = await sandbox.client.create_user("Li", user_id=555, language_code="zh-hans")
    again = await sandbox.client.create_user("Li Wei", user_id=555)
    assert (user.id, again.info["first_name"]) == (555, "Li Wei")
    assert [u["id"] for u in await sandbox.client.users()] == [555]


async def test_a_user_needs_the_group_to_act_in_it(sandbox: Any, alice: SimulatedUser) -> None:
    with pytest.raises(SandboxError) as refused:
        await alice.in_chat(-4_000_000_099).send("hi")
    assert refused.value.status == 404


async def test_start_payloads_follow_telegrams_deep_link_rules(alice: SimulatedUser) -> None:
    await alice.start("inv_3f9A-x")
    with pytest.raises(ValueError):
        await alice.start("has space")
    with pytest.raises(ValueError):
        await alice.start("x" * 65)
