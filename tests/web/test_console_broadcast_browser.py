"""A broadcast with a time and a file, composed in a real desk-sized browser (Debian's
Chromium through Playwright, 1280 px): the date-time field and the file chooser post the
multipart form, the preview names the file and its size and says when it goes, confirming
schedules it, and the list shows its time.

Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1. With WEB_SCREENSHOTS=DIR
it saves the compose form, the preview, the scheduled broadcast's page and the list there.
"""

from __future__ import annotations

import os

import pytest

from tests.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.web.browser_steps import sign_in_to_console, watch
from tests.web.test_console_broadcasts import PDF, console, uploads  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
NOTICE = "请各单位于3月13日前按附件说明报送第一季度台账，逾期将纳入季度通报。"


async def test_compose_a_scheduled_broadcast_with_a_file(console, uploads, tmp_path):  # noqa: F811
    require_chromium()
    from playwright.async_api import async_playwright

    shots = os.environ.get("WEB_SCREENSHOTS")
    attachment = tmp_path / "第一季度台账填报说明.pdf"
    attachment.write_bytes(PDF * 200)
    login = str(console.server.make_url(await console.login_path()))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=DESK, locale="zh-CN")
        page = await context.new_page()
        problems: list[str] = []
        watch(page, problems)
        await sign_in_to_console(page, login)
        await page.goto(str(console.server.make_url("/office/broadcasts")))
        await page.select_option("#audience", "kind:department")
        await page.fill("#text", NOTICE)
        await page.check('input[name="ack"]')
        await page.set_input_files("#file", str(attachment))
        await page.fill("#send_at", "2026-03-10T10:00")
        if shots:
            await page.screenshot(path=f"{shots}/web-broadcast-compose.png", full_page=True)
        await page.locator("#to-preview").click()

        await page.locator("#attachment", has_text="第一季度台账填报说明.pdf").wait_for()
        size = f"{round(attachment.stat().st_size / 1024)} KB"
        assert size in await page.locator("#attachment").inner_text()
        assert "2026-03-10 10:00" in await page.locator("#scheduled-at").inner_text()
        if shots:
            await page.screenshot(path=f"{shots}/web-broadcast-preview.png", full_page=True)
        await page.locator("#confirm").click()

        await page.locator("#b-state", has_text="已定时").wait_for()
        assert "2026-03-10 10:00" in await page.locator("#scheduled-at").inner_text()
        if shots:
            await page.screenshot(path=f"{shots}/web-broadcast-scheduled.png", full_page=True)
        await page.get_by_role("link", name="← ").first.click()
        when = page.locator("#recent td.when.scheduled")
        if shots:
            await page.screenshot(path=f"{shots}/web-broadcast-list.png", full_page=True)
        assert (await when.inner_text()).strip() == "2026-03-10 10:00"
        await browser.close()
    assert problems == [], problems
    assert [(u.name, u.kind) for u in uploads.calls] == [("第一季度台账填报说明.pdf", "document")]
