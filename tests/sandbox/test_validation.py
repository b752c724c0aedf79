"""Requests are checked against the bundled Bot API spec and answered in Telegram's words."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.client import SimulatedUser
from tests.sandbox.conftest import BotApi

CHAT = "<chat>"  # replaced by the started user's chat id
BUTTON = {"text": "Go", "callback_data": "go"}

GOOD = [
    ("getMe", {}),
    ("sendMessage", {"chat_id": CHAT, "text": "hello"}),
    ("sendMessage", {"chat_id": CHAT, "text": "unknown params are ignored", "foo": "bar"}),
    ("sendMessage", {"chat_id": CHAT, "text": "<b>bold</b>", "parse_mode": "HTML"}),
    ("sendMessage", {"chat_id": CHAT, "text": "*bold*", "parse_mode": "MarkdownV2"}),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "k", "reply_markup": {"inline_keyboard": [[BUTTON]]}},
    ),
    ("sendMessage", {"chat_id": CHAT, "text": "k", "reply_markup": {"keyboard": [["Yes", "No"]]}}),
    ("sendMessage", {"chat_id": CHAT, "text": "x", "reply_markup": {"remove_keyboard": True}}),
    ("sendMessage", {"chat_id": CHAT, "text": "x", "disable_notification": True}),
    ("sendChatAction", {"chat_id": CHAT, "action": "typing"}),
    ("setMyCommands", {"commands": [{"command": "start", "description": "Start"}]}),
    ("getMyCommands", {"scope": {"type": "all_private_chats"}, "language_code": "zh"}),
    ("setChatMenuButton", {"menu_button": {"type": "commands"}}),
    ("getWebhookInfo", {}),
    ("getme", {}),  # method names are case-insensitive
]

BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("sendMessage", {"text": "x"}, 400, "Bad Request: chat_id is empty"),
    ("sendMessage", {"chat_id": CHAT}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": CHAT, "text": ""}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": CHAT, "text": "  \n "}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": 42, "text": "x"}, 400, "Bad Request: chat not found"),
    ("sendMessage", {"chat_id": "@nobody", "text": "x"}, 400, "Bad Request: chat not found"),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "disable_notification": "maybe"},
        400,
        'Bad Request: parameter "disable_notification" must be of type Boolean',
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": "not json"},
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "x"}]]}},
        400,
        "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": 1}]]}},
        400,
        'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String',
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
        400,
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_markup": {"inline_keyboard": {"a": 1}}},
        400,
        'Bad Request: can\'t parse inline keyboard markup: Field "inline_keyboard" must be of '
        "type Array",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_parameters": {"quote": "q"}},
        400,
        "Bad Request: can't parse reply parameters: Can't find field \"message_id\"",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "reply_parameters": {"message_id": 999}},
        400,
        "Bad Request: message to be replied not found",
    ),
    (
        "sendMessage",
        {"chat_id": CHAT, "text": "x", "parse_mode": "BBCode"},
        400,
        "Bad Request: unsupported parse_mode",
    ),
    (
        "editMessageText",
        {"chat_id": CHAT, "text": "x"},
        400,
        "Bad Request: message identifier is not specified",
    ),
    (
        "getUpdates",
        {"limit": "many"},
        400,
        'Bad Request: parameter "limit" must be of type Integer',
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "a", "description": "b"}], "scope": {"type": "bogus"}},
        400,
        "Bad Request: can't parse bot command scope: unsupported type specified",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "a", "description": "b"}], "scope": {"type": "chat"}},
        400,
        "Bad Request: can't parse bot command scope: Can't find field \"chat_id\"",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "Start", "description": "b"}]},
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    ),
    (
        "setMyCommands",
        {"commands": [{"command": "start"}]},
        400,
        "Bad Request: can't parse bot command: Can't find field \"description\"",
    ),
    (
        "sendChatAction",
        {"chat_id": CHAT, "action": "dancing"},
        400,
        "Bad Request: wrong parameter action in request",
    ),
    ("sendDocument", {"chat_id": CHAT}, 400, "Bad Request: there is no document in the request"),
    (
        "sendDocument",
        {"chat_id": CHAT, "document": "no-such-file-id"},
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    ),
    (
        "answerCallbackQuery",
        {"callback_query_id": "12345"},
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
    ("getFile", {"file_id": "nope"}, 400, "Bad Request: invalid file_id"),
    ("sendTelepathy", {}, 404, "Not Found"),
    ("sendDice", {"chat_id": CHAT}, 404, "Not Found"),  # in the spec, not in the stand-in
]


def _fill(params: dict[str, Any], chat_id: int) -> dict[str, Any]:
    return {key: chat_id if value == CHAT else value for key, value in params.items()}


@pytest.mark.parametrize("encoding", ["json", "form", "multipart"])
@pytest.mark.parametrize(("method", "params"), GOOD)
async def test_good_requests_succeed_in_every_encoding(
    bot_api: BotApi, alice: SimulatedUser, encoding: str, method: str, params: dict[str, Any]
) -> None:
    status, body = await bot_api.call(method, encoding=encoding, **_fill(params, alice.id))
    assert (status, body["ok"]) == (200, True), body


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize(("method", "params", "status", "description"), BAD)
async def test_bad_requests_get_telegrams_answer(
    bot_api: BotApi,
    alice: SimulatedUser,
    encoding: str,
    method: str,
    params: dict[str, Any],
    status: int,
    description: str,
) -> None:
    answer = await bot_api.call(method, encoding=encoding, **_fill(params, alice.id))
    assert answer == (status, {"ok": False, "error_code": status, "description": description})


async def test_an_unknown_or_malformed_token_is_unauthorized(bot_api: BotApi) -> None:
    status, body = await bot_api.call("getMe", token="not-a-token")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_any_well_formed_token_is_its_own_bot(bot_api: BotApi) -> None:
    other = "987654321:" + "B" * 35
    status, body = await bot_api.call("getMe", token=other)
    assert status == 200
    assert body["result"]["id"] == 987654321
    assert body["result"]["is_bot"] is True
    assert (await bot_api.ok("getMe"))["id"] != 987654321


async def test_get_me_reports_the_configured_username(sandbox_factory: Any) -> None:
    running = await sandbox_factory(bot_username="taizhang_sandbox_bot")
    me = await running.client.register_bot(running.token)
    assert me["username"] == "taizhang_sandbox_bot"
    assert me["can_read_all_group_messages"] is False


async def test_a_body_that_is_not_json_is_a_bad_request(sandbox: Any) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{sandbox.api_url}/sendMessage",
            data=b"{broken",
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400
        assert (await response.json())["description"] == "Bad Request: can't parse JSON object"


async def test_get_requests_with_a_query_string_work(sandbox: Any) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{sandbox.api_url}/getUpdates?timeout=0&limit=5")
        assert (response.status, await response.json()) == (200, {"ok": True, "result": []})


async def test_every_answer_is_a_telegram_type_per_the_spec(
    bot_api: BotApi, alice: SimulatedUser
) -> None:
    """Results carry the fields the spec marks as required (aiogram would reject them else)."""
    from sandbox.spec import Spec

    spec = Spec.bundled()
    message = await bot_api.ok("sendMessage", chat_id=alice.id, text="hi")
    for field in spec.types["Message"]["fields"]:
        if field["required"]:
            assert field["name"] in message
    info = await bot_api.ok("getWebhookInfo")
    for field in spec.types["WebhookInfo"]["fields"]:
        if field["required"]:
            assert field["name"] in info
