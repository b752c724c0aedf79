"""A contact who blocks the bot reaches the staff as one notice; coming back is told too."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from storage.models import Contact, OutboxMessage
from storage.services.outbox import enqueue
from tests.e2e.conftest import STAFF_ID
from tests.e2e.phone import message_with, text_of


async def _outbox(taizhang) -> list[OutboxMessage]:
    async def rows(session):
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())

    return await taizhang.query(rows)


async def _until(taizhang, done, timeout: float = 15.0) -> list[OutboxMessage]:
    """Wait until the outbox rows satisfy `done` (the sender runs every 2 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(rows := await _outbox(taizhang)):
        if loop.time() > deadline:
            raise AssertionError(
                f"the outbox never got there: {[(r.kind, r.status) for r in rows]}"
            )
        await asyncio.sleep(0.1)  # the pace of looking: the outbox has no event to wait on
    return rows


def _about(rows: list[OutboxMessage], name: str) -> list[OutboxMessage]:
    return [
        r for r in rows if r.chat_id == STAFF_ID and r.kind == "staff_notice"
        and name in r.payload["text"]
    ]  # fmt: skip


async def test_staff_hear_once_that_a_contact_blocked_the_bot_and_once_that_they_returned(
    taizhang,
) -> None:
    staff = await taizhang.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    zhou = await taizhang.contact("周琪")
    await zhou.block()
    notice = await message_with(staff, "周琪", "兴庆区医疗保障局", "屏蔽", timeout=15)
    assert "兴庆区医疗保障局 目前已没有机器人能联系到的联系人" in text_of(notice)

    # A reminder queued before the block goes out now and meets a 403: nothing more to tell.
    async def queue_reminder(session):
        contact = (
            await session.exec(select(Contact).where(Contact.telegram_user_id == zhou.id))
        ).one()
        await enqueue(
            session,
            dedupe_key="test:reminder-before-the-block",
            kind="reminder",
            chat_id=zhou.id,
            contact_id=contact.id,
            payload={"text": "⏰ 提醒"},
            now=taizhang.clock(),
        )
        await session.commit()

    await taizhang.query(queue_reminder)

    def reminder_failed(rows) -> bool:
        return any(r.kind == "reminder" and r.status == "failed" for r in rows)

    rows = await _until(taizhang, reminder_failed)
    (reminder,) = [r for r in rows if r.kind == "reminder"]
    assert reminder.last_error.startswith("403")
    (told,) = _about(rows, "周琪")  # the 403 queued no second notice
    assert told.status == "sent"
    view = await staff.read_chat()
    assert [m for m in view.bot_messages if "周琪" in text_of(m)] == [notice]

    await zhou.unblock()
    back = await message_with(staff, "周琪", "已可以重新通过机器人联系", timeout=15)
    assert "兴庆区医疗保障局" in text_of(back)
    await zhou.send("/report")  # writing again changes nothing more: they are reachable
    await zhou.wait_for_reply()
    rows = await _until(taizhang, lambda rows: all(r.status != "queued" for r in rows))
    assert [("已可以重新" in r.payload["text"]) for r in _about(rows, "周琪")] == [False, True]
