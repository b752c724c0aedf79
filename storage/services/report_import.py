"""A unit's filled report (YAML, or its filled Word form) loaded into a round.

An answer is never overwritten silently: a differing answer becomes a new revision attributed
to the import, and the summary says what was added and what changed. A filled form is the
unit's report: unless loaded as a draft it is recorded as a submission (source: the file;
who: the label given, or "import"), a new version only when it changes what was submitted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Status
from ledger.report import UnitReport
from ledger.text import clean_text
from storage.models import FormHeader, Plan, Round, Task, Unit
from storage.services import reporting
from storage.services.errors import NotFound, ServiceError
from storage.services.invites import find_unit


@dataclass
class ReportImportResult:
    unit: str
    added: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    not_assigned: list[int] = field(default_factory=list)  # answered though not assigned: kept
    receipt: reporting.Receipt | None = None  # None: loaded as a draft, not submitted
    new_version: bool = False  # the submission got a new version (or its first)


async def import_report(
    session: AsyncSession,
    round_id: int,
    report: UnitReport,
    *,
    source: str,
    unit_name: str | None = None,
    submit: bool = True,
    by: str = "",
    at: dt.datetime | None = None,
) -> ReportImportResult:
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    plan = await session.get(Plan, round_.plan_id)
    name = unit_name or report.unit
    if not name:
        raise ServiceError("the form names no 填报单位: give --unit")
    unit = await find_unit(session, name, plan.directory_key or None)
    await _remember_form_header(session, round_id, unit, report)
    tasks = {
        t.number: t
        for t in (await session.exec(select(Task).where(Task.plan_id == plan.id))).all()
    }
    unknown = [a.task for a in report.answers if a.task not in tasks]
    if unknown:
        raise ServiceError(f"plan {plan.key} has no task {', '.join(map(str, unknown))}")
    own = {line.task_id for line in (await reporting.overview(session, round_id, unit.id)).lines}
    actor = reporting.Actor(unit_id=unit.id, label=f"import:{source}", source="import")
    result = ReportImportResult(unit=unit.name)
    for answer in report.answers:
        task = tasks[answer.task]
        if task.id not in own:
            result.not_assigned.append(answer.task)
        before = await reporting.entry_version(session, round_id, unit.id, task.id)
        status = (answer.status or _implied_status(answer.text)).value
        change = await reporting._change(
            session,
            actor,
            round_id,
            task.id,
            status=status,
            text=answer.text,
            reason=answer.reason if status == Status.NOT_APPLICABLE else "",
            staff_import=True,
        )
        if not change.changed:
            result.unchanged.append(answer.task)
        elif before == 0:
            result.added.append(answer.task)
        else:
            result.changed.append(answer.task)
    if submit:
        before = await reporting.submission_of(session, round_id, unit.id)
        version = before.version if before else 0
        submitter = reporting.Actor(
            unit_id=unit.id, label=by.strip() or "import", source="import", at=at
        )
        result.receipt = await reporting.submit(
            session, submitter, round_id, file_name=source, staff_import=True
        )
        result.new_version = result.receipt.version != version
    return result


def _implied_status(text: str) -> Status:
    # A filled cell without a stated status reports work under way.
    return Status.IN_PROGRESS if text.strip() else Status.NOT_STARTED


async def _remember_form_header(
    session: AsyncSession, round_id: int, unit: Unit, report: UnitReport
) -> None:
    """The form's 联系人 / 联系电话 are printed again on the unit's form for this round."""
    if not report.contact and not report.phone:
        return
    header = await session.get(FormHeader, (round_id, unit.id))
    if header is None:
        header = FormHeader(round_id=round_id, unit_id=unit.id)
        session.add(header)
    header.contact = " ".join(clean_text(report.contact or "").split())
    header.phone = " ".join(clean_text(report.phone or "").split())
    await session.flush()
