"""A round's status for the office: who has reported, who is late, who cannot be reached.

No Telegram: the bot's /status, `taizhang status` and a web console read the same results.
A round is read in a fixed number of statements (about ten), however many units and tasks it
has; one unit's detail in a few more. Every call asks `staff.authorize` first; choosing whom
to nudge asks for an admin.

A unit's state in a round is one of
- `on_time` / `late`: submitted, before or after the deadline (the first submission counts);
- `partly`: not submitted, some of its tasks answered;
- `not_started`: not submitted, nothing answered.
A submitted unit may have changed answers since (`pending_changes`): staff see those too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Assignment,
    Attachment,
    Contact,
    Plan,
    ProgressEntry,
    Round,
    Submission,
    SubmissionVersion,
    SubmittedAnswer,
    Task,
    Unit,
)
from storage.services import review, staff, submitted
from storage.services.errors import NotFound, ServiceError
from storage.services.reporting import is_answered, task_title
from storage.services.staff import StaffMember
from storage.services.submitted import AnswerState

ON_TIME, LATE, PARTLY, NOT_STARTED = "on_time", "late", "partly", "not_started"
STATES = (ON_TIME, LATE, PARTLY, NOT_STARTED)
REPORTED = frozenset({ON_TIME, LATE})

# Unit kinds as the office groups them: townships and street offices together.
DEPARTMENT, TOWN, SECTION = "department", "town", "section"
KIND_GROUPS = (DEPARTMENT, TOWN, SECTION)
_GROUP_OF = {"department": DEPARTMENT, "township": TOWN, "street": TOWN, "section": SECTION}


def kind_group(kind: str) -> str:
    return _GROUP_OF.get(kind, DEPARTMENT)


class StatusError(ServiceError):
    """code: round_closed (no nudges in a closed round) · not_assigned (the unit has no task
    in the round's plan)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


# ------------------------------------------------------------------ results


@dataclass
class UnitStatus:
    unit_id: int
    name: str
    short_name: str
    kind: str  # department | township | street | section
    state: str  # on_time | late | partly | not_started
    answered: int
    total: int
    contacts: int = 0  # active contacts
    reachable_contacts: int = 0  # active and reachable
    submitted_at: dt.datetime | None = None  # UTC, the first submission
    version: int = 0  # the latest submitted version (0: never submitted)
    version_at: dt.datetime | None = None  # UTC, when the latest version came
    receipt_no: str = ""
    pending_changes: list[int] = field(default_factory=list)  # task numbers not yet submitted
    review: str = ""  # storage.services.review: "" · returned · resubmitted · accepted

    @property
    def group(self) -> str:
        return kind_group(self.kind)

    @property
    def label(self) -> str:
        """The short name the ledger uses (医保局), else the full name."""
        return self.short_name or self.name

    @property
    def reported(self) -> bool:
        return self.state in REPORTED

    @property
    def reachable(self) -> bool:
        return self.reachable_contacts > 0


@dataclass
class TaskCount:
    task_id: int
    number: int
    title: str
    answered: int  # assigned units that answered it
    total: int  # units assigned to it


@dataclass(frozen=True)
class Cell:
    """One unit's answer to one task it is assigned, for a matrix of units × tasks."""

    status: str  # not_started | in_progress | done | not_applicable
    answered: bool
    changed: bool = False  # differs from the unit's last submitted version


@dataclass
class RoundStatus:
    round_id: int
    round_name: str
    plan_key: str
    plan_title: str
    due_date: dt.date
    deadline_at: dt.datetime
    timezone: str
    open: bool
    units: list[UnitStatus]
    tasks: list[TaskCount]
    overdue: bool = False  # past the deadline (as of the `now` asked with)
    as_of: dt.datetime | None = None  # the `now` asked with
    # (unit id, task id) → the answer as it stands, for every task a unit is assigned
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(STATES, 0)
        for unit in self.units:
            found[unit.state] += 1
        return found

    @property
    def unreachable(self) -> list[UnitStatus]:
        """Units with no contact the bot can reach."""
        return [unit for unit in self.units if not unit.reachable]

    @property
    def not_reported(self) -> list[UnitStatus]:
        return [unit for unit in self.units if not unit.reported]

    def groups(self) -> list[str]:
        """The kinds present, in the office's order."""
        present = {unit.group for unit in self.units}
        return [group for group in KIND_GROUPS if group in present]

    def counts_by_group(self) -> dict[str, dict[str, int]]:
        found = {group: dict.fromkeys(STATES, 0) for group in self.groups()}
        for unit in self.units:
            found[unit.group][unit.state] += 1
        return found

    def not_reported_by_group(self) -> dict[str, list[UnitStatus]]:
        found: dict[str, list[UnitStatus]] = {group: [] for group in self.groups()}
        for unit in self.not_reported:
            found[unit.group].append(unit)
        return {group: units for group, units in found.items() if units}

    def unit(self, unit_id: int) -> UnitStatus | None:
        return next((unit for unit in self.units if unit.unit_id == unit_id), None)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class RoundChoice:
    round_id: int
    name: str
    plan_title: str
    due_date: dt.date
    open: bool


@dataclass
class ContactLine:
    contact_id: int
    name: str
    phone: str
    reachable: bool
    reason: str = ""  # why not, as Telegram said


@dataclass
class VersionLine:
    version: int
    at: dt.datetime  # in the plan's time zone
    by_label: str
    source: str  # bot | import
    file_name: str = ""


@dataclass
class AnswerLine:
    task_id: int
    number: int
    title: str
    role: str  # lead | responsible
    status: str
    text: str
    reason: str
    evidence: int  # attachments
    answered: bool
    changed: bool  # differs from the last submitted version (False when never submitted)
    updated_at: dt.datetime | None = None  # in the plan's time zone
    updated_by: str = ""


@dataclass
class UnitDetail:
    round_id: int
    round_name: str
    due_date: dt.date
    timezone: str
    open: bool
    unit: UnitStatus
    answers: list[AnswerLine]
    versions: list[VersionLine]  # oldest first
    contacts: list[ContactLine]
    on_time: bool | None = None  # None: never submitted

    @property
    def submitted(self) -> bool:
        return bool(self.versions)


# ------------------------------------------------------------------ rounds


async def default_round(session: AsyncSession) -> Round | None:
    """The open round due soonest (an overdue one first: it is the most urgent)."""
    return (
        await session.exec(
            select(Round).where(Round.status == "open").order_by(Round.due_date, Round.id)
        )
    ).first()


async def rounds_to_pick(
    session: AsyncSession, by: int | StaffMember, *, limit: int = 8
) -> list[RoundChoice]:
    """Open rounds by due date, then the latest closed ones: at most `limit`."""
    await staff.authorize(session, by)
    rows = (
        await session.exec(
            select(Round, Plan.title)
            .join(Plan, Plan.id == Round.plan_id)
            .order_by(Round.due_date.desc(), Round.id.desc())
        )
    ).all()
    choices = [
        RoundChoice(r.id, r.name, title, r.due_date, r.status == "open") for r, title in rows
    ]
    opened = sorted((c for c in choices if c.open), key=lambda c: (c.due_date, c.round_id))
    return (opened + [c for c in choices if not c.open])[:limit]


async def _round_and_plan(session: AsyncSession, round_id: int) -> tuple[Round, Plan]:
    row = (
        await session.exec(
            select(Round, Plan).join(Plan, Plan.id == Round.plan_id).where(Round.id == round_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    return row


# ------------------------------------------------------------------ the round


async def round_status(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    *,
    now: dt.datetime | None = None,
) -> RoundStatus:
    """Every unit assigned to the round's plan: state, x of y answered, submission, contacts;
    and per task how many of its units answered."""
    await staff.authorize(session, by)
    round_, plan = await _round_and_plan(session, round_id)
    assignments = (
        await session.exec(
            select(
                Task.id,
                Task.number,
                Task.name,
                func.substr(Task.content, 1, 40),
                Assignment.unit_id,
            )
            .join(Assignment, Assignment.task_id == Task.id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Task.plan_id == plan.id, Task.retired.is_(False), Unit.active.is_(True))
            .order_by(Task.position, Assignment.unit_id)
        )
    ).all()
    unit_tasks: dict[int, set[int]] = defaultdict(set)
    task_units: dict[int, set[int]] = defaultdict(set)
    task_info: dict[int, tuple[int, str]] = {}
    for task_id, number, name, content, unit_id in assignments:
        unit_tasks[unit_id].add(task_id)
        task_units[task_id].add(unit_id)
        task_info[task_id] = (number, task_title(SimpleNamespace(name=name, content=content)))
    units = (
        await session.exec(
            select(Unit).where(Unit.id.in_(list(unit_tasks))).order_by(Unit.position, Unit.id)
        )
    ).all()
    current = await _current_answers(session, round_id)
    answered: dict[int, set[int]] = defaultdict(set)  # unit → tasks answered
    for (unit_id, task_id), (state, _) in current.items():
        if task_id in unit_tasks.get(unit_id, ()) and is_answered(state.status, state.text):
            answered[unit_id].add(task_id)
    submissions = {
        row.unit_id: row
        for row in (
            await session.exec(select(Submission).where(Submission.round_id == round_id))
        ).all()
    }
    latest = await submitted.latest_versions(session, round_id)
    kept = await _submitted_answers(session, [v.id for v in latest.values()])
    pending = _pending_changes(current, latest, kept)
    reviews = await review.states_from(
        session, round_id, {u: v.version for u, v in latest.items()}
    )
    contacts = await _contact_counts(session, list(unit_tasks))
    lines = []
    for unit in units:
        submission = submissions.get(unit.id)
        done = len(answered[unit.id])
        if submission is not None:
            state = ON_TIME if submission.on_time else LATE
        else:
            state = PARTLY if done else NOT_STARTED
        version = latest.get(unit.id)
        active, reachable = contacts.get(unit.id, (0, 0))
        lines.append(
            UnitStatus(
                unit_id=unit.id,
                name=unit.name,
                short_name=unit.short_name,
                kind=unit.kind,
                state=state,
                answered=done,
                total=len(unit_tasks[unit.id]),
                contacts=active,
                reachable_contacts=reachable,
                submitted_at=submission.submitted_at if submission else None,
                version=version.version if version else (submission.version if submission else 0),
                version_at=version.at if version else None,
                receipt_no=submission.receipt_no if submission else "",
                pending_changes=sorted(
                    task_info[t][0] for t in pending.get(unit.id, ()) if t in task_info
                ),
                review=reviews[unit.id].state if unit.id in reviews else "",
            )
        )
    tasks = [
        TaskCount(
            task_id,
            number,
            title,
            answered=sum(1 for u in task_units[task_id] if task_id in answered[u]),
            total=len(task_units[task_id]),
        )
        for task_id, (number, title) in task_info.items()
    ]
    cells = {}
    for unit_id, task_ids in unit_tasks.items():
        for task_id in task_ids:
            found = current.get((unit_id, task_id))
            cells[unit_id, task_id] = Cell(
                status=found[0].status if found else "not_started",
                answered=task_id in answered[unit_id],
                changed=task_id in pending.get(unit_id, ()),
            )
    return RoundStatus(
        round_id=round_.id,
        round_name=round_.name,
        plan_key=plan.key,
        plan_title=plan.title,
        due_date=round_.due_date,
        deadline_at=round_.deadline_at,
        timezone=plan.timezone,
        open=round_.status == "open",
        units=lines,
        tasks=tasks,
        overdue=now is not None and now >= round_.deadline_at,
        as_of=now,
        cells=cells,
    )


async def _current_answers(
    session: AsyncSession, round_id: int, unit_id: int | None = None
) -> dict[tuple[int, int], tuple[AnswerState, ProgressEntry]]:
    """Every entry of the round (or of one unit), with its attachments, by (unit, task)."""
    query = select(ProgressEntry).where(ProgressEntry.round_id == round_id)
    files_query = (
        select(Attachment.entry_id, Attachment.id)
        .join(ProgressEntry, ProgressEntry.id == Attachment.entry_id)
        .where(ProgressEntry.round_id == round_id)
        .order_by(Attachment.id)
    )
    if unit_id is not None:
        query = query.where(ProgressEntry.unit_id == unit_id)
        files_query = files_query.where(ProgressEntry.unit_id == unit_id)
    entries = (await session.exec(query)).all()
    files: dict[int, list[int]] = defaultdict(list)
    if entries:
        for entry_id, attachment_id in (await session.exec(files_query)).all():
            files[entry_id].append(attachment_id)
    return {
        (entry.unit_id, entry.task_id): (
            AnswerState(
                entry.status, entry.text, entry.reason, tuple(files[entry.id]), entry.version
            ),
            entry,
        )
        for entry in entries
    }


async def _submitted_answers(
    session: AsyncSession, version_ids: list[int]
) -> dict[int, dict[int, AnswerState]]:
    """The answers of the given submitted versions: version → task → answer."""
    kept: dict[int, dict[int, AnswerState]] = defaultdict(dict)
    if not version_ids:
        return kept
    rows = (
        await session.exec(
            select(SubmittedAnswer).where(SubmittedAnswer.version_id.in_(version_ids))
        )
    ).all()
    for row in rows:
        kept[row.version_id][row.task_id] = AnswerState(
            row.status, row.text, row.reason, tuple(row.evidence), row.entry_version
        )
    return kept


def _pending_changes(
    current: dict[tuple[int, int], tuple[AnswerState, ProgressEntry]],
    latest: dict[int, SubmissionVersion],
    kept: dict[int, dict[int, AnswerState]],
) -> dict[int, set[int]]:
    """Per submitted unit, the tasks whose answer differs from its last submitted version, by
    the same comparison as `submitted.unsubmitted_tasks` (what an answer says)."""
    now_by_unit: dict[int, dict[int, AnswerState]] = defaultdict(dict)
    for (unit_id, task_id), (state, _) in current.items():
        if state.says_something:
            now_by_unit[unit_id][task_id] = state
    changed: dict[int, set[int]] = {}
    for unit_id, version in latest.items():
        now, then = now_by_unit.get(unit_id, {}), kept.get(version.id, {})
        tasks = {
            task_id
            for task_id in now.keys() | then.keys()
            if submitted._said(now.get(task_id)) != submitted._said(then.get(task_id))
        }
        if tasks:
            changed[unit_id] = tasks
    return changed


async def _contact_counts(
    session: AsyncSession, unit_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """unit → (active contacts, of those reachable)."""
    if not unit_ids:
        return {}
    rows = (
        await session.exec(
            select(Contact.unit_id, Contact.reachable, func.count())
            .where(Contact.unit_id.in_(unit_ids), Contact.active.is_(True))
            .group_by(Contact.unit_id, Contact.reachable)
        )
    ).all()
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for unit_id, reachable, count in rows:
        counts[unit_id][0] += count
        if reachable:
            counts[unit_id][1] += count
    return {unit_id: (a, r) for unit_id, (a, r) in counts.items()}


# ------------------------------------------------------------------ one unit


async def unit_detail(
    session: AsyncSession, by: int | StaffMember, round_id: int, unit_id: int
) -> UnitDetail:
    """One unit in a round: its answers (current, and whether each differs from what it last
    submitted), every submitted version and when it came, its contacts and reachability."""
    await staff.authorize(session, by)
    round_, plan = await _round_and_plan(session, round_id)
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    zone = ZoneInfo(plan.timezone)
    tasks = (
        await session.exec(
            select(Task, Assignment.role)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(Task.plan_id == plan.id, Assignment.unit_id == unit_id, Task.retired.is_(False))
            .order_by(Task.position)
        )
    ).all()
    if not tasks:
        raise StatusError("not_assigned", f"{unit.name} has no task in {plan.title}")
    current = await _current_answers(session, round_id, unit_id)
    versions = await submitted.versions_of(session, round_id, unit_id)
    latest = versions[-1] if versions else None
    then = (await _submitted_answers(session, [latest.id]))[latest.id] if latest else {}
    submission = (
        await session.exec(
            select(Submission).where(
                Submission.round_id == round_id, Submission.unit_id == unit_id
            )
        )
    ).first()
    answers = []
    for task, role in tasks:
        state, entry = current.get((unit_id, task.id), (None, None))
        now_said = submitted._said(state)
        answers.append(
            AnswerLine(
                task_id=task.id,
                number=task.number,
                title=task_title(task),
                role=role,
                status=state.status if state else "not_started",
                text=state.text if state else "",
                reason=state.reason if state else "",
                evidence=len(state.evidence) if state else 0,
                answered=bool(state and is_answered(state.status, state.text)),
                changed=latest is not None and now_said != submitted._said(then.get(task.id)),
                updated_at=entry.updated_at.astimezone(zone) if entry and entry.version else None,
                updated_by=entry.updated_by if entry else "",
            )
        )
    contacts = (
        await session.exec(
            select(Contact)
            .where(Contact.unit_id == unit_id, Contact.active.is_(True))
            .order_by(Contact.id)
        )
    ).all()
    done = sum(1 for a in answers if a.answered)
    if submission is not None:
        state_name = ON_TIME if submission.on_time else LATE
    else:
        state_name = PARTLY if done else NOT_STARTED
    reachable = sum(1 for c in contacts if c.reachable)
    summary = UnitStatus(
        unit_id=unit.id,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        state=state_name,
        answered=done,
        total=len(answers),
        contacts=len(contacts),
        reachable_contacts=reachable,
        submitted_at=submission.submitted_at if submission else None,
        version=latest.version if latest else 0,
        version_at=latest.at if latest else None,
        receipt_no=submission.receipt_no if submission else "",
        pending_changes=[a.number for a in answers if a.changed],
        review=(await review.returned_state(session, round_id, unit_id)).state,
    )
    return UnitDetail(
        round_id=round_.id,
        round_name=round_.name,
        due_date=round_.due_date,
        timezone=plan.timezone,
        open=round_.status == "open",
        unit=summary,
        answers=answers,
        versions=[
            VersionLine(v.version, v.at.astimezone(zone), v.by_label, v.source, v.file_name)
            for v in versions
        ],
        contacts=[
            ContactLine(c.id, c.name, c.phone, c.reachable, c.unreachable_reason) for c in contacts
        ],
        on_time=submission.on_time if submission else None,
    )


# ------------------------------------------------------------------ whom to nudge


@dataclass(frozen=True)
class NudgeContact:
    contact_id: int
    chat_id: int
    name: str
    language: str | None


@dataclass
class NudgeTarget:
    unit_id: int
    name: str  # in full, for the contact's message
    label: str  # the short name, for the staff's lists
    answered: int
    total: int
    contacts: list[NudgeContact]


@dataclass
class NudgePlan:
    """Whom a nudge reaches: every unit not yet submitted (or the one asked for)."""

    by: StaffMember
    round_id: int
    round_name: str
    due_date: dt.date
    timezone: str
    day: dt.date  # today in the plan's time zone: a unit is nudged once a day
    overdue: bool
    targets: list[NudgeTarget]  # units not yet submitted with a reachable contact
    unreachable: list[str]  # (short names) units not yet submitted nobody can be reached at
    already_submitted: list[str] = field(default_factory=list)  # short names of those that have


async def nudge_targets(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    *,
    now: dt.datetime,
    unit_id: int | None = None,
) -> NudgePlan:
    """Every reachable contact of every unit not yet submitted in the round (or of the one
    unit asked for). Admins only; the round must be open."""
    member = await staff.authorize(session, by, admin=True)
    status = await round_status(session, member, round_id, now=now)
    if not status.open:
        raise StatusError("round_closed", f"the round {status.round_name} is closed")
    units = status.units
    if unit_id is not None:
        units = [u for u in units if u.unit_id == unit_id]
        if not units:
            raise StatusError("not_assigned", f"unit {unit_id} has no task in this round")
    waiting = [u for u in units if not u.reported]
    contacts: dict[int, list[NudgeContact]] = defaultdict(list)
    if waiting:
        rows = (
            await session.exec(
                select(Contact)
                .where(
                    Contact.unit_id.in_([u.unit_id for u in waiting]),
                    Contact.active.is_(True),
                    Contact.reachable.is_(True),
                )
                .order_by(Contact.unit_id, Contact.id)
            )
        ).all()
        for c in rows:
            contacts[c.unit_id].append(NudgeContact(c.id, c.chat_id, c.name, c.language))
    return NudgePlan(
        by=member,
        round_id=status.round_id,
        round_name=status.round_name,
        due_date=status.due_date,
        timezone=status.timezone,
        day=now.astimezone(ZoneInfo(status.timezone)).date(),
        overdue=status.overdue,
        targets=[
            NudgeTarget(u.unit_id, u.name, u.label, u.answered, u.total, contacts[u.unit_id])
            for u in waiting
            if contacts.get(u.unit_id)
        ],
        unreachable=[u.label for u in waiting if not contacts.get(u.unit_id)],
        already_submitted=[u.label for u in units if u.reported],
    )
