"""The round as the ledger's document writers need it, read from the database.

What is archived is what was submitted: `round_data` gives each unit's last submitted version
(storage.services.submitted), and a unit that never submitted answers nothing. With
`drafts=True` it gives the answers as they stand now, marked as drafts on every page.
"""

from __future__ import annotations

import dataclasses

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Role, Status
from ledger.rounddata import Answer, EvidenceFile, RoundData, SubmissionInfo, UnitInfo
from storage.models import (
    Assignment,
    Attachment,
    Contact,
    FormHeader,
    Plan,
    ProgressEntry,
    Round,
    Submission,
    SubmissionVersion,
    SubmittedAnswer,
    Task,
    Unit,
)
from storage.services import submitted
from storage.services.errors import NotFound
from storage.services.plans import load_ledger_plan


async def round_data(
    session: AsyncSession, round_id: int, *, with_evidence: bool = False, drafts: bool = False
) -> RoundData:
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    plan_row = await session.get(Plan, round_.plan_id)
    plan = await load_ledger_plan(session, plan_row.key)
    assignments = (
        await session.exec(
            select(Task.number, Unit, Assignment.role)
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Task.plan_id == plan_row.id, Task.retired.is_(False))
            .order_by(Task.position, Assignment.position)
        )
    ).all()
    if drafts:
        entries, evidence_ids = await _current_rows(session, round_id), None
    else:
        entries, evidence_ids = await _submitted_rows(session, round_id)
    units: dict[int, Unit] = {}
    by_task: dict[int, list[tuple[str, Role]]] = {}
    for number, unit, role in assignments:
        units[unit.id] = unit
        by_task.setdefault(number, []).append((unit.name, Role(role)))
    answers = {}
    for entry, number, unit in entries:
        if entry.status == Status.NOT_STARTED and not entry.text.strip():
            continue
        units[unit.id] = unit
        answers[(unit.name, number)] = Answer(
            task=number, text=entry.text, status=_printed_status(entry.status), reason=entry.reason
        )
    contacts = await _first_contacts(session, list(units))
    contacts.update(await _form_headers(session, round_id))
    submissions = await _submissions(session, round_id, units)
    evidence = await _evidence(session, round_id, evidence_ids) if with_evidence else []
    return RoundData(
        plan=plan,
        round_name=round_.name,
        round_due=round_.due_date,
        units=[
            UnitInfo(u.name, u.short_name, *contacts.get(u.id, ("", "")))
            for u in sorted(units.values(), key=lambda u: (u.position, u.id))
        ],
        assignments=by_task,
        answers=answers,
        submissions=submissions,
        evidence=evidence,
        timezone=plan_row.timezone,
        draft=drafts,
    )


async def _current_rows(session: AsyncSession, round_id: int) -> list:
    """(answer, task number, unit) of every answer as it stands now."""
    return list(
        (
            await session.exec(
                select(ProgressEntry, Task.number, Unit)
                .join(Task, Task.id == ProgressEntry.task_id)
                .join(Unit, Unit.id == ProgressEntry.unit_id)
                .where(ProgressEntry.round_id == round_id)
            )
        ).all()
    )


async def _submitted_rows(session: AsyncSession, round_id: int) -> tuple[list, set[int]]:
    """(answer, task number, unit) of each unit's last submitted version, and the ids of the
    evidence that was part of it."""
    latest = await submitted.latest_versions(session, round_id)
    if not latest:
        return [], set()
    rows = (
        await session.exec(
            select(SubmittedAnswer, Task.number, Unit)
            .join(Task, Task.id == SubmittedAnswer.task_id)
            .join(SubmissionVersion, SubmissionVersion.id == SubmittedAnswer.version_id)
            .join(Unit, Unit.id == SubmissionVersion.unit_id)
            .where(SubmittedAnswer.version_id.in_([v.id for v in latest.values()]))
        )
    ).all()
    return list(rows), {i for answer, _, _ in rows for i in answer.evidence}


def _printed_status(status: str) -> Status | None:
    """The status a form prints in 【】: only what the text alone does not say.

    Work under way is what a plain answer means on the official form, so it is printed as the
    office writes it, without a mark; 已完成 and 不涉及 (with its reason) are marked.
    """
    printed = Status(status)
    return printed if printed in (Status.DONE, Status.NOT_APPLICABLE) else None


async def _form_headers(session: AsyncSession, round_id: int) -> dict[int, tuple[str, str]]:
    rows = (await session.exec(select(FormHeader).where(FormHeader.round_id == round_id))).all()
    return {h.unit_id: (h.contact, h.phone) for h in rows}


async def _first_contacts(
    session: AsyncSession, unit_ids: list[int]
) -> dict[int, tuple[str, str]]:
    """The name and phone printed on a unit's form: its earliest active contact."""
    rows = (
        await session.exec(
            select(Contact)
            .where(Contact.unit_id.in_(unit_ids), Contact.active.is_(True))
            .order_by(Contact.id)
        )
    ).all()
    found: dict[int, tuple[str, str]] = {}
    for contact in rows:
        found.setdefault(contact.unit_id, (contact.name, contact.phone))
    return found


async def _submissions(
    session: AsyncSession, round_id: int, units: dict[int, Unit]
) -> dict[str, SubmissionInfo]:
    rows = (
        await session.exec(
            select(Submission, Contact)
            .join(Contact, Contact.id == Submission.contact_id, isouter=True)
            .where(Submission.round_id == round_id)
        )
    ).all()
    out = {}
    for submission, contact in rows:
        unit = units.get(submission.unit_id) or await session.get(Unit, submission.unit_id)
        out[unit.name] = SubmissionInfo(
            unit=unit.name,
            contact=contact.name if contact else "",
            submitted_at=submission.submitted_at,
            on_time=submission.on_time,
            receipt=submission.receipt_no,
            version=submission.version,
        )
    return out


async def _evidence(
    session: AsyncSession, round_id: int, only: set[int] | None
) -> list[EvidenceFile]:
    """The round's evidence files; `only` (attachment ids): those that were submitted."""
    if only is not None and not only:
        return []
    query = (
        select(Attachment, Task.number, Unit.name)
        .join(ProgressEntry, ProgressEntry.id == Attachment.entry_id)
        .join(Task, Task.id == ProgressEntry.task_id)
        .join(Unit, Unit.id == ProgressEntry.unit_id)
        .where(ProgressEntry.round_id == round_id)
        .order_by(Attachment.id)
    )
    if only is not None:
        query = query.where(Attachment.id.in_(sorted(only)))
    rows = (await session.exec(query)).all()
    return [EvidenceFile(name, number, a.file_name, a.content) for a, number, name in rows]


@dataclasses.dataclass
class Preview:
    """A unit's own form with its current answers: a draft unless they are the submitted ones."""

    file_name: str
    data: bytes
    draft: bool
    version: int | None  # the submitted version it shows, when it is not a draft


async def preview_form(session: AsyncSession, round_id: int, unit_id: int) -> Preview:
    """The unit's form with the answers as they stand, marked 草稿，未提交 on every page
    when they are not exactly its last submitted version (never submitted, or changed since)."""
    latest = await submitted.latest_version(session, round_id, unit_id)
    same = latest is not None and not await submitted.unsubmitted_tasks(session, round_id, unit_id)
    name, payload = await unit_form_docx(session, round_id, unit_id, drafts=not same)
    return Preview(name, payload, not same, latest.version if same else None)


async def unit_form_docx(
    session: AsyncSession,
    round_id: int,
    unit_id: int,
    *,
    only_own_tasks: bool = False,
    drafts: bool = False,
) -> tuple[str, bytes]:
    """The unit's filled form for the round: (file name, DOCX bytes); its last submitted
    version, or with `drafts` its current answers marked as a draft."""
    from ledger.archive import safe_filename
    from ledger.docx_forms import unit_form_bytes

    data = await round_data(session, round_id, drafts=drafts)
    unit = await session.get(Unit, unit_id)
    if unit.name not in {u.name for u in data.units}:
        raise NotFound(f"{unit.name} answers for nothing in this round")
    payload = unit_form_bytes(data, unit.name, only_own_tasks=only_own_tasks)
    return f"{safe_filename(unit.name)}-{data.round_due.isoformat()}.docx", payload


async def find_round_unit(session: AsyncSession, round_id: int, name: str) -> Unit:
    """A unit of the round's plan directory by its name, short name or alias."""
    from storage.services.invites import find_unit

    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    plan = await session.get(Plan, round_.plan_id)
    try:
        return await find_unit(session, name, plan.directory_key or None)
    except NotFound:
        where = f"directory “{plan.directory_key}”" if plan.directory_key else "any directory"
        raise NotFound(
            f"no unit called “{name}” in {where} of plan {plan.key} (see `taizhang units list`)"
        ) from None
