"""The stand-in's mailbox in a real browser: its list takes in a new mail without a reload by
hand, and the web chat's ✉ shows how many were caught (sandbox/static/mail.js, app.js)."""

from __future__ import annotations

import pytest

from tests.sandbox.test_mailbox import mail
from tests.sandbox.test_webchat_browser import page  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser


def listening(on_page):
    """Until the page's event stream has its answer: the stand-in listens before it answers,
    so from then on no mail is missed."""
    return on_page.expect_response(lambda response: "/_sandbox/events" in response.url)


async def test_the_mailbox_page_shows_a_new_mail_as_it_comes(sandbox, page) -> None:  # noqa: F811
    box = sandbox.server.mailbox
    old = box.deliver(mail("sunli@example.cn", "第一封"))
    async with listening(page):
        await page.goto(f"{sandbox.base_url}/mail")
    await page.locator(f"#mail-{old.id}").wait_for()
    assert await page.locator("#count").inner_text() == "1 caught"

    new = box.deliver(mail("wang@example.cn", "提醒：2026年3月报送（掌政镇）"))
    row = page.locator(f"#mail-{new.id}")
    await row.wait_for()
    assert "提醒：2026年3月报送（掌政镇）" in await row.inner_text()
    assert await page.locator("#count").inner_text() == "2 caught"


async def test_the_web_chats_envelope_counts_the_mail_caught(sandbox, page) -> None:  # noqa: F811
    await page.goto(sandbox.base_url + "/")
    await page.fill("#user-form input[name=first_name]", "王丽")
    async with listening(page):
        await page.click("#user-form button.primary")
    badge = page.locator("#mail-count")
    assert await badge.is_hidden()

    sandbox.server.mailbox.deliver(mail("sunli@example.cn", "第一封"))
    await page.locator("#mail-count:not([hidden])", has_text="1").wait_for()
    assert await page.locator("#mail-link").get_attribute("title") == "Mailbox: 1 caught"
