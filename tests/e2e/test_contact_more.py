"""More of the contact's life: two units, and dialog state kept in Redis."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import skip_or_fail
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import message_with, press, press_containing, screen, text_of

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, emptied by the test


async def test_a_person_reporting_for_two_units_chooses_one(taizhang):
    li = await taizhang.contact("李明", "医保局")
    await li.start(await taizhang.invite("民政局"))
    assert "兴庆区民政局" in text_of(await li.wait_for_reply())
    await li.send("/report")
    await screen(li, "您要为哪个单位填报")
    await press(li, "兴庆区民政局")
    overview = await screen(li, "兴庆区民政局", "已填 0 /")
    assert "4. " in text_of(overview)  # 民政局 answers for task 4; 医保局 does not
    await press_containing(li, "4. ")
    await screen(li, "序号 4")


@pytest.fixture
async def taizhang_on_redis(sandbox, sqlite_url):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", 6379)) != 0:
            skip_or_fail("Redis is not running on 127.0.0.1:6379")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    await client.flushdb()
    bot = BotUnderTest(sandbox, sqlite_url, redis_url=REDIS_URL)
    await bot.prepare()
    await bot.start()
    try:
        yield bot, client
    finally:
        await bot.close()
        await client.flushdb()
        await client.aclose()


async def test_dialog_state_in_redis_survives_a_restart(taizhang_on_redis):
    taizhang, redis_client = taizhang_on_redis
    zhou = await taizhang.contact("周琪")
    await zhou.send("/report")
    await screen(zhou, "已填 0 /")
    await press_containing(zhou, "第一个未填")
    await screen(zhou, "序号 1")
    await press(zhou, "✍️ 填写进展")
    await message_with(zhou, "请发送进展落实情况")
    assert await redis_client.keys("fsm:*")  # the state lives in Redis, not in the database
    await taizhang.restart()
    await zhou.send("重启之后继续写。")
    assert "已保存" in text_of(await zhou.wait_for_reply())
    await press(zhou, "✅ 完成")
    await screen(zhou, "序号 1", "重启之后继续写。")


async def test_sharing_a_phone_number_is_optional_and_kept(taizhang):
    from sqlmodel import select

    from storage.models import Contact

    zhou = await taizhang.sandbox.client.create_user(
        "周琪", language_code="zh-hans", phone_number="+8613800000001"
    )
    await zhou.start(await taizhang.invite("医保局"))
    await zhou.wait_for_reply()
    await message_with(zhou, "分享您的手机号")
    assert "📱 分享我的手机号" in (await zhou.read_chat()).keyboard_buttons()
    await zhou.tap("📱 分享我的手机号")
    assert "手机号已保存" in text_of(await zhou.wait_for_reply())

    async def phone(session):
        return (await session.exec(select(Contact.phone))).one()

    assert await taizhang.query(phone) == "+8613800000001"


async def test_commands_are_registered_in_both_languages(taizhang):
    calls = await taizhang.sandbox.client.calls("setMyCommands")
    import json

    by_language = {
        c["params"].get("language_code"): json.loads(c["params"]["commands"]) for c in calls
    }
    assert set(by_language) >= {None, "zh", "en"}
    names = {c["command"] for c in by_language["en"]}
    assert names == {"start", "report", "cancel", "language", "help"}
    assert any("填报" in c["description"] for c in by_language["zh"])
    assert any("Report" in c["description"] for c in by_language["en"])
