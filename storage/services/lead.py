"""A lead unit (牵头) reads what its co-units answered for the tasks it leads, so that it can
write the consolidated entry. Only the lead of the task may; the answer shown is the one a
co-unit submitted, or its draft, marked as such, when it has submitted none."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Assignment, ProgressEntry, Unit
from storage.services import submitted
from storage.services.reporting import ReportError, _assigned_task, _round, task_title


@dataclass(frozen=True)
class CoAnswer:
    unit_name: str
    role: str  # lead | responsible
    status: str
    text: str
    reason: str
    submitted_version: int | None  # the version the answer comes from; None: a draft
    changed_since: bool = False  # the co-unit changed it after submitting

    @property
    def says_something(self) -> bool:
        return self.status != "not_started" or bool(self.text or self.reason)


@dataclass(frozen=True)
class CoUnits:
    round_name: str
    task_number: int
    task_title: str
    answers: list[CoAnswer]

    @property
    def answered(self) -> int:
        return sum(1 for a in self.answers if a.says_something)


async def co_unit_answers(
    session: AsyncSession, round_id: int, unit_id: int, task_id: int
) -> CoUnits:
    """The other units' answers for a task `unit_id` leads; ReportError("not_lead") else."""
    round_ = await _round(session, round_id, must_be_open=False)
    task, role = await _assigned_task(session, round_, unit_id, task_id)
    if role != "lead":
        raise ReportError("not_lead")
    others = (
        await session.exec(
            select(Assignment, Unit)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.task_id == task_id, Assignment.unit_id != unit_id)
            .order_by(Assignment.position, Unit.position)
        )
    ).all()
    drafts = {
        entry.unit_id: entry
        for entry in (
            await session.exec(
                select(ProgressEntry).where(
                    ProgressEntry.round_id == round_id, ProgressEntry.task_id == task_id
                )
            )
        ).all()
    }
    versions = await submitted.latest_versions(session, round_id)
    answers = []
    for assignment, unit in others:
        answers.append(
            await _answer(session, assignment, unit, versions.get(unit.id), drafts, task_id)
        )
    return CoUnits(round_.name, task.number, task_title(task, 24), answers)


async def _answer(session, assignment, unit, version, drafts, task_id) -> CoAnswer:
    draft = drafts.get(unit.id)
    name = unit.short_name or unit.name
    if version is not None:
        state = (await submitted.answers_of(session, version.id)).get(task_id)
        if state is not None or draft is None:
            status = state.status if state else "not_started"
            text, reason = (state.text, state.reason) if state else ("", "")
            changed = draft is not None and (draft.status, draft.text, draft.reason) != (
                status,
                text,
                reason,
            )
            return CoAnswer(name, assignment.role, status, text, reason, version.version, changed)
    if draft is None:
        return CoAnswer(name, assignment.role, "not_started", "", "", None)
    return CoAnswer(name, assignment.role, draft.status, draft.text, draft.reason, None)
