"""The web chat in a real browser (Debian's Chromium driven by Playwright), at phone size.

Skips without /usr/bin/chromium unless TAIZHANG_REQUIRE_SERVICES=1. With
SANDBOX_SCREENSHOT=path it also saves a screenshot of the chat (docs/sandbox-webchat.png).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from tests.sandbox.conftest import png
from tests.sandbox_fixtures import RunningSandbox, aiogram_bot, polling

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


def _choices(task: int) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(text="✅ 已完成", callback_data=f"{task}:done"),
                button(text="⏳ 推进中", callback_data=f"{task}:doing"),
            ],
            [button(text="不适用", callback_data=f"{task}:na")],
        ]
    )


def demo_router() -> Router:
    """A tiny reporting bot: tasks with choices, a reply keyboard, a receipt document."""
    router = Router()
    tasks = {3: "抓好稳岗就业信息公开", 6: "推进医保政策解读"}

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            f"<b>任务 3 · {tasks[3]}</b>\n完成时限：<i>2023年10月</i>\n请选择进展落实情况：",
            parse_mode="HTML",
            reply_markup=_choices(3),
        )

    @router.callback_query(F.data.endswith(":done"))
    async def done(query: CallbackQuery) -> None:
        task = int((query.data or "0").split(":")[0])
        await query.answer("已记录 ✓")
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            f"<b>任务 {task} · {tasks[task]}</b>\n进展：<b>已完成</b>", parse_mode="HTML"
        )
        await query.message.answer(
            f"<b>任务 6 · {tasks[6]}</b>\n完成时限：<i>2023年10月</i>",
            parse_mode="HTML",
            reply_markup=_choices(6),
        )
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="提交本轮填报"), KeyboardButton(text="稍后再说")]],
            resize_keyboard=True,
        )
        await query.message.answer("也可以先提交已填写的部分。", reply_markup=keyboard)

    @router.message(F.text == "提交本轮填报")
    async def submit(message: Message) -> None:
        receipt = BufferedInputFile(b"PK\x03\x04 demo", filename="台账_兴庆区医疗保障局.docx")
        await message.answer_document(
            receipt, caption="已提交 · 回执编号 <code>XQ-2023-0042</code>", parse_mode="HTML"
        )

    return router


@pytest.fixture
async def demo_bot(sandbox: RunningSandbox) -> AsyncIterator[None]:
    sandbox.server.register_bot(sandbox.token, first_name="台账助手")
    dispatcher = Dispatcher()
    dispatcher.include_router(demo_router())
    async with polling(dispatcher, aiogram_bot(sandbox)):
        yield


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("TAIZHANG_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (TAIZHANG_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture
async def page(sandbox: RunningSandbox) -> AsyncIterator[Any]:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        await browser.close()
        assert errors == [], f"JavaScript errors: {errors}"


async def test_a_person_chats_with_the_bot_in_the_browser(
    sandbox: RunningSandbox, demo_bot: None, page: Any
) -> None:
    await page.goto(sandbox.base_url + "/")
    await page.fill("#user-form input[name=first_name]", "王丽")
    await page.select_option("#user-form select[name=language_code]", "zh-hans")
    await page.click("#user-form button.primary")
    await page.wait_for_selector("text=Say hello")

    await page.fill("#text", "/start")
    await page.press("#text", "Enter")
    reminder = page.locator(".row.in .bubble", has_text="请选择进展落实情况")
    await reminder.wait_for()
    assert await reminder.locator("b").first.inner_text() == "任务 3 · 抓好稳岗就业信息公开"

    await reminder.locator("xpath=..").locator("button", has_text="已完成").click()
    await page.locator("#toast", has_text="已记录").wait_for()
    await page.locator(".bubble", has_text="进展：已完成").wait_for()
    await page.locator(".bubble", has_text="任务 6").wait_for()
    await page.locator(".key-row button", has_text="提交本轮填报").click()
    receipt = page.locator("a.file", has_text="台账_兴庆区医疗保障局.docx")
    await receipt.wait_for()
    assert (await receipt.get_attribute("href")).startswith("/_sandbox/files/")

    shot = os.environ.get("SANDBOX_SCREENSHOT")
    if shot:
        await page.locator("#toast").wait_for(state="hidden")
        await page.screenshot(path=shot)

    await page.set_input_files(
        "#file-input", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(8, 6)}]
    )
    await page.locator(".row.out img.photo").wait_for()


async def test_the_page_waits_for_a_bot_that_is_not_there_yet() -> None:
    """Before any bot connects the page says so instead of failing."""
    require_chromium()
    from playwright.async_api import async_playwright

    from sandbox.server import SandboxServer

    server = SandboxServer()
    await server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            page = await browser.new_page(viewport=PHONE)
            server.world.add_user(first_name="Early")
            await page.goto(server.base_url + "/")
            await page.click("#user-list button")
            await page.locator("#notice", has_text="Waiting for the bot").wait_for()
            server.register_bot("42:" + "C" * 35)
            await page.locator("text=Say hello").wait_for()
            await browser.close()
    finally:
        await server.stop()


async def test_a_deep_link_opens_the_chat_with_start(
    sandbox: RunningSandbox, demo_bot: None, page: Any
) -> None:
    """/?start=<payload> behaves like t.me/<bot>?start=<payload>."""
    user = await sandbox.client.create_user("Deep", language_code="zh-hans")
    await page.goto(f"{sandbox.base_url}/?user={user.id}&start=invite_42")
    await page.locator(".row.out .bubble", has_text="/start invite_42").wait_for()
    await page.locator(".row.in .bubble", has_text="请选择进展落实情况").wait_for()
    assert "start=" not in page.url


async def test_bot_text_is_shown_as_text_never_as_html(sandbox: RunningSandbox, page: Any) -> None:
    user = await sandbox.client.create_user("Eve", started=True)
    bot = sandbox.server.world.bot_for_token(sandbox.token)
    hostile = '<b>not bold</b> <img src=x onerror="window.pwned=1">'
    status, _ = await sandbox.server.execute(
        bot, "sendMessage", {"chat_id": str(user.id), "text": hostile}, {}
    )
    assert status == 200
    await page.goto(f"{sandbox.base_url}/?user={user.id}")
    bubble = page.locator(".row.in .bubble", has_text="not bold")
    await bubble.wait_for()
    assert hostile in await bubble.inner_text()
    assert await bubble.locator("img, b").count() == 0
    assert await page.evaluate("window.pwned") is None
