"""What a unit submitted: every version of its report for a round, and the answers of each.

`submit()` (storage.services.reporting) records a version with `record_version`; the archive
prints each unit's latest version (`latest_versions`, `answers_of`), and the contact is shown
which tasks changed since (`unsubmitted_tasks`). Answers are compared by what they say —
status, text, reason and evidence — so a change made and undone is no change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Status
from storage.models import (
    Attachment,
    ProgressEntry,
    SubmissionVersion,
    SubmittedAnswer,
    Task,
)


@dataclass(frozen=True)
class AnswerState:
    """An answer as far as the archive is concerned."""

    status: str
    text: str
    reason: str
    evidence: tuple[int, ...]  # attachment ids, in the order they came
    entry_version: int = 0

    @property
    def says_something(self) -> bool:
        return bool(self.status != Status.NOT_STARTED or self.text or self.reason or self.evidence)


def _said(state: AnswerState | None) -> tuple | None:
    """What an answer says, for comparing; None when it says nothing."""
    if state is None or not state.says_something:
        return None
    return (state.status, state.text, state.reason, state.evidence)


async def current_answers(
    session: AsyncSession, round_id: int, unit_id: int
) -> dict[int, AnswerState]:
    """The unit's answers as they stand now, by task id (only those that say something)."""
    entries = (
        await session.exec(
            select(ProgressEntry).where(
                ProgressEntry.round_id == round_id, ProgressEntry.unit_id == unit_id
            )
        )
    ).all()
    files: dict[int, list[int]] = {}
    if entries:
        rows = (
            await session.exec(
                select(Attachment.entry_id, Attachment.id)
                .where(Attachment.entry_id.in_([e.id for e in entries]))
                .order_by(Attachment.id)
            )
        ).all()
        for entry_id, attachment_id in rows:
            files.setdefault(entry_id, []).append(attachment_id)
    found = {}
    for entry in entries:
        state = AnswerState(
            entry.status, entry.text, entry.reason, tuple(files.get(entry.id, ())), entry.version
        )
        if state.says_something:
            found[entry.task_id] = state
    return found


async def latest_version(
    session: AsyncSession, round_id: int, unit_id: int
) -> SubmissionVersion | None:
    return (
        await session.exec(
            select(SubmissionVersion)
            .where(SubmissionVersion.round_id == round_id, SubmissionVersion.unit_id == unit_id)
            .order_by(SubmissionVersion.version.desc())
        )
    ).first()


async def versions_of(
    session: AsyncSession, round_id: int, unit_id: int
) -> list[SubmissionVersion]:
    """Every submitted version of the unit's report for the round, oldest first."""
    return list(
        (
            await session.exec(
                select(SubmissionVersion)
                .where(
                    SubmissionVersion.round_id == round_id, SubmissionVersion.unit_id == unit_id
                )
                .order_by(SubmissionVersion.version)
            )
        ).all()
    )


async def latest_versions(session: AsyncSession, round_id: int) -> dict[int, SubmissionVersion]:
    """Each unit's latest submitted version in the round, by unit id."""
    rows = (
        await session.exec(
            select(SubmissionVersion)
            .where(SubmissionVersion.round_id == round_id)
            .order_by(SubmissionVersion.unit_id, SubmissionVersion.version)
        )
    ).all()
    return {row.unit_id: row for row in rows}  # the last of each unit wins


async def answers_of(session: AsyncSession, version_id: int) -> dict[int, AnswerState]:
    """The answers of one submitted version, by task id."""
    rows = (
        await session.exec(select(SubmittedAnswer).where(SubmittedAnswer.version_id == version_id))
    ).all()
    return {
        row.task_id: AnswerState(
            row.status, row.text, row.reason, tuple(row.evidence), row.entry_version
        )
        for row in rows
    }


async def unsubmitted_tasks(session: AsyncSession, round_id: int, unit_id: int) -> list[int]:
    """The numbers of the tasks whose answer differs from the last submitted version."""
    now = await current_answers(session, round_id, unit_id)
    latest = await latest_version(session, round_id, unit_id)
    then = await answers_of(session, latest.id) if latest else {}
    changed = {
        task_id
        for task_id in now.keys() | then.keys()
        if _said(now.get(task_id)) != _said(then.get(task_id))
    }
    if not changed:
        return []
    numbers = (await session.exec(select(Task.number).where(Task.id.in_(changed)))).all()
    return sorted(numbers)


async def record_version(
    session: AsyncSession,
    round_id: int,
    unit_id: int,
    version: int,
    *,
    at: dt.datetime,
    contact_id: int | None,
    by_label: str,
    source: str,
    file_name: str = "",
) -> SubmissionVersion:
    """Keep the unit's answers as they stand now as the given submitted version."""
    row = SubmissionVersion(
        round_id=round_id,
        unit_id=unit_id,
        version=version,
        at=at,
        contact_id=contact_id,
        by_label=by_label,
        source=source,
        file_name=file_name,
    )
    session.add(row)
    await session.flush()
    for task_id, state in (await current_answers(session, round_id, unit_id)).items():
        session.add(
            SubmittedAnswer(
                version_id=row.id,
                task_id=task_id,
                status=state.status,
                text=state.text,
                reason=state.reason,
                entry_version=state.entry_version,
                evidence=list(state.evidence),
            )
        )
    await session.flush()
    return row
