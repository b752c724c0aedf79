"""Holiday schedules staff loaded for years the calendar package does not cover yet."""

from __future__ import annotations

from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.workdays import WorkCalendar, YearSchedule
from storage.models import CalendarDay


async def save_year_schedules(
    session: AsyncSession, schedules: list[YearSchedule]
) -> list[tuple[int, int, int]]:
    """Replace each year's loaded days; returns (year, holidays, working days) per year."""
    saved = []
    for schedule in schedules:
        await session.exec(delete(CalendarDay).where(CalendarDay.year == schedule.year))
        for day, name in schedule.holidays.items():
            session.add(CalendarDay(day=day, year=schedule.year, is_workday=False, name=name))
        for day, name in schedule.workdays.items():
            session.add(CalendarDay(day=day, year=schedule.year, is_workday=True, name=name))
        saved.append((schedule.year, len(schedule.holidays), len(schedule.workdays)))
    await session.flush()
    return saved


async def load_work_calendar(session: AsyncSession) -> WorkCalendar:
    """The official calendar plus every year staff loaded."""
    calendar = WorkCalendar()
    years: dict[int, tuple[dict, dict]] = {}
    for row in (await session.exec(select(CalendarDay).order_by(CalendarDay.day))).all():
        holidays, workdays = years.setdefault(row.year, ({}, {}))
        (workdays if row.is_workday else holidays)[row.day] = row.name
    for year, (holidays, workdays) in years.items():
        calendar.load_year(year, holidays, workdays)
    return calendar
