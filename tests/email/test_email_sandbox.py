"""Done when, in the sandbox: a contact with no Telegram answers and submits a round from a
phone browser after an e-mail reminder, and a staff member follows it in the web console; the
same answers are in the exported ledger.

`taizhang sandbox` runs as a process on the test's clock (tests/e2e/instance.py), on a copy of
the sample database the end-to-end harness prepares, with no SMTP__HOST: its mailbox catches
the mail. The office has given 掌政镇's 孙丽 an e-mail address; the sandbox's reminder sweep
mails her on the round's before-1 morning; the mail is read on the mailbox's pages over HTTP,
then opened on a phone (Debian's Chromium, 390 px) and its link followed; two tasks answered,
submitted, the receipt shown. 张主任 signs in to the console (1280 px), sees 掌政镇's row
change, and downloads the ledger, which holds both answers.

Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1. With
SANDBOX_MAIL_SCREENSHOT=path it saves the mailbox page (docs/sandbox-mailbox.png), with two
more units' reminders in it.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import time

import aiohttp
import pytest

from sandbox.client import SandboxClient
from tests.cli_helpers import in_database_async
from tests.e2e import harness
from tests.e2e.instance import MONOTONIC_VARIABLE, NOW_VARIABLE, clock_from_env
from tests.e2e.sandbox_process import sandbox_process
from tests.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, require_chromium
from tests.web.browser_steps import (
    answer,
    docx_cells,
    download_ledger,
    sign_in_to_console,
    submit,
    watch,
)

pytestmark = pytest.mark.browser

UNIT, NAME, ADDRESS = "掌政镇", "孙丽", "sunli@zhangzheng.example.cn"
ADMIN_ID = 90001  # 张主任, the sandbox's staff member
FIRST = "已完成：镇政府网站发布政策解读 6 篇，回应群众关切 12 条。"
SECOND = "推进中：基层政务公开目录已梳理，待审核后发布。"
DESK = {"width": 1280, "height": 800}
MORE = (  # for the screenshot
    ("大新镇", "马强", "maqiang@daxin.example.cn"),
    ("通贵乡", "刘洋", "liuyang@tonggui.example.cn"),
)


async def test_a_contact_mailed_by_the_sandbox_reports_from_a_phone(tmp_path) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    shot = os.environ.get("SANDBOX_MAIL_SCREENSHOT")
    data_dir = tmp_path / "sandbox"
    data_dir.mkdir()
    url = f"sqlite+aiosqlite:///{(data_dir / 'sandbox.db').as_posix()}"
    today = harness.test_start_moment().astimezone(harness.SHANGHAI).date()
    round_id, _ = await harness.prepare_database(url, today)
    clock_env = {
        NOW_VARIABLE: f"{await _reminder_day(url, round_id)} 10:00",
        MONOTONIC_VARIABLE: repr(time.monotonic()),
    }
    clock = clock_from_env(clock_env)  # the sandbox's clock, read in this process
    people = [(UNIT, NAME, ADDRESS), *(MORE if shot else ())]
    unit_id = await _office_adds_email_contacts(url, people, clock())

    async with sandbox_process(data_dir, clock_env=clock_env) as running:
        assert f"Mailbox: {running.base_url}/mail" in running.output
        async with SandboxClient(running.base_url) as client:  # the sandbox's sweep mails her
            mail = await client.wait_for_mail(ADDRESS, timeout=30)
        assert UNIT in mail["subject"] and NAME in mail["text"]
        mail_page = await _read_the_mailbox(running.base_url, mail)
        # the personal link, a link in the plain text too
        [link] = re.findall(rf'href="({re.escape(running.web_url)}/l/[\w-]{{43}})"', mail_page)
        await running.wait_for_output("web form on")  # the bot has started all it serves

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            problems: list[str] = []
            desk = await (await browser.new_context(viewport=DESK, locale="zh-CN",
                                                   accept_downloads=True)).new_page()  # fmt: skip
            watch(desk, problems)
            await sign_in_to_console(desk, await _login_link(url, running.web_url, clock()))
            row = desk.locator(f"#u-{unit_id}")
            assert await row.get_attribute("data-state") == "not_started"

            phone_context = await browser.new_context(
                viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai"
            )
            phone = await phone_context.new_page()
            watch(phone, problems)
            if shot:
                await _screenshot_the_mailbox(phone, running.base_url, len(people), shot)
            await phone.goto(f"{running.base_url}/mail/{mail['id']}")
            button = phone.frame_locator("#html-part").get_by_role("link", name="打开填报页面")
            assert await button.get_attribute("href") == link  # the plain text's, clickable too
            await button.click()  # in the mail's HTML part, as a phone's mail app shows it
            await phone.locator("#tasks li").first.wait_for()
            assert phone.url.startswith(running.web_url) and "/l/" not in phone.url
            assert await phone.locator("h1").inner_text() == "掌政镇人民政府"
            await answer(phone, 0, "已完成", FIRST)
            await answer(phone, 1, "推进中", SECOND)
            await phone.locator("#answered", has_text="已填 2 /").wait_for()
            assert (await submit(phone)).startswith(f"TZ{round_id}-")

            await desk.reload()
            assert await row.get_attribute("data-state") == "on_time"
            ledger = docx_cells(await download_ledger(desk))
            await browser.close()
        assert problems == [], problems
        assert FIRST in ledger and SECOND in ledger


async def _screenshot_the_mailbox(page, base_url: str, mails: int, path: str) -> None:
    """The mailbox as the phone shows it, down to the last mail."""
    await page.goto(f"{base_url}/mail")
    await page.locator("#mails tbody tr").nth(mails - 1).wait_for()
    bottom = await page.evaluate("document.querySelector('main').getBoundingClientRect().bottom")
    await page.screenshot(path=path, clip={"x": 0, "y": 0, "width": PHONE["width"],
                                           "height": int(bottom) + 12})  # fmt: skip


async def _reminder_day(url: str, round_id: int) -> dt.date:
    """The working day before the round's deadline: the policy's before-1 reminder."""
    from storage.models import Round
    from storage.services.calendar import load_work_calendar

    async def work(session):
        due = (await session.get(Round, round_id)).due_date
        return (await load_work_calendar(session)).add_workdays(due, -1)

    return await in_database_async(url, work)


async def _office_adds_email_contacts(url: str, people, now: dt.datetime) -> int:
    """As `taizhang invite create --unit U --web --name N --email A` does; the first unit's id."""
    from storage.services.email_contacts import create_email_contact
    from storage.services.invites import find_unit

    async def work(session):
        ids = []
        for unit_name, name, address in people:
            unit = await find_unit(session, unit_name)
            await create_email_contact(session, unit, address, name=name, now=now)
            ids.append(unit.id)
        return ids[0]

    return await in_database_async(url, work)


async def _login_link(url: str, web_url: str, now: dt.datetime) -> str:
    """张主任's one-time console link, as `taizhang staff login-link 90001 --print` prints it."""
    from storage.services import staff_web

    def link(session):
        return staff_web.create_login_link(session, ADMIN_ID, now=now)

    made = await in_database_async(url, link)
    return staff_web.login_url(web_url, made.token)


async def _read_the_mailbox(base_url: str, mail: dict) -> str:
    """The mailbox's pages over HTTP: the mail listed (to, subject, time), then shown; the
    shown page's HTML."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url}/mail") as response:
            listing = await response.text()
        async with http.get(f"{base_url}/mail/{mail['id']}") as response:
            page = await response.text()
    row = re.search(rf'<tr id="mail-{mail["id"]}".*?</tr>', listing, re.S)[0]
    assert html.escape(mail["subject"]) in row and ADDRESS in row
    assert mail["date"][:10] in row  # its time, the Date header's (the bot's clock's) day
    assert html.escape(mail["subject"]) in page and "<iframe" in page
    return page
