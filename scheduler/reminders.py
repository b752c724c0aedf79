"""The reminder sweep, its dry run (preview) and "remind me tomorrow".

The sweep reads every open round with its units, contacts, answers, submissions and
snoozes in a fixed number of SQL statements (however many contacts there are), asks the
policy what is due now, and queues the messages in one INSERT. Running it twice, after a
restart or on two instances at once queues nothing twice: each reminder's dedupe key is
(round, unit, contact, step, date).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Status
from ledger.workdays import WorkCalendar
from scheduler.clock import Clock, SystemClock
from scheduler.email_messages import email_reminder_message
from scheduler.messages import calendar_missing_messages, escalation_messages, reminder_message
from scheduler.policy import (
    ContactFacts,
    DayPlan,
    PolicyError,
    ReminderPolicy,
    RoundFacts,
    Snooze,
    TaskFacts,
    UnitFacts,
    due_now,
    effective_policy,
    escalation_day,
    round_steps,
    schedule,
    task_steps,
)
from storage.models import (
    Assignment,
    Contact,
    Plan,
    ProgressEntry,
    ReminderSnooze,
    Round,
    Submission,
    Task,
    Unit,
)
from storage.services.calendar import load_work_calendar
from storage.services.email_contacts import emails_reminders
from storage.services.errors import NotFound
from storage.services.outbox import NewMessage, enqueue
from storage.services.people import staff_recipients
from storage.services.reporting import task_title

log = logging.getLogger(__name__)


@dataclass
class RoundState:
    """A round with everything the policy needs to decide about it."""

    round: Round
    plan: Plan
    policy: ReminderPolicy
    facts: RoundFacts
    units: list[UnitFacts]
    snoozes: list[Snooze]


# ---------------------------------------------------------------- reading the facts


async def load_round_states(
    session: AsyncSession,
    *,
    round_ids: Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    email: bool = False,
) -> tuple[list[RoundState], WorkCalendar]:
    """Open rounds (or the rounds named), read in a fixed number of statements. With `email`
    (the e-mail channel is on), contacts reminded by e-mail count as reachable that way."""
    query = select(Round, Plan).join(Plan, Plan.id == Round.plan_id)
    if round_ids is None:
        query = query.where(Round.status == "open")
    else:
        query = query.where(Round.id.in_(list(round_ids)))
    pairs = (await session.exec(query.order_by(Round.due_date, Round.id))).all()
    calendar = await load_work_calendar(session)
    if not pairs:
        return [], calendar
    plan_ids = sorted({plan.id for _, plan in pairs})
    ids = [round_.id for round_, _ in pairs]
    previous = await _previous_dues(session, plan_ids)
    tasks = await _unit_tasks(session, plan_ids)
    units = await _units(session, plan_ids)
    contacts = await _contacts(session, plan_ids, email)
    submitted = set(
        (
            await session.exec(
                select(Submission.round_id, Submission.unit_id).where(Submission.round_id.in_(ids))
            )
        ).all()
    )
    answered = await _answered(session, ids)
    snoozes = await _snoozes(session, ids)
    states = []
    for round_, plan in pairs:
        policy = _policy(plan, round_, overrides)
        facts = RoundFacts(
            round_id=round_.id,
            name=round_.name,
            due_date=round_.due_date,
            open=round_.status == "open",
            previous_due=previous.get((plan.id, round_.due_date)),
        )
        unit_facts = [
            UnitFacts(
                unit_id=unit_id,
                name=units[unit_id],
                submitted=(round_.id, unit_id) in submitted,
                contacts=tuple(contacts.get(unit_id, ())),
                tasks=tuple(
                    TaskFacts(
                        task.task_id,
                        task.number,
                        task.title,
                        task.due_date,
                        (round_.id, unit_id, task.task_id) in answered,
                    )
                    for task in unit_tasks
                ),
            )
            for unit_id, unit_tasks in tasks.get(plan.id, {}).items()
            if unit_id in units
        ]
        states.append(
            RoundState(round_, plan, policy, facts, unit_facts, snoozes.get(round_.id, []))
        )
    return states, calendar


def _policy(plan: Plan, round_: Round, overrides: Mapping[str, Any] | None) -> ReminderPolicy:
    """The round's policy; a malformed stored one falls back to the defaults, loudly."""
    try:
        return effective_policy(
            plan.reminder_policy, round_.reminder_policy, overrides, timezone=plan.timezone
        )
    except PolicyError as err:
        if overrides:
            raise
        log.warning("round %s: reminder policy ignored, defaults used: %s", round_.id, err)
        return effective_policy(timezone=plan.timezone)


async def _previous_dues(
    session: AsyncSession, plan_ids: list[int]
) -> dict[tuple[int, dt.date], dt.date]:
    """For each (plan, due date), the plan's round due just before it."""
    rows = (
        await session.exec(
            select(Round.plan_id, Round.due_date)
            .where(Round.plan_id.in_(plan_ids))
            .order_by(Round.plan_id, Round.due_date)
        )
    ).all()
    previous: dict[tuple[int, dt.date], dt.date] = {}
    last: dict[int, dt.date] = {}
    for plan_id, due in rows:
        if plan_id in last:
            previous[(plan_id, due)] = last[plan_id]
        last[plan_id] = due
    return previous


def _assigned_units(plan_ids: list[int]):
    return (
        select(Assignment.unit_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id.in_(plan_ids), Task.retired.is_(False))
    )


async def _unit_tasks(
    session: AsyncSession, plan_ids: list[int]
) -> dict[int, dict[int, list[TaskFacts]]]:
    """plan → unit → its tasks in plan order (answered is filled in per round)."""
    rows = (
        await session.exec(
            select(
                Task.plan_id,
                Assignment.unit_id,
                Task.id,
                Task.number,
                Task.name,
                func.substr(Task.content, 1, 40),
                Task.due_date,
                Task.due_kind,
            )
            .join(Assignment, Assignment.task_id == Task.id)
            .where(Task.plan_id.in_(plan_ids), Task.retired.is_(False))
            .order_by(Task.plan_id, Task.position, Assignment.unit_id)
        )
    ).all()
    tasks: dict[int, dict[int, list[TaskFacts]]] = defaultdict(lambda: defaultdict(list))
    for plan_id, unit_id, task_id, number, name, content, due_date, due_kind in rows:
        title = task_title(SimpleNamespace(name=name, content=content or ""))
        due = due_date if due_kind == "date" else None
        tasks[plan_id][unit_id].append(TaskFacts(task_id, number, title, due))
    return tasks


async def _units(session: AsyncSession, plan_ids: list[int]) -> dict[int, str]:
    rows = (
        await session.exec(
            select(Unit.id, Unit.name).where(
                Unit.id.in_(_assigned_units(plan_ids)), Unit.active.is_(True)
            )
        )
    ).all()
    return dict(rows)


async def _contacts(
    session: AsyncSession, plan_ids: list[int], email: bool = False
) -> dict[int, list[ContactFacts]]:
    rows = (
        await session.exec(
            select(
                Contact.unit_id,
                Contact.id,
                Contact.chat_id,
                Contact.name,
                Contact.language,
                Contact.reachable,
                Contact.email,
                Contact.email_error,
                Contact.remind_by_email,
            )
            .where(Contact.unit_id.in_(_assigned_units(plan_ids)), Contact.active.is_(True))
            .order_by(Contact.unit_id, Contact.id)
        )
    ).all()
    contacts: dict[int, list[ContactFacts]] = defaultdict(list)
    for unit_id, contact_id, chat_id, name, language, reachable, *mail in rows:
        address, refused, prefer = mail
        telegram = reachable and chat_id is not None
        if email and emails_reminders(
            email=address, email_error=refused, remind_by_email=prefer, telegram_reachable=telegram
        ):
            facts = ContactFacts(contact_id, chat_id, name, language, True, "email", address)
        else:
            facts = ContactFacts(contact_id, chat_id, name, language, reachable)
        contacts[unit_id].append(facts)
    return contacts


async def _answered(session: AsyncSession, round_ids: list[int]) -> set[tuple[int, int, int]]:
    """(round, unit, task) of every answered task (texts are saved stripped)."""
    rows = (
        await session.exec(
            select(ProgressEntry.round_id, ProgressEntry.unit_id, ProgressEntry.task_id).where(
                ProgressEntry.round_id.in_(round_ids),
                or_(
                    ProgressEntry.status == Status.NOT_APPLICABLE.value,
                    ProgressEntry.text != "",
                ),
            )
        )
    ).all()
    return set(rows)


async def _snoozes(session: AsyncSession, round_ids: list[int]) -> dict[int, list[Snooze]]:
    rows = (
        await session.exec(
            select(
                ReminderSnooze.round_id,
                ReminderSnooze.unit_id,
                ReminderSnooze.contact_id,
                ReminderSnooze.remind_on,
            ).where(ReminderSnooze.round_id.in_(round_ids))
        )
    ).all()
    snoozes: dict[int, list[Snooze]] = defaultdict(list)
    for round_id, unit_id, contact_id, remind_on in rows:
        snoozes[round_id].append(Snooze(unit_id, contact_id, remind_on))
    return snoozes


# ---------------------------------------------------------------- the sweep


@dataclass
class SweepResult:
    at: dt.datetime
    rounds: int = 0
    reminders: int = 0  # reminders due now to reachable contacts
    escalations: int = 0  # escalation messages due now (one per staff chat)
    queued: int = 0  # of those, how many were new (the rest were queued before)
    unreachable: list[tuple[int, str]] = field(default_factory=list)  # (round, unit) not reached
    calendar_missing: list[int] = field(default_factory=list)  # years without loaded holidays


async def sweep(
    session: AsyncSession,
    *,
    now: dt.datetime | None = None,
    clock: Clock | None = None,
    staff_ids: Sequence[int] = (),
    default_language: str = "zh_CN",
    round_ids: Sequence[int] | None = None,
    email: bool = False,
) -> SweepResult:
    """Queue every reminder and escalation due now. The caller commits. With `email` (an
    SMTP server and the web form's address are set), contacts reminded by e-mail get theirs."""
    now = now or (clock or SystemClock()).now()
    states, calendar = await load_round_states(session, round_ids=round_ids, email=email)
    result = SweepResult(at=now)
    messages: list[NewMessage] = []
    recipients: list[tuple[int, str | None]] | None = None
    for state in states:
        if state.round.status != "open":
            continue
        result.rounds += 1
        plan = due_now(now, state.facts, state.units, state.policy, calendar, state.snoozes)
        messages.extend(_reminder_messages(state, plan, result, default_language))
        if plan.escalation is not None:
            if recipients is None:
                recipients = await staff_recipients(session, tuple(staff_ids))
            escalations = escalation_messages(
                plan.escalation,
                round_name=state.round.name,
                due=state.round.due_date,
                recipients=recipients,
                default_language=default_language,
            )
            result.escalations += len(escalations)
            messages.extend(escalations)
    missing_years = calendar.uncovered_years_seen()
    if missing_years:
        if recipients is None:
            recipients = await staff_recipients(session, tuple(staff_ids))
        messages.extend(calendar_missing_messages(missing_years, recipients, default_language))
        result.calendar_missing = list(missing_years)
    result.queued = await enqueue(session, messages, now=now)
    return result


def _reminder_messages(
    state: RoundState, plan: DayPlan, result: SweepResult, default_language: str
) -> list[NewMessage]:
    units = {unit.unit_id: unit for unit in state.units}
    messages = []
    for reminder in plan.reminders:
        if reminder.contact is None:
            result.unreachable.append((state.round.id, reminder.unit_name))
            continue
        unit = units[reminder.unit_id]
        if reminder.contact.channel == "email":
            messages.append(
                email_reminder_message(
                    reminder,
                    unit,
                    round_name=state.round.name,
                    due=state.round.due_date,
                    default_language=default_language,
                )
            )
            result.reminders += 1
            continue
        messages.append(
            reminder_message(
                reminder,
                round_name=state.round.name,
                due=state.round.due_date,
                answered=unit.answered,
                total=unit.total,
                default_language=default_language,
            )
        )
        result.reminders += 1
    return messages


# ---------------------------------------------------------------- the dry run


@dataclass
class PreviewLine:
    date: dt.date
    step: str
    reason: str
    unit: str | None = None  # None for the escalation to staff
    unit_id: int | None = None
    contact: str | None = None
    contact_id: int | None = None
    reachable: bool = True
    task: int | None = None
    late_units: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = {
            "date": self.date.isoformat(),
            "unit": self.unit,
            "unit_id": self.unit_id,
            "step": self.step,
            "reason": self.reason,
            "contact": self.contact,
            "contact_id": self.contact_id,
            "reachable": self.reachable,
        }
        if self.task is not None:
            data["task"] = self.task
        if self.step == "escalation":
            data["recipient"] = "staff"
            data["late_units"] = self.late_units
        return data


@dataclass
class Preview:
    round: Round
    plan: Plan
    policy: ReminderPolicy
    start: dt.date
    end: dt.date
    lines: list[PreviewLine]
    submitted: list[str]  # units that submitted: no reminders
    no_contact: list[str]  # units with no reachable contact at all
    calendar_missing: list[int] = field(default_factory=list)  # years counted by weekdays only


async def preview(
    session: AsyncSession,
    round_id: int,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Preview:
    """Day by day, who would be reminded and why, assuming nobody submits meanwhile."""
    states, calendar = await load_round_states(session, round_ids=[round_id], overrides=overrides)
    if not states:
        raise NotFound(f"no round {round_id} (see `taizhang round list`)")
    state = states[0]
    first, last = _schedule_span(state, calendar)
    start, end = start or first, end or last
    days = schedule(start, end, state.facts, state.units, state.policy, calendar, state.snoozes)
    lines = [line for day in days for line in _preview_lines(day)]
    return Preview(
        round=state.round,
        plan=state.plan,
        policy=state.policy,
        start=start,
        end=end,
        lines=lines,
        submitted=[unit.name for unit in state.units if unit.submitted],
        no_contact=[
            unit.name for unit in state.units if not unit.submitted and not unit.reachable_contacts
        ],
        calendar_missing=calendar.uncovered_years_seen(),
    )


def _schedule_span(state: RoundState, calendar: WorkCalendar) -> tuple[dt.date, dt.date]:
    """From the first reminder the round (or one of its tasks) can have to its escalation."""
    due = state.round.due_date
    days = list(round_steps(due, state.policy, calendar)) or [due]
    if state.policy.task_reminders:
        own_dues = {
            task.due_date
            for unit in state.units
            for task in unit.tasks
            if task.due_date is not None
            and task.due_date < due
            and (state.facts.previous_due is None or task.due_date > state.facts.previous_due)
        }
        for task_due in own_dues:
            days.extend(task_steps(task_due, state.policy, calendar))
    escalation = escalation_day(due, state.policy, calendar)
    if escalation is not None:
        days.append(escalation)
    return min(days), max(days)


def _preview_lines(day: DayPlan) -> list[PreviewLine]:
    lines = []
    for reminder in day.reminders:
        contact = reminder.contact
        lines.append(
            PreviewLine(
                date=day.on,
                step=reminder.step,
                reason=reminder.reason if contact else f"{reminder.reason}; NO REACHABLE CONTACT",
                unit=reminder.unit_name,
                unit_id=reminder.unit_id,
                contact=(contact.name or f"contact {contact.contact_id}") if contact else None,
                contact_id=contact.contact_id if contact else None,
                reachable=contact is not None,
                task=reminder.task.number if reminder.task else None,
            )
        )
    if day.escalation is not None:
        late = [unit.name for unit in day.escalation.late]
        lines.append(
            PreviewLine(
                date=day.on,
                step="escalation",
                reason=f"{len(late)} units still late after "
                f"{day.escalation.overdue_days} overdue working days: staff are told",
                late_units=late,
            )
        )
    return lines


# ---------------------------------------------------------------- remind me tomorrow


async def snooze(
    session: AsyncSession, unit_id: int, round_id: int, contact_id: int, today: dt.date
) -> dt.date:
    """Remind this contact again on the next working day after `today`; returns that day.

    Pressing the button twice changes nothing. The caller commits.
    """
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.unit_id != unit_id:
        raise NotFound("this contact does not report for that unit")
    if await session.get(Round, round_id) is None:
        raise NotFound(f"no round {round_id}")
    calendar = await load_work_calendar(session)
    remind_on = calendar.next_workday(today)
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    await connection.execute(
        dialect.insert(ReminderSnooze.__table__)
        .values(
            round_id=round_id,
            unit_id=unit_id,
            contact_id=contact_id,
            remind_on=remind_on,
            created_at=dt.datetime.now(dt.UTC),
        )
        .on_conflict_do_nothing()
    )
    return remind_on
