"""Injected faults: server errors, hangs, slow answers, floods, lost and repeated updates."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sandbox.client import SandboxError, SimulatedUser
from tests.sandbox.conftest import BotApi


async def test_the_next_calls_of_a_method_fail_with_500(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await sandbox.client.inject_fault("error", count=2, method="sendMessage")
    answers = [await bot_api.call("sendMessage", chat_id=alice.id, text="x") for _ in range(3)]
    assert [status for status, _ in answers] == [500, 500, 200]
    assert answers[0][1] == {
        "ok": False,
        "error_code": 500,
        "description": "Internal Server Error",
    }
    assert await sandbox.client.faults() == []


async def test_a_fault_without_a_method_hits_any_call(sandbox: Any, bot_api: BotApi) -> None:
    await sandbox.client.inject_fault("error", status=502)
    assert await bot_api.error("getMe") == (502, "Bad Gateway")
    await bot_api.ok("getMe")


async def test_other_methods_are_not_affected(sandbox: Any, bot_api: BotApi) -> None:
    await sandbox.client.inject_fault("error", method="sendMessage")
    await bot_api.ok("getMe")
    assert len(await sandbox.client.faults()) == 1


async def test_a_timeout_hangs_past_the_client_but_may_still_send(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await sandbox.client.inject_fault("timeout", method="sendMessage", execute=True, delay=30)
    with pytest.raises(asyncio.TimeoutError):
        await bot_api.call("sendMessage", chat_id=alice.id, text="did it go?", http_timeout=0.3)
    # the classic ambiguity: the client saw a timeout, the user got the message
    assert (await alice.read_chat()).texts()[-1] == "did it go?"


async def test_a_timeout_without_execute_sends_nothing(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await sandbox.client.inject_fault("timeout", method="sendMessage", delay=30)
    with pytest.raises(asyncio.TimeoutError):
        await bot_api.call("sendMessage", chat_id=alice.id, text="lost", http_timeout=0.3)
    assert "lost" not in (await alice.read_chat()).texts()


async def test_a_slow_answer_arrives_late_but_fine(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await sandbox.client.inject_fault("slow", method="sendMessage", delay=0.3)
    started = time.monotonic()
    await bot_api.ok("sendMessage", chat_id=alice.id, text="slowly")
    assert time.monotonic() - started >= 0.3


async def test_a_flood_fault_answers_429(sandbox: Any, bot_api: BotApi) -> None:
    await sandbox.client.inject_fault("flood", retry_after=7)
    status, body = await bot_api.call("getMe")
    assert (status, body["parameters"]) == (429, {"retry_after": 7})
    assert body["description"] == "Too Many Requests: retry after 7"


async def test_dropped_updates_never_reach_the_bot(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("getUpdates", offset=2)
    await sandbox.client.inject_fault("drop_updates")
    await alice.send("lost on the way")
    await alice.send("arrives")
    updates = await bot_api.ok("getUpdates")
    assert [u["message"]["text"] for u in updates] == ["arrives"]
    assert (await alice.read_chat()).texts()[-2:] == ["lost on the way", "arrives"]


async def test_duplicated_updates_arrive_twice_with_the_same_id(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.ok("getUpdates", offset=2)
    await sandbox.client.inject_fault("duplicate_updates")
    await alice.send("twice")
    first = await bot_api.ok("getUpdates")
    again = await bot_api.ok("getUpdates", offset=first[-1]["update_id"] + 1)
    assert again == first
    assert await bot_api.ok("getUpdates", offset=first[-1]["update_id"] + 1) == []


async def test_faults_can_be_listed_and_cleared(sandbox: Any) -> None:
    await sandbox.client.inject_fault("error", count=3, method="getMe")
    (fault,) = await sandbox.client.faults()
    assert (fault["kind"], fault["count"], fault["method"]) == ("error", 3, "getme")
    await sandbox.client.clear_faults()
    assert await sandbox.client.faults() == []


async def test_an_unknown_fault_kind_is_refused(sandbox: Any) -> None:
    with pytest.raises(SandboxError) as refused:
        await sandbox.client.inject_fault("meteor")
    assert refused.value.status == 400


async def test_reset_forgets_users_chats_and_faults(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await sandbox.client.inject_fault("error", method="getMe")
    await sandbox.client.reset()
    assert await sandbox.client.faults() == []
    assert await sandbox.client.users() == []
    assert await bot_api.ok("getUpdates") == []
    assert (await bot_api.ok("getMe"))["id"] == int(sandbox.token.split(":")[0])


async def test_the_call_log_records_what_the_bot_asked(
    sandbox: Any, bot_api: BotApi, alice: SimulatedUser
) -> None:
    await bot_api.call("sendMessage", chat_id=alice.id, text="logged")
    (call,) = await sandbox.client.calls("sendMessage")
    assert (call["params"]["text"], call["status"], call["ok"]) == ("logged", 200, True)
