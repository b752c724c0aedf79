"""/invite's 🌐 网页链接 through the Bot API stand-in: an admin gets a personal web link with
its QR code, and the link opens the unit's web form; without WEB__BASE_URL the button says so."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.e2e.conftest import STAFF_ID
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import message_with, press
from tests.e2e.test_staff_invite import open_unit
from tests.sandbox_fixtures import RunningSandbox, sandbox, sandbox_factory  # noqa: F401
from tests.test_cli_invite import assert_qr_of
from tests.web.conftest import Clock, web_config

WEB_LINK = re.compile(r"https://tz\.example\.gov\.cn/l/([A-Za-z0-9_-]{43,})")


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


async def test_an_admin_makes_a_web_link_that_opens_the_form(taizhang, tmp_path):
    from web.app import build_web_app

    office = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    await open_unit(office, "部门", "兴庆区民政局")
    await press(office, "🌐 网页链接")
    view = await office.wait_until(
        lambda v: any(m.get("photo") for m in v.bot_messages), timeout=10
    )
    photo = next(m for m in view.bot_messages if m.get("photo"))
    found = WEB_LINK.search(photo["caption"])
    assert found and "无需 Telegram" in photo["caption"], photo["caption"]
    png = tmp_path / "web.png"
    png.write_bytes(await office.download(photo))
    assert_qr_of(png, found[0])
    await message_with(office, "🏢 兴庆区民政局", "🟢 有效", "已用 0 / 3 次")

    server = TestServer(build_web_app(web_config(taizhang.sessions, Clock(taizhang.clock()))))
    async with TestClient(server) as browser:
        opened = await browser.get(f"/l/{found[1]}")
        assert opened.status == 200 and "兴庆区民政局" in await opened.text()
