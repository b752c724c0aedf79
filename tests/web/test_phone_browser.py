"""The web report form in a real phone-sized browser (Debian's Chromium through Playwright,
390 px wide): a contact opens their link, answers two tasks (one with a photo), closes the tab
in the middle of an answer and finds it saved on reopening, submits and gets the receipt; the
consolidated ledger then carries those answers.

Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1. With WEB_SCREENSHOTS=DIR
it saves the task list, a card and the receipt there (docs/web-*.png come from this).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.sandbox.conftest import png
from tests.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, require_chromium

pytestmark = pytest.mark.browser

FIRST = "已完成：在区政府网站发布稳岗就业政策 12 条，解读 3 篇。"
SECOND = "正在推进：医保政策问答已起草，待审核后发布"


def _photo() -> bytes:
    """A small JPEG-free PNG photo stand-in of a plausible size."""
    return png(64, 48)


async def test_a_contact_answers_submits_and_the_ledger_has_it(world):
    require_chromium()
    from playwright.async_api import async_playwright

    shots = os.environ.get("WEB_SCREENSHOTS")
    link = str(world.server.make_url(await world.link(name="赵敏")))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        problems: list[str] = []

        def watch(page) -> None:
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )

        page = await context.new_page()
        watch(page)
        await page.goto(link)
        assert "/l/" not in page.url  # the token is not left in the address or history
        await page.locator("#tasks li").first.wait_for()
        assert await page.locator("h1").inner_text() == "兴庆区医疗保障局"

        # Task one: done, with a progress text and a photo.
        await page.locator("#tasks li a").first.click()
        await page.get_by_label("已完成").check()
        await page.fill("#text", FIRST)
        await page.locator("#save-state", has_text="已保存").wait_for()
        await page.set_input_files(
            "input[name=file]",
            files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": _photo()}],
        )
        await page.get_by_role("button", name="上传").click()
        await page.locator("#files li", has_text="现场照片.png").wait_for()
        assert await page.input_value("#text") == FIRST
        if shots:
            await page.evaluate("window.scrollTo(0, 0)")
            await page.screenshot(path=f"{shots}/web-card.png")

        # Task two: typing, and the tab closed before the autosave's pause is over.
        await page.get_by_role("link", name="下一项", exact=True).click()
        card_url = page.url
        await page.locator("#text").press_sequentially(SECOND, delay=5)
        await page.close()

        page = await context.new_page()
        watch(page)
        await page.goto(card_url)
        assert await page.input_value("#text") == SECOND
        await page.locator("#save-state", has_text="保存").wait_for()
        await _wait_saved(world, SECOND)

        # The list shows both; submit; the receipt.
        await page.get_by_role("link", name="任务列表", exact=True).click()
        await page.locator("#answered", has_text="已填 2 /").wait_for()
        if shots:
            await page.screenshot(path=f"{shots}/web-tasks.png")
        await page.locator("#to-submit").click()
        await page.locator("#confirm-submit").click()
        receipt = page.locator("#receipt .receipt-no")
        await receipt.wait_for()
        number = await receipt.inner_text()
        assert number.startswith(f"TZ{world.round_id}-")
        if shots:
            await page.screenshot(path=f"{shots}/web-receipt.png")
        await browser.close()
    assert problems == [], problems

    texts = await _ledger_texts(world)
    assert FIRST in texts and SECOND in texts


async def _wait_saved(world, text: str) -> None:
    """Until the server has the text (the reopened page saves what the browser kept)."""
    import asyncio

    from sqlmodel import select

    from storage.models import ProgressEntry

    async def saved(session):
        query = select(ProgressEntry.text).where(ProgressEntry.round_id == world.round_id)
        return text in (await session.exec(query)).all()

    for _ in range(200):
        if await world.query(saved):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} was never saved")


async def _ledger_texts(world) -> str:
    """Every cell of the consolidated ledger (export_files, as `taizhang export` writes it)."""
    from openpyxl import load_workbook

    from storage.services.export_files import consolidated_file
    from storage.services.exports import round_data

    data = await world.query(lambda session: round_data(session, world.round_id))
    book = load_workbook(io.BytesIO(consolidated_file(data, "xlsx")))
    return "\n".join(
        str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
    )


def test_screenshots_folder_is_optional() -> None:
    assert Path(os.environ.get("WEB_SCREENSHOTS", ".")).exists()
