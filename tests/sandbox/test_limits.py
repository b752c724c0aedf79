"""Telegram's limits: lengths, keyboards, edits, flood control (429) and blocked users (403)."""

from __future__ import annotations

from typing import Any

from sandbox.client import SimulatedUser
from tests.sandbox.conftest import BotApi
from tests.sandbox_fixtures import ManualClock, SandboxFactory

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


async def test_text_may_be_4096_characters_after_parsing_but_not_more(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("sendMessage", chat_id=alice.id, text="字" * 4096)
    tagged = "<b>" + "x" * 4096 + "</b>"  # markup does not count
    await bot_api.ok("sendMessage", chat_id=alice.id, text=tagged, parse_mode="HTML")
    status, description = await bot_api.error("sendMessage", chat_id=alice.id, text="x" * 4097)
    assert (status, description) == (400, "Bad Request: message is too long")


async def test_captions_may_be_1024_characters(bot_api: BotApi, alice: SimulatedUser) -> None:
    document = {"document": ("a.txt", b"data")}
    status, _ = await bot_api.call(
        "sendDocument", encoding="multipart", files=document, chat_id=alice.id, caption="c" * 1024
    )
    assert status == 200
    status, body = await bot_api.call(
        "sendDocument", encoding="multipart", files=document, chat_id=alice.id, caption="c" * 1025
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")


async def test_callback_data_is_limited_to_64_bytes_not_characters(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    fits = keyboard({"text": "ok", "callback_data": "台" * 21})  # 63 bytes
    await bot_api.ok("sendMessage", chat_id=alice.id, text="k", reply_markup=fits)
    too_long = keyboard({"text": "no", "callback_data": "台" * 22})  # 66 bytes
    status, description = await bot_api.error(
        "sendMessage", chat_id=alice.id, text="k", reply_markup=too_long
    )
    assert (status, description) == (400, "Bad Request: BUTTON_DATA_INVALID")
    empty = keyboard({"text": "no", "callback_data": ""})
    assert (await bot_api.error("sendMessage", chat_id=alice.id, text="k", reply_markup=empty))[
        1
    ] == "Bad Request: BUTTON_DATA_INVALID"


async def test_an_inline_keyboard_holds_at_most_100_buttons(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    rows = [[{"text": str(i), "callback_data": str(i)}] for i in range(101)]
    status, description = await bot_api.error(
        "sendMessage", chat_id=alice.id, text="k", reply_markup={"inline_keyboard": rows}
    )
    assert (status, description) == (400, "Bad Request: reply markup is too long")


async def test_editing_nothing_new_is_not_modified(bot_api: BotApi, alice: SimulatedUser) -> None:
    markup = keyboard({"text": "Go", "callback_data": "go"})
    sent = await bot_api.ok("sendMessage", chat_id=alice.id, text="hi", reply_markup=markup)
    same = {"chat_id": alice.id, "message_id": sent["message_id"], "reply_markup": markup}
    assert await bot_api.error("editMessageText", text="hi", **same) == (400, NOT_MODIFIED)
    assert await bot_api.error("editMessageReplyMarkup", **same) == (400, NOT_MODIFIED)
    edited = await bot_api.ok(
        "editMessageText", text="hi", chat_id=alice.id, message_id=sent["message_id"]
    )
    assert "reply_markup" not in edited  # an edit without reply_markup drops the keyboard
    assert "edit_date" in edited


async def test_only_existing_messages_of_the_same_chat_can_be_edited(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    bob = await sandbox.client.create_user("Bob")
    await bob.start()
    sent = await bot_api.ok("sendMessage", chat_id=alice.id, text="for alice")
    not_found = (400, "Bad Request: message to edit not found")
    assert (
        await bot_api.error("editMessageText", chat_id=alice.id, message_id=999, text="x")
        == not_found
    )
    # message ids count per chat: Bob's chat has only his /start, so id 2 is Alice's message
    elsewhere = {"chat_id": bob.id, "message_id": sent["message_id"], "text": "x"}
    assert await bot_api.error("editMessageText", **elsewhere) == not_found
    users_message = (await alice.read_chat()).messages[0]
    assert await bot_api.error(
        "editMessageText", chat_id=alice.id, message_id=users_message["message_id"], text="x"
    ) == (400, "Bad Request: message can't be edited")


async def test_deleted_messages_vanish_and_cannot_be_deleted_twice(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    sent = await bot_api.ok("sendMessage", chat_id=alice.id, text="oops")
    assert await bot_api.ok("deleteMessage", chat_id=alice.id, message_id=sent["message_id"])
    assert "oops" not in (await alice.read_chat()).texts()
    assert await bot_api.error(
        "deleteMessage", chat_id=alice.id, message_id=sent["message_id"]
    ) == (
        400,
        "Bad Request: message to delete not found",
    )


async def test_private_chats_allow_a_short_burst_then_429_with_retry_after(
    sandbox_factory: SandboxFactory,
) -> None:
    clock = ManualClock()
    running = await sandbox_factory(rate_limits=True, clock=clock)
    alice = await running.client.create_user("Alice")
    await alice.start()
    api = running.server  # straight to the server: no HTTP needed for the bucket maths
    answers = [await _send(api, running.token, alice.id) for _ in range(4)]
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert answers[3][1] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    clock.advance(1.0)
    assert (await _send(api, running.token, alice.id))[0] == 200


async def test_groups_get_20_messages_a_minute(sandbox_factory: SandboxFactory) -> None:
    clock = ManualClock()
    running = await sandbox_factory(rate_limits=True, clock=clock)
    alice = await running.client.create_user("Alice")
    group = await running.client.create_group("Office", [alice])
    statuses = [(await _send(running.server, running.token, group["id"]))[0] for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    _status, body = await _send(running.server, running.token, group["id"])
    assert body["parameters"]["retry_after"] == 3  # one message every 3 s refills
    clock.advance(3)
    assert (await _send(running.server, running.token, group["id"]))[0] == 200


async def test_all_chats_together_get_about_30_messages_a_second(
    sandbox_factory: SandboxFactory,
) -> None:
    running = await sandbox_factory(rate_limits=True, clock=ManualClock())
    users = [await running.client.create_user(f"U{i}", started=True) for i in range(31)]
    statuses = [(await _send(running.server, running.token, u.id))[0] for u in users]
    assert statuses == [200] * 30 + [429]


async def test_rate_limits_are_off_by_default_and_switchable(
    sandbox_factory: SandboxFactory,
) -> None:
    running = await sandbox_factory(clock=ManualClock())
    alice = await running.client.create_user("Alice", started=True)
    statuses = [(await _send(running.server, running.token, alice.id))[0] for _ in range(10)]
    assert set(statuses) == {200}
    await running.client.set_rate_limits(True, private_burst=1)
    statuses = [(await _send(running.server, running.token, alice.id))[0] for _ in range(2)]
    assert statuses == [200, 429]


async def test_a_user_who_blocked_the_bot_gives_403(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.block()
    assert await bot_api.error("sendMessage", chat_id=alice.id, text="hello?") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    await alice.unblock()
    await bot_api.ok("sendMessage", chat_id=alice.id, text="welcome back")


async def test_blocking_tells_the_bot_with_my_chat_member(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    await alice.block()
    updates = await bot_api.ok("getUpdates")
    change = updates[-1]["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "member",
        "kicked",
    )
    assert change["from"]["id"] == alice.id


async def test_a_bot_cannot_write_first_to_a_user_who_never_started_it(
    sandbox: Any, bot_api: BotApi
) -> None:
    stranger = await sandbox.client.create_user("Stranger")
    assert await bot_api.error("sendMessage", chat_id=stranger.id, text="hi") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    known = await sandbox.client.create_user("Known", started=True)
    await bot_api.ok("sendMessage", chat_id=known.id, text="hi")


async def test_files_above_50_mb_are_refused_on_upload(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    big = {"document": ("big.bin", b"\0" * (50 * 1024 * 1024 + 1))}
    status, body = await bot_api.call(
        "sendDocument", encoding="multipart", files=big, chat_id=alice.id, http_timeout=60
    )
    assert (status, body) == (
        413,
        {"ok": False, "error_code": 413, "description": "Request Entity Too Large"},
    )


async def _send(server: Any, token: str, chat_id: int) -> tuple[int, dict[str, Any]]:
    bot = server.world.bot_for_token(token)
    return await server.execute(bot, "sendMessage", {"chat_id": str(chat_id), "text": "x"}, {})
