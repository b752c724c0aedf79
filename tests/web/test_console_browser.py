"""The office console in a real desk-sized browser (Debian's Chromium through Playwright,
1280 px wide): a staff member signs in with the one-time link, sees the matrix, sees a unit's
row change when it submits, reads its page and downloads the consolidated ledger, which
carries the unit's answer.

Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1. With WEB_SCREENSHOTS=DIR
it saves the matrix and a unit's page there (docs/web-console.png comes from this); the
matrix then shows more units' answers, so that every colour is on it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.web.test_console import ANSWER, console  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}


async def test_staff_sign_in_see_the_matrix_change_and_download_the_ledger(console):  # noqa: F811
    require_chromium()
    from docx import Document
    from playwright.async_api import async_playwright

    shots = os.environ.get("WEB_SCREENSHOTS")
    if shots:
        await _more_answers(console)
    unit_id = await console.unit_id()
    login = str(console.server.make_url(await console.login_path()))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        await page.goto(login)
        await page.locator("#sign-in").click()
        row = page.locator(f"#u-{unit_id}")
        await row.wait_for()
        assert "/login/" not in page.url
        assert await row.get_attribute("data-state") == "not_started"
        assert await page.locator("#matrix tbody tr").count() >= 20

        await console.submit()
        await page.reload()
        assert await row.get_attribute("data-state") == "on_time"
        assert await row.locator('td[data-cell="done"]').count() == 1
        if shots:
            await page.screenshot(path=f"{shots}/web-console.png", full_page=True)

        await row.locator("th.unit a").click()
        await page.locator("#answers", has_text=ANSWER).wait_for()
        if shots:
            await page.screenshot(path=f"{shots}/web-console-unit.png", full_page=True)

        await page.get_by_role("link", name="← ").first.click()
        await page.locator("#to-exports").click()
        async with page.expect_download() as waiting:
            await page.locator("#dl-docx").click()
        download = await waiting.value
        assert download.suggested_filename.endswith("汇总台账.docx")
        payload = Path(await download.path()).read_bytes()
        await browser.close()
    assert problems == [], problems
    document = Document(io.BytesIO(payload))
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert ANSWER in cells


async def _more_answers(console) -> None:  # noqa: F811
    """For the screenshot: two more units answer, one submits and changes an answer after."""
    from sqlmodel import select

    from scheduler.notices import submit_and_tell_staff
    from storage.models import Contact
    from storage.services import reporting
    from storage.services.people import Membership

    async def answer(name: str, plan: list[tuple[str, str]], submit: bool, after: bool):
        unit_id = await console.unit_id(name)

        async def work(session):
            contact = (
                await session.exec(select(Contact).where(Contact.unit_id == unit_id))
            ).first()
            summary = await reporting.overview(session, console.round_id, unit_id)
            actor = reporting.Actor(unit_id, contact.name, contact.id, "bot", console.clock())
            for line, (state, text) in zip(summary.lines, plan, strict=False):
                if state == "not_applicable":
                    await reporting.set_status(
                        session, actor, console.round_id, line.task_id, state, text
                    )
                    continue
                await reporting.set_status(session, actor, console.round_id, line.task_id, state)
                await reporting.append_text(session, actor, console.round_id, line.task_id, text)
            if submit:
                membership = Membership(contact.id, unit_id, summary.unit_name, name, "")
                await submit_and_tell_staff(
                    session, actor, console.round_id, membership, [], now=console.clock()
                )
            if after:
                task_id = summary.lines[1].task_id
                await reporting.append_text(session, actor, console.round_id, task_id, "补充。")

        await console.query(work)

    done, going = ("done", "已完成。"), ("in_progress", "推进中。")
    await answer(
        "民政局", [done, going, done, ("not_applicable", "本单位不涉及"), done], True, True
    )
    await answer("掌政镇", [going, done, going], False, False)
