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


async def test_the_running_bots_console_uploads_a_file_once_and_the_units_get_it(
    sandbox: RunningSandbox,  # noqa: F811
    sqlite_url: str,
):
    """`taizhang run` with WEB__PORT: the console's compose form uploads the file through the
    bot into the admin's chat, and the sender gives each recipient that file id."""
    import socket

    import aiohttp

    from storage.services import staff_web
    from tests.web.conftest import SECRET

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    bot = BotUnderTest(
        sandbox,
        sqlite_url,
        staff_ids=[STAFF_ID],
        extra_settings={"web": {"port": port, "secret": SECRET, "base_url": base}},
    )
    await bot.prepare()
    await bot.start()
    pdf = b"%PDF-1.4\n" + "填报说明".encode() * 300 + b"\n%%EOF\n"
    try:
        office = await sandbox.client.create_user(
            "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
        )
        zhou = await bot.contact("周琪", "医保局")
        async with bot.sessions() as session:
            made = await staff_web.create_login_link(session, STAFF_ID, now=bot.clock())
            await session.commit()
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        async with aiohttp.ClientSession(base, cookie_jar=jar) as browser:
            page = await (await browser.get(staff_web.login_path(made.token))).text()
            signed = await browser.post(
                "/office/login",
                data={"_csrf": csrf_of(page), "token": made.token},
                allow_redirects=False,
            )
            assert signed.status == 303
            compose = await (await browser.get("/office/broadcasts")).text()
            assert 'type="file"' in compose  # the running bot can upload
            form = aiohttp.FormData()
            for name, value in (("_csrf", csrf_of(compose)), ("audience", "all"),
                                ("text", "请按附件说明填报。")):  # fmt: skip
                form.add_field(name, value)
            form.add_field("file", pdf, filename="填报说明.pdf", content_type="application/pdf")
            draft = await browser.post("/office/broadcasts", data=form, allow_redirects=False)
            assert draft.status == 303, await draft.text()
            preview = await (await browser.get(draft.headers["Location"])).text()
            assert "填报说明.pdf" in preview
            confirmed = await browser.post(
                draft.headers["Location"] + "/confirm", data={"_csrf": csrf_of(preview)}
            )
            assert confirmed.status == 200

        held = await message_with(office, "填报说明.pdf", "网页控制台")  # uploaded once, here
        got = await message_with(zhou, "请按附件说明填报。", timeout=15)
        assert got["document"]["file_name"] == "填报说明.pdf"
        assert got["document"]["file_id"] == held["document"]["file_id"]
        assert await zhou.download(got) == pdf
        calls = [c["params"] for c in await sandbox.client.calls("sendDocument")]
        files = [v for c in calls for v in c.values() if str(v).startswith("<file ")]
        assert files == [f"<file '填报说明.pdf', {len(pdf)} bytes>"]  # the file went once,
        assert [c["chat_id"] for c in calls] == [str(STAFF_ID), str(zhou.id)]  # to the admin
        assert calls[1]["document"] == got["document"]["file_id"]  # then only its id
    finally:
        await bot.close()
