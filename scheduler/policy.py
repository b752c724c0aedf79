"""Who is reminded when: a pure function of a round, its units, the calendar and the day.

No database, no Telegram. The sweep (scheduler/reminders.py) gathers the facts, asks this
module which reminders are due now, and queues them; the preview asks the same question for
each day of a range. By default a unit that has not submitted is reminded 5, 2 and 1 working
days before the deadline, on the morning of the deadline, then each working day while it is
overdue, for up to 5 working days; on the next working day the staff get an escalation
listing the late units. Reminders go out on working days only (调休 days included), within
office hours, in the plan's time zone.

A reminder belongs to its day: a step whose day passed with the bot down is not sent late
("5 working days left" on the 4th day would be wrong), the next step covers it. The
escalation is the exception: it stays due from its day until the round closes, and its
dedupe key makes it go out once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.workdays import WorkCalendar

DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_OVERDUE_DAYS = 30
MAX_DAYS_BEFORE = 30


class PolicyError(ValueError):
    """A reminder policy (from a plan, a round or the command line) is malformed."""


# ---------------------------------------------------------------- the policy's settings


@dataclass(frozen=True)
class ReminderPolicy:
    before: tuple[int, ...] = (5, 2, 1)  # working days before the deadline
    on_due_day: bool = True  # the morning of the deadline
    overdue_days: int = 5  # each working day while overdue, this many at most
    escalate: bool = True  # then tell the staff which units are late
    task_reminders: bool = True  # tasks due before the round's deadline get their own
    office_start: dt.time = dt.time(9, 0)
    office_end: dt.time = dt.time(18, 0)
    timezone: str = DEFAULT_TIMEZONE

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_changes(self, changes: Mapping[str, Any] | None) -> ReminderPolicy:
        """This policy with the keys of a JSON/YAML mapping applied (see `to_json`)."""
        if not changes:
            return self
        if not isinstance(changes, Mapping):
            raise PolicyError("a reminder policy is a mapping of settings")
        unknown = sorted(set(changes) - set(_PARSERS))
        if unknown:
            known = ", ".join(sorted(_PARSERS))
            raise PolicyError(f"unknown reminder setting {unknown[0]!r} (known: {known})")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            values.update(_PARSERS[key](value))
        policy = replace(self, **values)
        if policy.office_start >= policy.office_end:
            raise PolicyError("office_hours must end after they start, e.g. 09:00-18:00")
        return policy

    def to_json(self) -> dict[str, Any]:
        return {
            "before": list(self.before),
            "on_due_day": self.on_due_day,
            "overdue_days": self.overdue_days,
            "escalate": self.escalate,
            "task_reminders": self.task_reminders,
            "office_hours": f"{self.office_start:%H:%M}-{self.office_end:%H:%M}",
            "timezone": self.timezone,
        }


def effective_policy(
    *layers: Mapping[str, Any] | None, timezone: str = DEFAULT_TIMEZONE
) -> ReminderPolicy:
    """Defaults, then each layer in turn: the plan's, the round's, the command line's."""
    policy = ReminderPolicy(timezone=timezone)
    for layer in layers:
        policy = policy.with_changes(layer)
    return policy


def _before(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    if not isinstance(value, list | tuple):
        raise PolicyError("before must be a list of working days, e.g. [5, 2, 1]")
    try:
        days = sorted({int(day) for day in value}, reverse=True)
    except (TypeError, ValueError):
        raise PolicyError("before must be a list of whole numbers, e.g. [5, 2, 1]") from None
    if any(not 1 <= day <= MAX_DAYS_BEFORE for day in days):
        raise PolicyError(f"before days must be between 1 and {MAX_DAYS_BEFORE}")
    return {"before": tuple(days)}


def _flag(name: str):
    def parse(value: Any) -> dict[str, Any]:
        if not isinstance(value, bool):
            raise PolicyError(f"{name} must be true or false")
        return {name: value}

    return parse


def _overdue_days(value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError("overdue_days must be a whole number")
    if not 0 <= value <= MAX_OVERDUE_DAYS:
        raise PolicyError(f"overdue_days must be between 0 and {MAX_OVERDUE_DAYS}")
    return {"overdue_days": value}


def _office_hours(value: Any) -> dict[str, Any]:
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in str(value).split("-"))
    except ValueError:
        raise PolicyError(f"office_hours must read like 09:00-18:00, not {value!r}") from None
    return {"office_start": start, "office_end": end}


def _timezone(value: Any) -> dict[str, Any]:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"unknown time zone {value!r}") from None
    return {"timezone": str(value)}


_PARSERS = {
    "before": _before,
    "on_due_day": _flag("on_due_day"),
    "overdue_days": _overdue_days,
    "escalate": _flag("escalate"),
    "task_reminders": _flag("task_reminders"),
    "office_hours": _office_hours,
    "timezone": _timezone,
}


# ---------------------------------------------------------------- the facts it decides on


@dataclass(frozen=True)
class ContactFacts:
    contact_id: int
    chat_id: int
    name: str = ""
    language: str | None = None
    reachable: bool = True  # reachable and active (by e-mail when `channel` says so)
    channel: str = "telegram"  # telegram | email: how this contact is reminded
    email: str = ""  # the address, when reminded by e-mail


@dataclass(frozen=True)
class TaskFacts:
    task_id: int
    number: int
    title: str = ""
    due_date: dt.date | None = None  # its own 完成时限, when it is a date
    answered: bool = False


@dataclass(frozen=True)
class UnitFacts:
    unit_id: int
    name: str
    submitted: bool = False
    contacts: tuple[ContactFacts, ...] = ()
    tasks: tuple[TaskFacts, ...] = ()

    @property
    def answered(self) -> int:
        return sum(1 for task in self.tasks if task.answered)

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def reachable_contacts(self) -> list[ContactFacts]:
        return [contact for contact in self.contacts if contact.reachable]


@dataclass(frozen=True)
class RoundFacts:
    round_id: int
    name: str
    due_date: dt.date
    open: bool = True
    previous_due: dt.date | None = None  # the plan's previous round: earlier tasks are its own


@dataclass(frozen=True)
class Snooze:
    unit_id: int
    contact_id: int
    remind_on: dt.date


# ---------------------------------------------------------------- what it decides


@dataclass(frozen=True)
class Reminder:
    """One message to one contact (contact None: the unit has no contact it can reach)."""

    round_id: int
    unit_id: int
    unit_name: str
    contact: ContactFacts | None
    step: str  # before-5, due, overdue-2, snooze, task-7-before-2, task-7-due
    on: dt.date
    reason: str
    days: int = 0  # working days to (before) or past (overdue) the deadline concerned
    task: TaskFacts | None = None

    @property
    def reachable(self) -> bool:
        return self.contact is not None

    @property
    def dedupe_key(self) -> str:
        contact = self.contact.contact_id if self.contact else 0
        key = f"reminder:{self.round_id}:{self.unit_id}:{contact}:{self.step}:{self.on}"
        if self.contact is not None and self.contact.channel != "telegram":
            key += f":{self.contact.channel}"  # the same reminder, once per channel
        return key


@dataclass(frozen=True)
class Escalation:
    round_id: int
    on: dt.date
    late: tuple[UnitFacts, ...]
    overdue_days: int


@dataclass
class DayPlan:
    on: dt.date
    reminders: list[Reminder] = field(default_factory=list)
    escalation: Escalation | None = None

    def __bool__(self) -> bool:
        return bool(self.reminders or self.escalation)


# ---------------------------------------------------------------- the decisions


@dataclass(frozen=True)
class _RoundStep:
    step: str
    days: int
    reason: str


def round_steps(
    due: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> dict[dt.date, _RoundStep]:
    """The days a late unit is reminded of the round, each with its step."""
    steps: dict[dt.date, _RoundStep] = {}
    for n in sorted(policy.before, reverse=True):
        day = calendar.add_workdays(due, -n)
        steps[day] = _RoundStep(f"before-{n}", n, f"{n} working days before the deadline {due}")
    if policy.on_due_day and calendar.is_workday(due):
        steps[due] = _RoundStep("due", 0, f"the deadline {due} is today")
    for n in range(1, policy.overdue_days + 1):
        day = calendar.add_workdays(due, n)
        steps[day] = _RoundStep(f"overdue-{n}", n, f"overdue by {n} working days (due {due})")
    return steps


def escalation_day(due: dt.date, policy: ReminderPolicy, calendar: WorkCalendar) -> dt.date | None:
    """The working day after the last overdue reminder."""
    if not policy.escalate:
        return None
    return calendar.add_workdays(due, policy.overdue_days + 1)


def task_steps(
    due: dt.date, policy: ReminderPolicy, calendar: WorkCalendar
) -> dict[dt.date, tuple[str, int]]:
    """A task's own deadline: the same days before, and its morning; no overdue run."""
    steps = {calendar.add_workdays(due, -n): (f"before-{n}", n) for n in policy.before}
    if policy.on_due_day and calendar.is_workday(due):
        steps[due] = ("due", 0)
    return steps


def own_tasks(round_: RoundFacts, unit: UnitFacts) -> Iterator[TaskFacts]:
    """Tasks due before the round's deadline (and after the previous round's) and unanswered."""
    for task in unit.tasks:
        if task.answered or task.due_date is None or task.due_date >= round_.due_date:
            continue
        if round_.previous_due is not None and task.due_date <= round_.previous_due:
            continue
        yield task


def reminders_on(
    day: dt.date,
    round_: RoundFacts,
    units: Sequence[UnitFacts],
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    snoozes: Iterable[Snooze] = (),
    *,
    catch_up_escalation: bool = False,
) -> DayPlan:
    """Everything due on `day` (a whole day: office hours are the caller's business)."""
    plan = DayPlan(day)
    if not round_.open or not calendar.is_workday(day):
        return plan
    step = round_steps(round_.due_date, policy, calendar).get(day)
    snoozed = {(s.unit_id, s.contact_id) for s in snoozes if s.remind_on == day}
    late = [unit for unit in units if not unit.submitted]
    for unit in late:
        plan.reminders.extend(_unit_reminders(day, round_, unit, step, snoozed, policy, calendar))
    when = escalation_day(round_.due_date, policy, calendar)
    if when is not None and late and (day == when or (catch_up_escalation and day > when)):
        plan.escalation = Escalation(round_.round_id, day, tuple(late), policy.overdue_days)
    return plan


def _unit_reminders(
    day: dt.date,
    round_: RoundFacts,
    unit: UnitFacts,
    step: _RoundStep | None,
    snoozed: set[tuple[int, int]],
    policy: ReminderPolicy,
    calendar: WorkCalendar,
) -> Iterator[Reminder]:
    contacts: list[ContactFacts | None] = list(unit.reachable_contacts) or [None]
    for contact in contacts:
        made = Reminder(round_.round_id, unit.unit_id, unit.name, contact, "", day, "")
        if step is not None:
            yield replace(made, step=step.step, reason=step.reason, days=step.days)
        elif contact is not None and (unit.unit_id, contact.contact_id) in snoozed:
            yield replace(made, step="snooze", reason=f"asked to be reminded on {day}")
        if policy.task_reminders:
            for task in own_tasks(round_, unit):
                task_step = task_steps(task.due_date, policy, calendar).get(day)
                if task_step is None:
                    continue
                name, n = task_step
                reason = f"task {task.number} is due {task.due_date}" + (
                    f", {n} working days away" if n else " (today)"
                )
                yield replace(
                    made, step=f"task-{task.number}-{name}", reason=reason, days=n, task=task
                )


def in_office_hours(moment: dt.datetime, policy: ReminderPolicy) -> bool:
    local = moment.astimezone(policy.zone).time()
    return policy.office_start <= local < policy.office_end


def local_day(moment: dt.datetime, policy: ReminderPolicy) -> dt.date:
    return moment.astimezone(policy.zone).date()


def due_now(
    now: dt.datetime,
    round_: RoundFacts,
    units: Sequence[UnitFacts],
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    snoozes: Iterable[Snooze] = (),
) -> DayPlan:
    """What the sweep should queue at `now`: today's reminders, within office hours only."""
    today = local_day(now, policy)
    if not in_office_hours(now, policy):
        return DayPlan(today)
    return reminders_on(today, round_, units, policy, calendar, snoozes, catch_up_escalation=True)


def days_between(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


def schedule(
    start: dt.date,
    end: dt.date,
    round_: RoundFacts,
    units: Sequence[UnitFacts],
    policy: ReminderPolicy,
    calendar: WorkCalendar,
    snoozes: Iterable[Snooze] = (),
) -> list[DayPlan]:
    """Day by day from `start` to `end`, what would be sent if nobody submitted meanwhile."""
    snoozes = list(snoozes)
    plans = (
        reminders_on(day, round_, units, policy, calendar, snoozes)
        for day in days_between(start, end)
    )
    return [plan for plan in plans if plan]
