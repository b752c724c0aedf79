"""The sample ledger loaded into a database: for the sandbox and for end-to-end tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.plan_yaml import load_plan
from ledger.report import load_report
from ledger.samples import sample_path
from ledger.units import load_units
from ledger.workdays import WorkCalendar
from storage.models import Round
from storage.services.directories import import_directory
from storage.services.plans import add_round, import_plan, refresh_directory_plans
from storage.services.report_import import import_report

SAMPLE_PLAN = "xingqing-2023"


# 医保局 sent its seed report the day before the December 2023 deadline (09:00 Shanghai).
SAMPLE_SUBMITTED_AT = dt.datetime(2023, 11, 30, 1, 0, tzinfo=dt.UTC)


@dataclass
class SampleRound:
    round_id: int
    previous_round_id: int
    due: dt.date


async def load_sample_ledger(
    session: AsyncSession, today: dt.date, *, working_days_ahead: int = 5
) -> SampleRound:
    """The 兴庆区 plan and units; its 2023 rounds closed, with 医保局's seed answers in the
    December one; and an open round due a few working days after `today`."""
    directory = load_units(sample_path("xingqing-units.yaml"))
    await import_directory(session, directory)
    await import_plan(session, load_plan(sample_path(f"{SAMPLE_PLAN}.yaml")))
    await refresh_directory_plans(session, directory.key)
    past = (await session.exec(select(Round).where(Round.due_date < today))).all()
    for round_ in past:
        round_.status = "closed"
    previous = next(r for r in past if r.due_date == dt.date(2023, 12, 1))
    await import_report(
        session,
        previous.id,
        load_report(sample_path("xingqing-2023-yibao-report.yaml")),
        source="xingqing-2023-yibao-report.yaml",
        at=SAMPLE_SUBMITTED_AT,  # on time, as the seed was: not whenever the sample is loaded
    )
    due = WorkCalendar().add_workdays(today, working_days_ahead)
    current = await add_round(session, SAMPLE_PLAN, due, f"{due.year}年{due.month}月报送")
    current.status = "open"
    await session.flush()
    return SampleRound(current.id, previous.id, due)


@dataclass(frozen=True)
class SamplePerson:
    telegram_user_id: int
    name: str
    unit: str | None  # None: office staff


SAMPLE_PEOPLE = (
    SamplePerson(90001, "张主任", None),
    SamplePerson(10001, "周琪", "兴庆区医疗保障局"),
    SamplePerson(10002, "李明", "兴庆区民政局"),
    SamplePerson(10003, "王芳", "掌政镇人民政府"),
)


async def bind_sample_people(session: AsyncSession, people=SAMPLE_PEOPLE) -> None:
    """Staff and contacts already bound to their units, as if they had used their invites."""
    from storage.models import Contact, Staff
    from storage.services.invites import find_unit

    for person in people:
        if person.unit is None:
            staff = (
                await session.exec(
                    select(Staff).where(Staff.telegram_user_id == person.telegram_user_id)
                )
            ).first()
            if staff is None:
                session.add(
                    Staff(
                        telegram_user_id=person.telegram_user_id,
                        chat_id=person.telegram_user_id,
                        name=person.name,
                        source="sample",
                    )
                )
            continue
        unit = await find_unit(session, person.unit)
        exists = (
            await session.exec(
                select(Contact).where(
                    Contact.unit_id == unit.id, Contact.telegram_user_id == person.telegram_user_id
                )
            )
        ).first()
        if exists is None:
            session.add(
                Contact(
                    unit_id=unit.id,
                    telegram_user_id=person.telegram_user_id,
                    chat_id=person.telegram_user_id,
                    name=person.name,
                )
            )
    await session.flush()
