"""E-mail reminders, end to end below the browser: the sweep on the test's clock queues an
e-mail for a contact without Telegram, the e-mail sender delivers it to a local SMTP server,
its link opens the contact's form; 4xx retried, 5xx final (the address marked, staff told
once); e-mail rows never hold Telegram's back; the same reminder is never mailed twice."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from scheduler.email_messages import LINK
from scheduler.reminders import sweep
from storage.models import Contact, Invite, OutboxMessage, WebLink
from storage.services.email_contacts import set_email
from storage.services.outbox import EMAIL
from tests.email.conftest import BASE_URL
from tests.scheduler.world import answer, build_world

DUE = dt.date(2023, 10, 10)
STAFF_CHAT = 900
SECRET = "test-secret-for-the-web-form-0123456789"


async def _world(sessions, *, addresses: list[str], telegram_chats: tuple[int, ...] = ()):
    """One unit per address, each with a contact without Telegram (a web contact) having it;
    then one Telegram unit per chat in `telegram_chats`."""
    async with sessions() as session:
        chats = [[5000 + i] for i in range(len(addresses))] + [[c] for c in telegram_chats]
        world = await build_world(session, due=DUE, chat_ids=chats, staff_chat_ids=[STAFF_CHAT])
        for index, address in enumerate(addresses):
            contact = world.contact(index)
            contact.telegram_user_id = contact.chat_id = None
            contact.reachable, contact.unreachable_reason = False, "web"
            contact.name = f"赵敏{index}"
            await session.flush()
            await set_email(session, contact.id, address)
        await answer(session, world, 0, 0)
        await session.commit()
    return world


async def _sweep(sessions, clock, *, email: bool = True):
    async with sessions() as session:
        result = await sweep(session, now=clock.now(), email=email, staff_ids=[STAFF_CHAT])
        await session.commit()
    return result


async def _rows(sessions, **where) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list((await session.exec(query)).all())


async def test_the_reminder_is_mailed_once_and_its_link_opens_the_form(
    sessions, smtp, clock, make_email_sender
) -> None:
    world = await _world(sessions, addresses=["zhaomin@example.cn"])
    first = await _sweep(sessions, clock)
    again = await _sweep(sessions, clock)  # a second sweep: nothing new
    assert (first.queued, again.queued) == (1, 0)
    [row] = await _rows(sessions, channel=EMAIL)
    assert row.kind == "reminder" and row.dedupe_key.endswith(":email")
    assert LINK in row.payload["text"] and "/l/" not in str(row.payload)  # no token stored

    sender = make_email_sender()
    assert (await sender.drain()).sent == 1
    assert (await sender.drain()).handled == 0  # drained again: nothing is mailed twice
    [mail] = smtp.catcher.to("zhaomin@example.cn")
    assert len(smtp.catcher.messages) == 1
    assert mail["Subject"] == "【填报提醒】2023年报送（单位1），截止日期 2023-10-10"
    assert mail["Message-ID"] == f"<taizhang-outbox-{row.id}@example.gov.cn>"
    text = mail.get_body(("plain",)).get_content()
    page = mail.get_body(("html",)).get_content()
    for expected in ("赵敏0，您好", "单位1", "2023年报送", "2023-10-10", "已填报 1/3 项任务"):
        assert expected in text
    assert "2. 任务内容2" in text and "3. 任务内容3" in text and "1. 任务内容1" not in text
    [link] = re.findall(rf"{re.escape(BASE_URL)}/l/[A-Za-z0-9_-]{{43}}", text)
    assert f'href="{link}"' in page and "<li>2. 任务内容2</li>" in page
    [sent] = await _rows(sessions, channel=EMAIL)
    assert sent.status == "sent" and sent.attempts == 1

    # The link is a personal web link of that contact, kept only as a hash.
    async with sessions() as session:
        invite, web_link = (await session.exec(select(Invite, WebLink).join(WebLink))).one()
    contact = world.contact(0)
    assert web_link.contact_id == contact.id and invite.channel == "web"
    assert invite.expires_at == clock.now() + dt.timedelta(days=14)
    assert link.rsplit("/", 1)[1] not in invite.token_hash

    # …and it opens that contact's form in the web app.
    from web.app import WebConfig, build_web_app

    async def submit(*args, **kwargs):  # not reached here
        raise AssertionError

    config = WebConfig(
        sessions=sessions, secret=SECRET, submit=submit, base_url=BASE_URL,
        clock=clock.now, monotonic=clock.monotonic,
    )  # fmt: skip
    async with TestClient(TestServer(build_web_app(config))) as browser:
        opened = await browser.get(link.removeprefix(BASE_URL), allow_redirects=False)
        assert opened.status == 303
        form = await browser.get("/")
        assert form.status == 200
        assert "单位1" in await form.text()


async def test_without_the_email_channel_a_web_contact_is_unreachable(sessions, clock) -> None:
    await _world(sessions, addresses=["zhaomin@example.cn"])
    result = await _sweep(sessions, clock, email=False)
    assert result.queued == 0 and result.unreachable == [(1, "单位1")]


async def test_a_contact_who_chose_email_gets_it_instead_of_telegram(sessions, clock) -> None:
    world = await _world(sessions, addresses=[], telegram_chats=(101,))
    async with sessions() as session:
        await set_email(session, world.contact(0).id, "Li.Ming@Example.CN", prefer=True)
        await session.commit()
    await _sweep(sessions, clock)
    [row] = await _rows(sessions)
    assert row.channel == EMAIL and row.payload["to"] == "Li.Ming@example.cn"


async def test_a_4xx_is_retried_and_a_5xx_is_final_marking_the_address(
    sessions, smtp, clock, make_email_sender
) -> None:
    smtp.catcher.rcpt["busy@example.cn"] = ["451 4.3.0 try again later", "250 OK"]
    smtp.catcher.rcpt["gone@example.cn"] = ["550 5.1.1 no such user"]
    await _world(sessions, addresses=["busy@example.cn", "gone@example.cn", "gone@example.cn"])
    await _sweep(sessions, clock)
    sender = make_email_sender(staff_ids=(STAFF_CHAT,))
    report = await sender.drain(follow_retries=True)
    assert (report.sent, report.retried, report.failed) == (1, 1, 2)
    busy, gone, gone_too = await _rows(sessions, channel=EMAIL)
    assert busy.status == "sent" and busy.attempts == 2
    assert len(smtp.catcher.to("busy@example.cn")) == 1
    assert gone.status == gone_too.status == "failed"
    assert gone.last_error.startswith("550 recipient refused")
    async with sessions() as session:
        refused = await session.exec(select(Contact).where(Contact.email == "gone@example.cn"))
        assert all(c.email_error.startswith("550") for c in refused.all())
    # Two contacts (two units) had the address: each is told of once, and only once.
    notices = [r for r in await _rows(sessions, kind="staff_notice") if "gone@" in str(r.payload)]
    assert len(notices) == 2 and {n.chat_id for n in notices} == {STAFF_CHAT}
    assert "邮件服务器拒收" in notices[0].payload["text"]
    # The next sweep mails nobody at a refused address.
    clock.advance(dt.timedelta(days=1))  # 2023-10-10, the deadline: a new step
    await _sweep(sessions, clock)
    fresh = [r for r in await _rows(sessions, channel=EMAIL, status="queued")]
    assert [r.payload["to"] for r in fresh] == ["busy@example.cn"]


async def test_email_rows_never_hold_telegram_rows_back(
    sessions, clock, make_email_sender, make_telegram_sender
) -> None:
    await _world(sessions, addresses=["zhaomin@example.cn"], telegram_chats=(101,))
    await _sweep(sessions, clock)
    # The Telegram sender sends its row and leaves the e-mail untouched, whatever is queued.
    telegram = make_telegram_sender()
    report = await telegram.drain()
    assert report.sent == 1 and report.handled == 1
    [mail] = await _rows(sessions, channel=EMAIL)
    assert (mail.status, mail.attempts) == ("queued", 0)
    # An SMTP server that never answers holds its own rows, never Telegram's.
    hang_started = []

    async def hang(message, config, timeout):
        hang_started.append(message["To"])
        import asyncio

        await asyncio.Event().wait()

    mailer = make_email_sender(transport=hang, request_timeout=0.2)
    assert (await mailer.drain()).retried == 1 and hang_started == ["zhaomin@example.cn"]
    [telegram_row] = await _rows(sessions, channel="telegram")
    assert telegram_row.status == "sent"


async def test_after_a_crash_untried_mails_go_at_once_and_one_in_flight_waits(
    sessions, smtp, clock, make_email_sender
) -> None:
    from sqlalchemy import update

    await _world(sessions, addresses=["a@example.cn", "b@example.cn"])
    await _sweep(sessions, clock)
    first, second = await _rows(sessions, channel=EMAIL)
    async with sessions() as session:  # a sender died: one row claimed, one in flight
        for row, mark in ((first, "dead:email"), (second, "dead:email!")):
            await session.exec(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="sending", claimed_by=mark, claimed_at=clock.now())
            )
        await session.commit()
    sender = make_email_sender(stale_after=60.0)
    assert (await sender.drain()).sent == 1  # the untried one, at once
    assert [m["To"] for m in smtp.catcher.messages] == ["a@example.cn"]
    clock.advance(61)  # the one in flight may have gone: it is sent again only once stale
    assert (await sender.drain()).sent == 1
    assert [m["To"] for m in smtp.catcher.messages] == ["a@example.cn", "b@example.cn"]
