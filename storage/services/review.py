"""Review: the office accepts a unit's submitted report, or returns it with a comment (the
whole report, or one task); the unit corrects it and submits again.

No Telegram: the bot's /review, `taizhang review` and a web console call the same functions.
A decision acts on one submitted version: deciding on a version that is no longer the unit's
latest is refused (`stale`), and so is deciding on a unit that has submitted nothing.
Deciding is for admins (`staff.authorize(admin=True)`), reading for every staff member; each
decision is kept as a `ReviewDecision` row and in the audit trail (review.accept,
review.return). Telling the unit's contacts is scheduler.review_notices' part.

A unit's review state in a round follows from its decisions and its latest version:
- `""` (NOT_REVIEWED): nothing decided yet on any version;
- `returned`: the latest version was returned (whole, or some of its tasks);
- `resubmitted`: a newer version came after the last decision, so it awaits review again;
- `accepted`: the latest version was accepted.
On one version the latest decision counts: returns made after an acceptance are in force,
and an acceptance ends the returns before it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, literal
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.text import clean_text
from storage.models import (
    Assignment,
    Contact,
    Plan,
    ReviewDecision,
    Round,
    Submission,
    SubmissionVersion,
    Task,
    Unit,
)
from storage.services import audit, staff, submitted
from storage.services.errors import NotFound, ServiceError
from storage.services.reporting import is_answered, task_title
from storage.services.staff import StaffMember
from storage.types import utcnow

ACCEPTED, RETURNED = "accepted", "returned"  # decisions (and states)
NOT_REVIEWED, RESUBMITTED = "", "resubmitted"  # the other states
AWAITING = frozenset({NOT_REVIEWED, RESUBMITTED})
MAX_COMMENT_CHARS = 500


class ReviewError(ServiceError):
    """code: not_submitted · stale (`current`: the latest version) · round_closed (no returns
    in a closed round: the unit can no longer correct it) · comment_needed · comment_too_long
    (`limit`, `length`) · not_assigned (the task is not one the unit answers for)."""

    def __init__(self, code: str, message: str = "", **params: object):
        super().__init__(message or code)
        self.code = code
        self.params = params


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class DecisionLine:
    decision_id: int
    version: int
    decision: str  # accepted | returned
    task_id: int | None  # None: the whole report
    task_number: int  # 0: the whole report
    comment: str
    by_label: str
    at: dt.datetime  # UTC

    @property
    def whole(self) -> bool:
        return self.task_id is None


@dataclass
class ReviewState:
    unit_id: int
    state: str  # "" · returned · resubmitted · accepted
    version: int  # the latest submitted version (0: nothing submitted)
    reviewed_version: int = 0  # the version of the last decision (0: none)
    returns: list[DecisionLine] = field(default_factory=list)  # in force (state returned)
    history: list[DecisionLine] = field(default_factory=list)  # every decision, oldest first

    @property
    def awaiting(self) -> bool:
        """Submitted, and the latest version not decided on yet."""
        return self.version > 0 and self.state in AWAITING

    @property
    def whole_returns(self) -> list[DecisionLine]:
        return [d for d in self.returns if d.whole]

    def task_returns(self, task_id: int) -> list[DecisionLine]:
        return [d for d in self.returns if d.task_id == task_id]

    @property
    def returned_task_ids(self) -> set[int]:
        return {d.task_id for d in self.returns if d.task_id is not None}

    @property
    def returned_task_numbers(self) -> list[int]:
        return sorted({d.task_number for d in self.returns if d.task_id is not None})


@dataclass
class UnitLine:
    """A submitted unit on the review list."""

    unit_id: int
    name: str
    label: str  # the short name
    version: int
    at: dt.datetime  # in the plan's time zone
    by_label: str
    state: str


@dataclass
class RoundReview:
    round_id: int
    round_name: str
    due_date: dt.date
    timezone: str
    open: bool
    awaiting: list[UnitLine]  # latest version not decided yet, the oldest first
    returned: list[UnitLine]
    accepted: list[UnitLine]
    not_submitted: int  # units with tasks in the round that submitted nothing


@dataclass
class TaskLine:
    task_id: int
    number: int
    title: str
    answered: bool  # in the latest submitted version
    returned: bool  # returned now


@dataclass
class UnitReview:
    """One unit's latest submission, its state and decisions, and its tasks to return one."""

    round_id: int
    round_name: str
    due_date: dt.date
    timezone: str
    open: bool
    unit_id: int
    unit_name: str
    unit_label: str
    version: int  # 0: nothing submitted
    version_at: dt.datetime | None  # in the plan's time zone
    version_by: str
    on_time: bool | None
    review: ReviewState
    tasks: list[TaskLine]

    @property
    def answered(self) -> int:
        return sum(1 for t in self.tasks if t.answered)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class ContactToTell:
    contact_id: int
    chat_id: int
    name: str
    language: str | None


@dataclass
class Target:
    """What a decision is about to act on, checked: for asking the comment before returning."""

    round_id: int
    round_name: str
    unit_id: int
    unit_name: str
    unit_label: str
    version: int
    task_id: int | None = None
    task_number: int = 0
    task_title: str = ""


@dataclass
class Decided:
    by: StaffMember
    target: Target
    decision: DecisionLine
    already: bool  # the same decision stood already: nothing new was kept
    contacts: list[ContactToTell]  # the unit's reachable contacts, to be told
    unreachable: int = 0  # the unit's active contacts the bot cannot reach


# ------------------------------------------------------------------ states


def _line(row: ReviewDecision, number: int | None) -> DecisionLine:
    return DecisionLine(
        row.id, row.version, row.decision, row.task_id, number or 0, row.comment, row.by_label,
        row.at,
    )  # fmt: skip


async def _decisions(
    session: AsyncSession, round_id: int, unit_id: int | None = None
) -> dict[int, list[DecisionLine]]:
    """Every decision of the round (or of one unit), oldest first, by unit: one statement."""
    query = (
        select(ReviewDecision, Task.number)
        .outerjoin(Task, Task.id == ReviewDecision.task_id)
        .where(ReviewDecision.round_id == round_id)
        .order_by(ReviewDecision.id)
    )
    if unit_id is not None:
        query = query.where(ReviewDecision.unit_id == unit_id)
    found: dict[int, list[DecisionLine]] = defaultdict(list)
    for row, number in (await session.exec(query)).all():
        found[row.unit_id].append(_line(row, number))
    return found


def state_of(unit_id: int, version: int, decisions: list[DecisionLine]) -> ReviewState:
    """The review state of a unit whose latest submitted version is `version` (0: none)."""
    state = ReviewState(unit_id, NOT_REVIEWED, version, history=list(decisions))
    if not decisions:
        return state
    state.reviewed_version = decisions[-1].version
    on_latest = [d for d in decisions if d.version == version]
    if not on_latest:
        state.state = RESUBMITTED if version > state.reviewed_version else NOT_REVIEWED
        return state
    accepted_at = max((i for i, d in enumerate(on_latest) if d.decision == ACCEPTED), default=-1)
    state.returns = [d for d in on_latest[accepted_at + 1 :] if d.decision == RETURNED]
    state.state = RETURNED if state.returns else ACCEPTED
    return state


async def states_from(
    session: AsyncSession,
    round_id: int,
    versions: Mapping[int, int],
    *,
    unit_id: int | None = None,
) -> dict[int, ReviewState]:
    """The review state of each unit of `versions` (unit → its latest submitted version),
    in one statement however many units: for the status service, which has read the versions
    and checked who asks."""
    decisions = await _decisions(session, round_id, unit_id)
    units = set(versions) | set(decisions)
    return {u: state_of(u, versions.get(u, 0), decisions.get(u, [])) for u in units}


async def round_states(
    session: AsyncSession, by: int | StaffMember, round_id: int
) -> dict[int, ReviewState]:
    """Every unit's review state in the round, by unit id (submitted units and those with
    decisions)."""
    await staff.authorize(session, by)
    latest = await submitted.latest_versions(session, round_id)
    return await states_from(session, round_id, {u: v.version for u, v in latest.items()})


async def unit_state(
    session: AsyncSession, by: int | StaffMember, round_id: int, unit_id: int
) -> ReviewState:
    await staff.authorize(session, by)
    return await returned_state(session, round_id, unit_id)


# One statement: the latest submitted version beside each decision (one row, with no decision,
# when there is none), where latest_version and _decisions take two. Built once: it runs for
# every card a contact opens.
_ONE = select(literal(1).label("one")).subquery("one")
_RETURNED_STATE = (
    select(
        select(func.max(SubmissionVersion.version))
        .where(
            SubmissionVersion.round_id == bindparam("round_id"),
            SubmissionVersion.unit_id == bindparam("unit_id"),
        )
        .scalar_subquery(),
        ReviewDecision,
        Task.number,
    )
    .select_from(_ONE)
    .outerjoin(
        ReviewDecision,
        and_(
            ReviewDecision.round_id == bindparam("round_id"),
            ReviewDecision.unit_id == bindparam("unit_id"),
        ),
    )
    .outerjoin(Task, Task.id == ReviewDecision.task_id)
    .order_by(ReviewDecision.id)
)


async def returned_state(session: AsyncSession, round_id: int, unit_id: int) -> ReviewState:
    """The unit's review state, with the returns in force and their comments: the contact's
    own view (the task list and each task's card). The caller checks the person reports for
    the unit; nothing here needs staff rights."""
    params = {"round_id": round_id, "unit_id": unit_id}
    rows = (await session.exec(_RETURNED_STATE, params=params)).all()
    version = rows[0][0] or 0
    decisions = [_line(row, number) for _, row, number in rows if row is not None]
    return state_of(unit_id, version, decisions)


# ------------------------------------------------------------------ reading


async def _round_plan(session: AsyncSession, round_id: int) -> tuple[Round, Plan]:
    row = (
        await session.exec(
            select(Round, Plan).join(Plan, Plan.id == Round.plan_id).where(Round.id == round_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    return row


async def _unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


async def round_review(session: AsyncSession, by: int | StaffMember, round_id: int) -> RoundReview:
    """The submitted units of a round by review state: awaiting review (the longest waiting
    first), returned, accepted; and how many have submitted nothing."""
    await staff.authorize(session, by)
    round_, plan = await _round_plan(session, round_id)
    zone = ZoneInfo(plan.timezone)
    latest = await submitted.latest_versions(session, round_id)
    states = await states_from(session, round_id, {u: v.version for u, v in latest.items()})
    assigned = set(
        (
            await session.exec(
                select(Assignment.unit_id)
                .join(Task, Task.id == Assignment.task_id)
                .join(Unit, Unit.id == Assignment.unit_id)
                .where(Task.plan_id == plan.id, Task.retired.is_(False), Unit.active.is_(True))
                .distinct()
            )
        ).all()
    )
    units = {}
    if latest:
        rows = (await session.exec(select(Unit).where(Unit.id.in_(list(latest))))).all()
        units = {unit.id: unit for unit in rows}
    found: dict[str, list[UnitLine]] = defaultdict(list)
    for unit_id, version in latest.items():
        unit = units.get(unit_id)
        if unit is None:
            continue
        state = states[unit_id]
        line = UnitLine(
            unit_id, unit.name, unit.short_name or unit.name, version.version,
            version.at.astimezone(zone), version.by_label, state.state,
        )  # fmt: skip
        found["awaiting" if state.awaiting else state.state].append(line)
    order = {unit_id: index for index, unit_id in enumerate(sorted(units, key=_position(units)))}
    for lines in found.values():
        lines.sort(key=lambda line: order[line.unit_id])
    found["awaiting"].sort(key=lambda line: line.at)
    return RoundReview(
        round_id=round_.id,
        round_name=round_.name,
        due_date=round_.due_date,
        timezone=plan.timezone,
        open=round_.status == "open",
        awaiting=found["awaiting"],
        returned=found[RETURNED],
        accepted=found[ACCEPTED],
        not_submitted=len(assigned - set(latest)),
    )


def _position(units: Mapping[int, Unit]):
    return lambda unit_id: (units[unit_id].position, unit_id)


async def _unit_tasks(session: AsyncSession, plan_id: int, unit_id: int) -> list[Task]:
    return list(
        (
            await session.exec(
                select(Task)
                .join(Assignment, Assignment.task_id == Task.id)
                .where(
                    Task.plan_id == plan_id,
                    Assignment.unit_id == unit_id,
                    Task.retired.is_(False),
                )
                .order_by(Task.position)
            )
        ).all()
    )


async def unit_review(
    session: AsyncSession, by: int | StaffMember, round_id: int, unit_id: int
) -> UnitReview:
    """One unit: its latest submitted version (when, by whom), its review state and every
    decision, and its tasks (answered in that version, returned now)."""
    await staff.authorize(session, by)
    round_, plan = await _round_plan(session, round_id)
    unit = await _unit(session, unit_id)
    zone = ZoneInfo(plan.timezone)
    latest = await submitted.latest_version(session, round_id, unit_id)
    decisions = await _decisions(session, round_id, unit_id)
    state = state_of(unit_id, latest.version if latest else 0, decisions.get(unit_id, []))
    answers = await submitted.answers_of(session, latest.id) if latest else {}
    submission = (
        await session.exec(
            select(Submission).where(
                Submission.round_id == round_id, Submission.unit_id == unit_id
            )
        )
    ).first()
    tasks = [
        TaskLine(
            task.id,
            task.number,
            task_title(task),
            answered=task.id in answers
            and is_answered(answers[task.id].status, answers[task.id].text),
            returned=task.id in state.returned_task_ids,
        )
        for task in await _unit_tasks(session, plan.id, unit_id)
    ]
    return UnitReview(
        round_id=round_.id,
        round_name=round_.name,
        due_date=round_.due_date,
        timezone=plan.timezone,
        open=round_.status == "open",
        unit_id=unit.id,
        unit_name=unit.name,
        unit_label=unit.short_name or unit.name,
        version=latest.version if latest else 0,
        version_at=latest.at.astimezone(zone) if latest else None,
        version_by=latest.by_label if latest else "",
        on_time=submission.on_time if submission else None,
        review=state,
        tasks=tasks,
    )


async def task_by_number(session: AsyncSession, round_id: int, unit_id: int, number: int) -> int:
    """The id of the unit's task with this 序号 in the round's plan (for the command line)."""
    _, plan = await _round_plan(session, round_id)
    for task in await _unit_tasks(session, plan.id, unit_id):
        if task.number == number:
            return task.id
    unit = await _unit(session, unit_id)
    raise ReviewError("not_assigned", f"{unit.name} has no task {number} in {plan.title}")


# ------------------------------------------------------------------ deciding


def clean_comment(comment: str) -> str:
    """The comment as it is kept: control characters and bidi overrides removed, trimmed;
    ReviewError when nothing is left or it is too long."""
    text = clean_text(comment).strip()
    if not text:
        raise ReviewError("comment_needed", "a comment is needed to return a report")
    if len(text) > MAX_COMMENT_CHARS:
        raise ReviewError(
            "comment_too_long",
            f"the comment has {len(text)} characters; at most {MAX_COMMENT_CHARS}",
            limit=MAX_COMMENT_CHARS,
            length=len(text),
        )
    return text


async def check(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    *,
    version: int | None,
    task_id: int | None = None,
    returning: bool = False,
) -> Target:
    """What a decision would act on, checked as the decision will be: the person is an admin,
    the unit has submitted, `version` is still its latest (None: whatever is latest), a
    returned task is the unit's, and a return is in an open round."""
    member = await staff.authorize(session, by, admin=True)
    return await _check(session, member, round_id, unit_id, version, task_id, returning)


async def _check(
    session: AsyncSession,
    member: StaffMember,
    round_id: int,
    unit_id: int,
    version: int | None,
    task_id: int | None,
    returning: bool,
) -> Target:
    round_, plan = await _round_plan(session, round_id)
    unit = await _unit(session, unit_id)
    latest = await submitted.latest_version(session, round_id, unit_id)
    if latest is None:
        raise ReviewError("not_submitted", f"{unit.name} has not submitted {round_.name}")
    if version is not None and version != latest.version:
        raise ReviewError(
            "stale",
            f"version {version} of {unit.name} is no longer the latest: it is {latest.version}",
            current=latest.version,
        )
    if returning and round_.status != "open":
        raise ReviewError(
            "round_closed", f"the round {round_.name} is closed: nothing can be corrected"
        )
    target = Target(
        round_.id, round_.name, unit.id, unit.name, unit.short_name or unit.name, latest.version
    )
    if task_id is not None:
        tasks = await _unit_tasks(session, plan.id, unit_id)
        task = next((t for t in tasks if t.id == task_id), None)
        if task is None:
            raise ReviewError("not_assigned", f"{unit.name} does not answer for task {task_id}")
        target.task_id, target.task_number = task.id, task.number
        target.task_title = task_title(task)
    return target


async def _contacts(session: AsyncSession, unit_id: int) -> tuple[list[ContactToTell], int]:
    rows = (
        await session.exec(
            select(Contact)
            .where(Contact.unit_id == unit_id, Contact.active.is_(True))
            .order_by(Contact.id)
        )
    ).all()
    reachable = [ContactToTell(c.id, c.chat_id, c.name, c.language) for c in rows if c.reachable]
    return reachable, len(rows) - len(reachable)


async def _decide(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    decision: str,
    *,
    version: int | None,
    task_id: int | None,
    comment: str,
    now: dt.datetime | None,
) -> Decided:
    now = now or utcnow()
    returning = decision == RETURNED
    if returning:
        comment = clean_comment(comment)
    member = await staff.authorize(session, by, admin=True)
    target = await _check(session, member, round_id, unit_id, version, task_id, returning)
    state = await returned_state(session, round_id, unit_id)
    same = None
    if decision == ACCEPTED and state.state == ACCEPTED:
        same = next(d for d in reversed(state.history) if d.decision == ACCEPTED)
    elif returning:
        same = next(
            (d for d in state.returns if d.task_id == task_id and d.comment == comment), None
        )
    contacts, unreachable = await _contacts(session, unit_id)
    if same is not None:  # a second tap, or the same command run twice
        return Decided(member, target, same, True, contacts, unreachable)
    row = ReviewDecision(
        round_id=round_id,
        unit_id=unit_id,
        version=target.version,
        decision=decision,
        task_id=target.task_id,
        comment=comment if returning else "",
        by_user_id=member.telegram_user_id,
        by_label=member.label,
        at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        member,
        "review.return" if returning else "review.accept",
        round_id=round_id,
        unit_id=unit_id,
        task_id=target.task_id,
        detail={
            "decision": row.id,
            "version": target.version,
            **({"comment": row.comment} if returning else {}),
            **({"task": target.task_number} if target.task_id else {}),
        },
        now=now,
    )
    line = _line(row, target.task_number)
    return Decided(member, target, line, False, contacts, unreachable)


async def accept(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    *,
    version: int | None = None,
    now: dt.datetime | None = None,
) -> Decided:
    """Accept the unit's submitted `version` (None: its latest). Admins only; accepting what
    stands accepted already keeps nothing new (`already`). The caller commits."""
    return await _decide(
        session, by, round_id, unit_id, ACCEPTED, version=version, task_id=None, comment="",
        now=now,
    )  # fmt: skip


async def return_report(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    comment: str,
    *,
    version: int | None = None,
    task_id: int | None = None,
    now: dt.datetime | None = None,
) -> Decided:
    """Return the unit's submitted `version` (None: its latest) with a comment: the whole
    report, or the task `task_id`. Admins only; the round must be open. The same return
    twice keeps nothing new (`already`). The caller commits."""
    return await _decide(
        session, by, round_id, unit_id, RETURNED, version=version, task_id=task_id,
        comment=comment, now=now,
    )  # fmt: skip
