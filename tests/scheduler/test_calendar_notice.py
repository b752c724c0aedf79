"""Staff hear once that a year's holidays are missing; reminders go on by weekdays."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from ledger.workdays import PACKAGE_YEARS
from scheduler.reminders import sweep
from storage.models import OutboxMessage
from storage.services.plans import add_round
from tests.storage.test_import import import_samples


async def test_missing_year_is_told_to_staff_once(sessions):
    year = PACKAGE_YEARS.stop
    async with sessions() as session:
        await import_samples(session)
        await add_round(session, "xingqing-2023", dt.date(year, 3, 15))
        await session.commit()
    morning = dt.datetime(year, 3, 8, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai
    for _ in range(2):
        async with sessions() as session:
            result = await sweep(session, now=morning, staff_ids=[900001, 900002])
            await session.commit()
        assert result.calendar_missing == [year]
    async with sessions() as session:
        notices = (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.dedupe_key.startswith("calendar-missing")
                )
            )
        ).all()
    assert sorted(n.chat_id for n in notices) == [900001, 900002]
    assert (
        str(year) in notices[0].payload["text"] and "calendar import" in notices[0].payload["text"]
    )
