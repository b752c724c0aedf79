"""The stand-in's mailbox (sandbox/mail.py): mail handed to it is kept, listed newest first on
/mail and shown decoded on /mail/{id} — the plain text escaped with its links clickable, the
HTML part only in a sandboxed frame — and waited for over the JSON API."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from email.message import EmailMessage
from typing import Any

import aiohttp

from sandbox.mail import FRAME_SANDBOX, HTML_PART_CSP, MailWords, linkify, with_base_target

LINK = "https://tz.example.cn/l/AbC_123-xyz"


def mail(to: str, subject: str, *, at: dt.datetime | None = None, html: bool = True):
    message = EmailMessage()
    message["From"] = "台账提醒 <taizhang@example.gov.cn>"
    message["To"] = to
    message["Subject"] = subject
    at = at or dt.datetime(2026, 3, 13, 2, 0, 5, tzinfo=dt.UTC)
    message["Date"] = email.utils.format_datetime(at)
    message.set_content(f"您好，\n请打开：\n{LINK}\n<b>不是标签</b> & 完。")
    if html:
        message.add_alternative(
            '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            f'<p><a href="{LINK}">打开填报页面</a></p><script>alert(1)</script></body></html>',
            subtype="html",
        )
    return message


async def get(url: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text(), response.headers


async def test_caught_mail_is_listed_newest_first_and_shown_decoded(sandbox) -> None:
    box = sandbox.server.mailbox
    first = box.deliver(mail("sunli@example.cn", "提醒：2026年3月报送（掌政镇）"))
    second = box.deliver(mail("wang@example.cn", "第二封 <i>邮件</i>", html=False))
    assert first.recipients == ["sunli@example.cn"] and second.id == first.id + 1

    status, page, _ = await get(f"{sandbox.base_url}/mail")
    assert status == 200
    assert page.index(f'id="mail-{second.id}"') < page.index(f'id="mail-{first.id}"')
    assert "sunli@example.cn" in page and "提醒：2026年3月报送（掌政镇）" in page
    assert "第二封 &lt;i&gt;邮件&lt;/i&gt;" in page  # subjects are escaped
    assert "2026-03-13" in page  # the Date header's day

    status, page, headers = await get(f"{sandbox.base_url}/mail/{first.id}")
    assert status == 200 and "default-src 'self'" in headers["Content-Security-Policy"]
    assert f'<a href="{LINK}" rel="noopener noreferrer">{LINK}</a>' in page  # clickable
    assert "&lt;b&gt;不是标签&lt;/b&gt; &amp; 完。\n</pre>" in page  # the text is text
    assert f'sandbox="{FRAME_SANDBOX}"' in page and f'src="/mail/{first.id}/html"' in page
    assert "allow-scripts" not in FRAME_SANDBOX
    assert "<script>alert" not in page  # the HTML part never comes into the page itself

    status, part, headers = await get(f"{sandbox.base_url}/mail/{first.id}/html")
    assert status == 200 and headers["Content-Security-Policy"] == HTML_PART_CSP
    assert HTML_PART_CSP.startswith(f"sandbox {FRAME_SANDBOX};")
    assert '<head><base target="_top">' in part

    status, _, headers = await get(f"{sandbox.base_url}/mail/{second.id}/html")
    assert status == 404  # a plain-text mail has no HTML part
    status, raw, headers = await get(f"{sandbox.base_url}/mail/{first.id}.eml")
    assert status == 200 and headers["Content-Type"].startswith("message/rfc822")
    assert "Subject: =?utf-8?" in raw  # as it would have gone over SMTP
    assert (await get(f"{sandbox.base_url}/mail/999"))[0] == 404


async def test_a_client_waits_for_the_mail_and_reset_forgets_it(sandbox) -> None:
    client = sandbox.client
    assert await client.mails() == []
    _, page, _ = await get(f"{sandbox.base_url}/mail")
    assert 'id="empty"' in page
    waiting = asyncio.create_task(client.wait_for_mail("sunli@example.cn", timeout=10))
    sandbox.server.mailbox.deliver(mail("other@example.cn", "别人的"))
    sandbox.server.mailbox.deliver(mail("SunLi@example.cn", "她的"))
    found = await waiting
    assert found["subject"] == "她的" and LINK in found["text"] and LINK in found["html"]
    assert [m["subject"] for m in await client.mails()] == ["她的", "别人的"]
    try:
        await client.wait_for_mail(after=found["id"], timeout=0.2)
    except TimeoutError:
        pass
    else:
        raise AssertionError("no newer mail, yet one was found")
    await client.reset()
    assert await client.mails() == []


async def test_the_pages_speak_the_words_they_are_given(sandbox_factory) -> None:
    words = {"Mailbox": "邮箱", "Recipient": "收件人"}
    running = await sandbox_factory(
        mail_words=MailWords(
            lambda language, text: words.get(text, text) if language == "zh_CN" else text,
            (("zh_CN", "中文"), ("en", "English")),
        )
    )
    running.server.mailbox.deliver(mail("sunli@example.cn", "提醒"))
    _, page, _ = await get(f"{running.base_url}/mail")
    assert "<h1>✉️ 邮箱 <span" in page and "<th>收件人</th>" in page and 'lang="zh-CN"' in page
    assert 'href="/mail?lang=en"' in page
    _, page, _ = await get(f"{running.base_url}/mail?lang=en")
    assert "<h1>✉️ Mailbox <span" in page and "<th>Recipient</th>" in page
    assert 'href="/mail/1?lang=en"' in page  # the language goes along


async def test_the_web_chat_links_to_the_mailbox(sandbox) -> None:
    _, page, _ = await get(f"{sandbox.base_url}/")
    assert 'id="mail-link"' in page and 'href="/mail"' in page


def test_linkify_escapes_and_stops_at_punctuation() -> None:
    assert linkify("见 https://a.cn/x?y=1&z=2。谢谢 <b>") == (
        '见 <a href="https://a.cn/x?y=1&amp;z=2" rel="noopener noreferrer">'
        "https://a.cn/x?y=1&amp;z=2</a>。谢谢 &lt;b&gt;"
    )
    assert linkify("(https://a.cn/x).") == (
        '(<a href="https://a.cn/x" rel="noopener noreferrer">https://a.cn/x</a>).'
    )
    assert with_base_target("<p>x</p>") == '<base target="_top"><p>x</p>'
