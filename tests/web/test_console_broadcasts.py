"""The console's broadcasts beyond text: a time to send at (listed with it, nothing due in
the outbox before it, refused in the past or outside office hours), a file uploaded once
through the upload action (the recipients' messages are sendDocument / sendPhoto with its
file id and the text as the caption; too big, an executable, a long caption refused before
any upload), and a reminder to those who have not pressed 收到 (only them, once per form;
a viewer and a forged POST refused). Through aiohttp's test client, on the test's clock
(2026-03-09 20:00 in Shanghai, a Monday evening)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestServer
from sqlalchemy import update
from sqlmodel import select

from storage.models import Broadcast, OutboxMessage
from storage.services.broadcasts import FILE_LIMIT
from storage.services.outbox import aware_utc
from tests.e2e.harness import SHANGHAI
from tests.web.conftest import csrf_of, web_config
from tests.web.test_console import VIEWER_ID, Console
from tests.web.test_uploads import zipped

NOTICE = "请于3月13日前报送本季度台账，附件为填报说明。"
PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 500
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 500
ARCHIVE = zipped("通知.pdf", "附件.docx")
REFUSED_KINDS = "程序、脚本、压缩包和带宏的文档一律拒收"


@dataclass
class FakeUpload:
    """The upload action as bot/attachments.py gives it, without Telegram: it records the file
    and answers with a file id of its own."""

    calls: list = field(default_factory=list)

    async def __call__(self, session, member, given):
        from web.app import Uploaded

        self.calls.append(given)
        prefix = "PHOTO" if given.kind == "photo" else "FILE"
        return Uploaded(given.kind, f"{prefix}-{len(self.calls)}")


def _actions(upload=None):
    from bot.web_server import office_actions

    return office_actions(upload)


async def _console(prepared, upload) -> Console:
    from storage.services import staff
    from storage.services.samples import bind_sample_people
    from web.app import build_web_app

    sessions, round_id, _previous, clock = prepared
    async with sessions() as session:
        await bind_sample_people(session)  # 张主任 (admin) and three units' contacts
        await staff.add_staff(session, VIEWER_ID, "钱科员", staff.VIEWER)
        await session.commit()
    server = TestServer(build_web_app(web_config(sessions, clock, office=_actions(upload))))
    await server.start_server()
    return Console(sessions, round_id, clock, server)


@pytest.fixture
def uploads() -> FakeUpload:
    return FakeUpload()


@pytest.fixture
async def console(prepared, uploads) -> AsyncIterator[Console]:
    found = await _console(prepared, uploads)
    try:
        yield found
    finally:
        for client in found.clients:
            await client.close()
        await found.server.close()


async def _all(session, query):
    return list((await session.exec(query)).all())


async def _broadcasts(console) -> list[Broadcast]:
    return await console.query(lambda s: _all(s, select(Broadcast).order_by(Broadcast.id)))


async def _messages(console, prefix: str = "broadcast:") -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix))
    return await console.query(lambda s: _all(s, query.order_by(OutboxMessage.chat_id)))


def _form(csrf: str, *, file: tuple[str, bytes, str] | None = None, **fields: str) -> FormData:
    """The compose form as a browser posts it: multipart, with an empty file part when no file
    is chosen."""
    form = FormData(default_to_multipart=True)
    form.add_field("_csrf", csrf)
    for name, value in {"audience": "all", "text": NOTICE, **fields}.items():
        form.add_field(name, value)
    if file is None:
        form.add_field("file", b"", filename="", content_type="application/octet-stream")
    else:
        name, data, kind = file
        form.add_field("file", data, filename=name, content_type=kind)
    return form


async def _compose(client, **fields):
    page = await client.get("/office/broadcasts")
    assert page.status == 200
    return await client.post(
        "/office/broadcasts", data=_form(csrf_of(await page.text()), **fields),
        allow_redirects=False,
    )  # fmt: skip


async def _confirm(client, url: str):
    page = await (await client.get(url)).text()
    return await client.post(f"{url}/confirm", data={"_csrf": csrf_of(page)})


def _shanghai(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


# ------------------------------------------------------------------ a time


async def test_a_scheduled_broadcast_is_listed_with_its_time_and_waits_for_it(console):
    client = await console.signed_in()
    form = await (await client.get("/office/broadcasts")).text()
    assert 'type="datetime-local" name="send_at"' in form and 'type="file"' in form
    made = await _compose(client, send_at="2026-03-10T10:00", ack="1")
    assert made.status == 303, await made.text()
    url = made.headers["Location"]
    draft = await (await client.get(url)).text()
    assert "确认后将于 2026-03-10 10:00（Asia/Shanghai）发送" in draft
    assert "确认：于 2026-03-10 10:00 发送给 3 人" in draft

    confirmed = await _confirm(client, url)
    page = await confirmed.text()
    assert confirmed.status == 200 and "消息已排队，到时发出" in page
    assert "已定时于 2026-03-10 10:00（Asia/Shanghai）发送" in page and "在此之前可以取消" in page
    assert re.search(r'id="b-state">已定时<', page)
    assert 'id="scheduled-at" data-at="2026-03-10 10:00"' in page
    listed = await (await client.get("/office/broadcasts")).text()
    row = re.search(r'<tr data-broadcast="\d+">(.*?)</tr>', listed, re.S)[1]
    assert 'data-scheduled="2026-03-10 10:00"' in row and "已定时" in row

    # Queued for its time: as the sender claims (queued, next attempt due), nothing before.
    at = _shanghai("2026-03-10 10:00")
    messages = await _messages(console)
    assert len(messages) == 3 and {aware_utc(m.next_attempt_at) for m in messages} == {at}
    due = [m for m in messages if aware_utc(m.next_attempt_at) <= console.clock()]
    assert due == []
    (row,) = await _broadcasts(console)
    assert (row.status, aware_utc(row.scheduled_at)) == ("scheduled", at)

    # Cancelled before it goes: its messages are withdrawn.
    page = await (await client.get(url)).text()
    cancelled = await client.post(f"{url}/cancel", data={"_csrf": csrf_of(page)})
    assert cancelled.status == 200 and "已撤回" in await cancelled.text()
    assert {m.status for m in await _messages(console)} == {"withdrawn"}


async def test_a_time_past_or_outside_office_hours_is_refused_with_the_reason(console, uploads):
    client = await console.signed_in()
    refusals = {
        "2026-03-09T19:00": "该时间已过",
        "2026-03-10T20:00": "20:00 不在办公时间（09:00–18:00）内",
        "2026-03-14T10:00": "2026-03-14 不是工作日",  # a Saturday
        "next tuesday": "YYYY-MM-DD HH:MM",
    }
    for send_at, words in refusals.items():
        attached = ("说明.pdf", PDF, "application/pdf")
        refused = await _compose(client, send_at=send_at, file=attached)
        html = await refused.text()
        assert refused.status == 422 and words in html, send_at
        assert NOTICE in html  # the text is kept; the file must be chosen again
        assert "请重新选择文件" in html
    assert await _broadcasts(console) == []
    assert uploads.calls == []  # refused before anything went to Telegram

    # A draft's time set on its page, refused there the same way, then dropped.
    made = await _compose(client)
    url = made.headers["Location"]
    page = await (await client.get(url)).text()
    late = await client.post(
        f"{url}/time", data={"_csrf": csrf_of(page), "send_at": "2026-03-10T18:30"}
    )
    assert late.status == 422 and "18:30 不在办公时间" in await late.text()
    timed = await client.post(
        f"{url}/time", data={"_csrf": csrf_of(page), "send_at": "2026-03-11 09:30"}
    )
    assert "时间已设定" in await timed.text()
    (row,) = await _broadcasts(console)
    assert aware_utc(row.scheduled_at) == _shanghai("2026-03-11 09:30")
    dropped = await client.post(f"{url}/time", data={"_csrf": csrf_of(page), "clear": "1"})
    assert "确认后立即发送" in await dropped.text()
    assert (await _broadcasts(console))[0].scheduled_at is None

    english = await client.post(
        "/office/language", data={"_csrf": csrf_of(page), "language": "en", "next": "/office/"}
    )
    assert english.status == 200
    refused = await _compose(client, send_at="2026-03-10T07:00")
    assert "07:00 is outside office hours (09:00–18:00)" in await refused.text()


# ------------------------------------------------------------------ a file


async def test_a_document_is_uploaded_once_and_goes_with_the_text_as_its_caption(console, uploads):
    client = await console.signed_in()
    made = await _compose(client, file=("填报说明.pdf", PDF, "application/pdf"), ack="1")
    assert made.status == 303, await made.text()
    assert [(u.name, u.kind, u.mime, u.data) for u in uploads.calls] == [
        ("填报说明.pdf", "document", "application/pdf", PDF)
    ]
    url = made.headers["Location"]
    preview = await (await client.get(url)).text()
    attachment = re.search(r'<div class="bubble-file" id="attachment"(.*?)</div>', preview, re.S)
    assert attachment and "填报说明.pdf" in attachment[1] and "2 KB" in attachment[1]
    assert NOTICE in preview

    assert (await _confirm(client, url)).status == 200
    messages = await _messages(console)
    assert len(messages) == 3
    for message in messages:
        assert message.method == "sendDocument"
        assert message.payload["document"] == "FILE-1"
        assert message.payload["caption"] == NOTICE and "text" not in message.payload
        assert "收到" in str(message.payload["reply_markup"])
    assert len(uploads.calls) == 1  # confirming uploads nothing again


async def test_a_photo_goes_as_a_photo(console, uploads):
    client = await console.signed_in()
    made = await _compose(client, file=("现场.png", PNG, "image/png"), audience="kind:township")
    assert made.status == 303, await made.text()
    assert [u.kind for u in uploads.calls] == ["photo"]
    assert "现场.png" in await (await client.get(made.headers["Location"])).text()
    await _confirm(client, made.headers["Location"])
    (message,) = await _messages(console)  # 掌政镇's contact
    assert message.method == "sendPhoto" and message.payload["photo"] == "PHOTO-1"
    assert message.payload["caption"] == NOTICE


async def test_files_too_big_of_a_wrong_type_or_with_a_long_caption_are_refused(console, uploads):
    client = await console.signed_in()
    big = b"%PDF-1.4\n" + b"0" * (FILE_LIMIT - 8)  # one byte over 50 MB
    cases = [
        ({"file": ("大文件.pdf", big, "application/pdf")}, "文件大小为 50.0 MB"),
        ({"file": ("通知.exe", EXE, "application/x-msdownload")}, REFUSED_KINDS),
        ({"file": ("通知.pdf", EXE, "application/pdf")}, REFUSED_KINDS),
        ({"file": ("通知.zip", ARCHIVE, "application/zip")}, REFUSED_KINDS),
        ({"file": ("空.pdf", b"", "application/pdf")}, "文件是空的"),
        (
            {"file": ("说明.pdf", PDF, "application/pdf"), "text": "字" * 1025},
            "现有 1025 个字，Telegram 最多接受 1024 个字",
        ),
    ]
    for fields, words in cases:
        refused = await _compose(client, **fields)
        assert refused.status == 422 and words in await refused.text(), words
    assert uploads.calls == [] and await _broadcasts(console) == []
    # Without a file the same long text is a message of its own.
    assert (await _compose(client, text="字" * 1025)).status == 303


async def test_without_the_bot_the_console_says_files_need_it(prepared):
    console = await _console(prepared, upload=None)
    try:
        client = await console.signed_in()
        form = await (await client.get("/office/broadcasts")).text()
        assert 'id="no-uploads"' in form and 'type="file"' not in form
        assert "发送附件需要机器人在运行" in form
        refused = await _compose(client, file=("说明.pdf", PDF, "application/pdf"))
        assert refused.status == 422 and "发送附件需要机器人在运行" in await refused.text()
        assert await _broadcasts(console) == []
        assert (await _compose(client)).status == 303  # text alone still goes
    finally:
        for client in console.clients:
            await client.close()
        await console.server.close()


async def test_a_viewer_or_a_post_without_its_token_uploads_nothing(console, uploads):
    viewer = await console.signed_in(VIEWER_ID)
    form = await (await viewer.get("/office/broadcasts")).text()
    assert 'name="send_at"' not in form and 'type="file"' not in form
    refused = await _compose(viewer, file=("说明.pdf", PDF, "application/pdf"))
    assert refused.status == 403 and "管理员" in await refused.text()
    admin = await console.signed_in()
    for csrf in ("", "forged"):
        forged = await admin.post(
            "/office/broadcasts", data=_form(csrf, file=("说明.pdf", PDF, "application/pdf"))
        )
        assert forged.status == 403
    assert uploads.calls == [] and await _broadcasts(console) == []


# ------------------------------------------------------------------ reminders


async def test_a_reminder_goes_only_to_those_who_have_not_pressed_it_once_per_press(console):
    from storage.services import broadcasts as bc

    client = await console.signed_in()
    made = await _compose(client, ack="1")
    url = made.headers["Location"]
    await _confirm(client, url)
    broadcast_id = int(url.rsplit("/", 1)[1])
    await console.query(  # the sender delivered all three; 周琪 (医保局) pressed 收到
        lambda s: s.exec(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "broadcast")
            .values(status="sent", telegram_message_id=77)
        )
    )
    await console.query(lambda s: bc.acknowledge(s, 10001, broadcast_id, now=console.clock()))

    page = await (await client.get(url)).text()
    assert re.search(r"<button id=\"remind\"\s*>提醒未确认的人（2）", page)
    reminded = await client.post(f"{url}/remind", data={"_csrf": csrf_of(page), "seen": "0"})
    assert reminded.status == 200 and "已安排提醒 2 人" in await reminded.text()
    reminders = await _messages(console, "broadcast-remind:")
    assert [m.chat_id for m in reminders] == [10002, 10003]  # not 周琪: she pressed it
    assert all(m.payload["reply_parameters"]["message_id"] == 77 for m in reminders)
    assert all("收到" in str(m.payload["reply_markup"]) for m in reminders)

    # The same form again (a double click, a reload): nobody is reminded twice.
    again = await client.post(f"{url}/remind", data={"_csrf": csrf_of(page), "seen": "0"})
    assert "没有人被重复提醒" in await again.text()
    assert len(await _messages(console, "broadcast-remind:")) == 2
    # A fresh press is a new reminder, to whoever has still not pressed it.
    await console.query(lambda s: bc.acknowledge(s, 10002, broadcast_id, now=console.clock()))
    page = await (await client.get(url)).text()
    assert "已提醒次数：1" in page and "再次提醒未确认的人（1）" in page
    once_more = await client.post(f"{url}/remind", data={"_csrf": csrf_of(page), "seen": "1"})
    assert "已安排提醒 1 人" in await once_more.text()
    assert [m.chat_id for m in await _messages(console, "broadcast-remind:")] == [
        10002, 10003, 10003,
    ]  # fmt: skip

    # A viewer sees no button and is refused; a POST without its token is refused.
    viewer = await console.signed_in(VIEWER_ID)
    seen = await (await viewer.get(url)).text()
    assert 'id="remind"' not in seen
    refused = await viewer.post(f"{url}/remind", data={"_csrf": csrf_of(seen), "seen": "2"})
    assert refused.status == 403 and "管理员" in await refused.text()
    assert (await client.post(f"{url}/remind", data={"seen": "2"})).status == 403
    assert len(await _messages(console, "broadcast-remind:")) == 3
    assert (await _broadcasts(console))[0].reminders == 2
