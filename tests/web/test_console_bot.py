"""/console through the Bot API stand-in: a staff member gets a one-time sign-in link in their
private chat (no link preview, a button to open it), and the link signs them into the web
console; someone who is not staff is refused."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.e2e.conftest import STAFF_ID
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import message_with
from tests.sandbox_fixtures import RunningSandbox, sandbox, sandbox_factory  # noqa: F401
from tests.web.conftest import Clock, csrf_of, web_config

LOGIN = re.compile(r"https://tz\.example\.gov\.cn/office/login/([A-Za-z0-9_-]{43})")


@pytest.fixture
async def taizhang(sandbox: RunningSandbox, sqlite_url: str):  # noqa: F811
    bot = BotUnderTest(
        sandbox,
        sqlite_url,
        staff_ids=[STAFF_ID],
        extra_settings={"web": {"base_url": "https://tz.example.gov.cn"}},
    )
    await bot.prepare()
    await bot.start()
    try:
        yield bot
    finally:
        await bot.close()


async def test_console_sends_a_link_that_signs_the_staff_member_in(taizhang):
    from web.app import build_web_app

    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    await office.send("/console")
    reply = await message_with(office, "办公室网页控制台", "10 分钟")
    found = LOGIN.search(reply["text"])
    assert found, reply["text"]
    button = reply["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == found[0] and "网页控制台" in button["text"]
    sent = (await taizhang.sandbox.client.calls("sendMessage"))[-1]
    preview = sent["params"]["link_preview_options"]  # as posted: JSON in a form field
    assert json.loads(preview) == {"is_disabled": True}

    stranger = await taizhang.sandbox.client.create_user("路人", language_code="zh-hans")
    await stranger.send("/console")
    await message_with(stranger, "仅限办公室工作人员")

    server = TestServer(build_web_app(web_config(taizhang.sessions, Clock(taizhang.clock()))))
    async with TestClient(server) as browser:
        page = await browser.get(f"/office/login/{found[1]}")
        signed = await browser.post(
            "/office/login",
            data={"_csrf": csrf_of(await page.text()), "token": found[1]},
            allow_redirects=False,
        )
        assert signed.status == 303
        home = await browser.get("/office/")
        assert home.status == 200 and "办公室控制台" in await home.text()
