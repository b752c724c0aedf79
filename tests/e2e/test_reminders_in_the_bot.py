"""A reminder reaches the contact through the running bot, and its buttons work."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ledger.workdays import WorkCalendar
from sandbox.client import button_texts
from scheduler.reminders import sweep
from storage.models import Round
from tests.e2e.phone import message_with, press, screen, text_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_reminder_opens_the_first_unanswered_task_and_can_wait_a_day(taizhang):
    zhou = await taizhang.contact("周琪")

    async def due_date(session):
        return (await session.get(Round, taizhang.round_id)).due_date

    due = await taizhang.query(due_date)
    five_before = WorkCalendar().add_workdays(due, -5)
    taizhang.now = dt.datetime.combine(five_before, dt.time(10, 0), SHANGHAI).astimezone(dt.UTC)

    async def run_sweep(session):
        result = await sweep(session, now=taizhang.now, round_ids=[taizhang.round_id])
        await session.commit()
        return result

    result = await taizhang.query(run_sweep)
    assert result.queued >= 1
    reminder = await message_with(zhou, "⏰", timeout=15)  # the sender runs every 2 s
    assert "兴庆区医疗保障局" in text_of(reminder) and "0/19" in text_of(reminder)
    snoozed = await zhou.press(button_texts(reminder)[1], message_id=reminder["message_id"])
    next_day = WorkCalendar().next_workday(five_before)
    assert next_day.isoformat() in snoozed.text
    await zhou.press(button_texts(reminder)[0], message_id=reminder["message_id"])
    await screen(zhou, "序号 1", "主要内容")
    await press(zhou, "✍️ 填写进展")
