"""Done when (e-mail half): a contact with no Telegram gets the e-mail reminder, opens its link
in a phone's browser (Debian's Chromium, 390 px), answers a task, submits and gets the receipt.
Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from scheduler.email_sender import EmailSender, email_options
from scheduler.reminders import sweep
from storage.services.email_contacts import create_email_contact
from storage.services.invites import find_unit
from tests.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, require_chromium
from tests.web.browser_steps import answer, submit
from tests.web.conftest import SHANGHAI, prepared, world  # noqa: F401
from tests.web.test_phone_browser import _ledger_texts

pytestmark = pytest.mark.browser

ANSWER = "已完成：医保政策问答 20 条已在区政府网站发布。"


async def test_an_email_reminder_leads_to_a_submitted_report(world, smtp) -> None:  # noqa: F811
    require_chromium()
    from playwright.async_api import async_playwright

    from storage.models import Round
    from storage.services.calendar import load_work_calendar

    async def setup(session):
        unit = await find_unit(session, "医保局")
        await create_email_contact(session, unit, "zhaomin@yibao.example.cn", name="赵敏",
                                   now=world.clock())  # fmt: skip
        due = (await session.get(Round, world.round_id)).due_date
        day = (await load_work_calendar(session)).add_workdays(due, -1)  # the before-1 step
        await session.commit()
        return day

    day = await world.query(setup)
    world.clock.moment = dt.datetime.combine(day, dt.time(10, 0), SHANGHAI).astimezone(dt.UTC)

    async def run_sweep(session):
        result = await sweep(session, now=world.clock(), email=True)
        await session.commit()
        return result

    assert (await world.query(run_sweep)).queued >= 1
    base = str(world.server.make_url("/")).rstrip("/")
    sender = EmailSender(world.sessions, smtp.config, base, email_options(), clock=_Clock(world),
                         rng=random.Random(1))  # fmt: skip
    assert (await sender.drain()).sent == 1
    [mail] = smtp.catcher.to("zhaomin@yibao.example.cn")
    assert "兴庆区医疗保障局" in mail["Subject"]
    [link] = re.findall(rf"{re.escape(base)}/l/[A-Za-z0-9_-]{{43}}",
                        mail.get_body(("plain",)).get_content())  # fmt: skip

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=PHONE, locale="zh-CN")
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(link)
        assert "/l/" not in page.url
        assert await page.locator("h1").inner_text() == "兴庆区医疗保障局"
        await answer(page, 0, "已完成", ANSWER)
        assert (await submit(page)).startswith(f"TZ{world.round_id}-")
        await browser.close()
    assert problems == [], problems
    assert ANSWER in await _ledger_texts(world)


class _Clock:
    """The web world's clock as the sender's Clock (now, monotonic, sleep)."""

    def __init__(self, web_world) -> None:
        self.world = web_world

    def now(self) -> dt.datetime:
        return self.world.clock()

    def monotonic(self) -> float:
        return self.world.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
        import asyncio

        self.world.clock.advance(seconds=seconds)
        await asyncio.sleep(0)
