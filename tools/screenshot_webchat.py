"""Screenshot the sandbox web chat as 周琪 reports a task, at phone size.

uv run taizhang sandbox --reset --port 8097 &   # then:
uv run python tools/screenshot_webchat.py http://127.0.0.1:8097 docs/webchat.png
"""

from __future__ import annotations

import asyncio
import sys

from playwright.async_api import async_playwright

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


async def main(base_url: str, out: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = await browser.new_page(
            viewport={"width": 390, "height": 844}, device_scale_factor=2
        )
        await page.goto(f"{base_url}/?user=10001")
        await send(page, "/report")
        await page.get_by_role("button", name="第一个未填").click()
        await page.get_by_text("主要内容").last.wait_for()
        await page.get_by_role("button", name="✍️ 填写进展").last.click()
        await page.get_by_text("请发送进展落实情况").last.wait_for()
        await send(page, "在“兴庆医保”公众号转载黄河流域生态保护信息3条。")
        await page.get_by_text("已保存").last.wait_for()
        await page.get_by_role("button", name="✅ 完成").last.click()
        await page.get_by_text("公众号转载").last.wait_for()
        await page.wait_for_timeout(500)
        await page.screenshot(path=out)
        await browser.close()


async def send(page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
