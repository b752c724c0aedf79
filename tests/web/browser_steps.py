"""Steps people take in a real browser (Playwright pages), shared by the browser tests: a
contact answers tasks on the web form and submits; a staff member signs in to the office's
console and downloads the consolidated ledger."""

from __future__ import annotations

import io
from pathlib import Path


def watch(page, problems: list[str]) -> None:
    """Collect the page's uncaught errors and console errors into `problems`."""
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)


async def answer(page, number: int, status: str, text: str) -> None:
    """From the task list: open the `number`-th task (0 first), choose the status by its label
    (已完成, 推进中 …), write the text, wait until it is saved, and go back to the list."""
    await page.locator("#tasks li a").nth(number).click()
    await page.get_by_label(status, exact=True).check()
    await page.fill("#text", text)
    await page.locator("#save-state", has_text="已保存").wait_for()
    await page.get_by_role("link", name="任务列表", exact=True).click()
    await page.locator("#tasks li").first.wait_for()


async def submit(page) -> str:
    """From the task list: submit, confirm, and return the receipt's number."""
    await page.locator("#to-submit").click()
    await page.locator("#confirm-submit").click()
    receipt = page.locator("#receipt .receipt-no")
    await receipt.wait_for()
    return await receipt.inner_text()


async def sign_in_to_console(page, login_url: str) -> None:
    """Open a staff member's one-time sign-in link and press the button; the matrix shows."""
    await page.goto(login_url)
    await page.locator("#sign-in").click()
    await page.locator("#matrix").wait_for()
    assert "/login/" not in page.url


async def download_ledger(page) -> bytes:
    """From a console page with the exports link: the consolidated ledger as Word."""
    await page.locator("#to-exports").click()
    async with page.expect_download() as waiting:
        await page.locator("#dl-docx").click()
    download = await waiting.value
    assert download.suggested_filename.endswith("汇总台账.docx")
    return Path(await download.path()).read_bytes()


def docx_cells(payload: bytes) -> str:
    """Every table cell of a Word document, one a line."""
    from docx import Document

    document = Document(io.BytesIO(payload))
    return "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
