"""The stand-in's mailbox in a real browser: its list takes in a new mail without a reload by
hand, and the web chat's ✉ shows how many were caught (sandbox/static/mail.js, app.js)."""

from __future__ import annotations

import asyncio

import pytest

from tests.sandbox.test_mailbox import mail
from tests.sandbox.test_webchat_browser import page  # noqa: F401  (the browser fixture)
from tests.sandbox_fixtures import RunningSandbox

pytestmark = pytest.mark.browser


async def listening(sandbox: RunningSandbox, more_than: int) -> None:
    """Until a page's event stream is registered with the stand-in: a mail before that would
    reach no page."""
    listeners = sandbox.server.world.listeners
    async with asyncio.timeout(30):
        while len(listeners) <= more_than:
            await asyncio.sleep(0.01)


async def test_the_mailbox_page_shows_a_new_mail_as_it_comes(sandbox, page) -> None:  # noqa: F811
    box = sandbox.server.mailbox
    old = box.deliver(mail("sunli@example.cn", "第一封"))
    before = len(sandbox.server.world.listeners)
    await page.goto(f"{sandbox.base_url}/mail")
    await page.locator(f"#mail-{old.id}").wait_for()
    assert await page.locator("#count").inner_text() == "1 caught"
    await listening(sandbox, before)

    new = box.deliver(mail("wang@example.cn", "提醒：2026年3月报送（掌政镇）"))
    row = page.locator(f"#mail-{new.id}")
    await row.wait_for()
    assert "提醒：2026年3月报送（掌政镇）" in await row.inner_text()
    assert await page.locator("#count").inner_text() == "2 caught"


async def test_the_web_chats_envelope_counts_the_mail_caught(sandbox, page) -> None:  # noqa: F811
    await page.goto(sandbox.base_url + "/")
    before = len(sandbox.server.world.listeners)
    await page.fill("#user-form input[name=first_name]", "王丽")
    await page.click("#user-form button.primary")
    await listening(sandbox, before)
    badge = page.locator("#mail-count")
    assert await badge.is_hidden()

    sandbox.server.mailbox.deliver(mail("sunli@example.cn", "第一封"))
    await page.locator("#mail-count:not([hidden])", has_text="1").wait_for()
    assert await page.locator("#mail-link").get_attribute("title") == "Mailbox: 1 caught"
