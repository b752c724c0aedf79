"""The reminder policy as a table of dates: holidays, 调休 days, office hours, snoozes."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.workdays import WorkCalendar
from scheduler.policy import (
    ContactFacts,
    PolicyError,
    ReminderPolicy,
    RoundFacts,
    Snooze,
    TaskFacts,
    UnitFacts,
    due_now,
    effective_policy,
    reminders_on,
    schedule,
)

CALENDAR = WorkCalendar()
DEFAULT = ReminderPolicy()
ALICE = ContactFacts(contact_id=11, chat_id=1011, name="Alice")
BOB = ContactFacts(contact_id=12, chat_id=1012, name="Bob")
GONE = ContactFacts(contact_id=13, chat_id=1013, name="Gone", reachable=False)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def a_round(due: str, previous: str | None = None, *, is_open: bool = True) -> RoundFacts:
    return RoundFacts(1, "2023年报送", d(due), is_open, d(previous) if previous else None)


def a_unit(unit_id: int = 1, *contacts: ContactFacts, submitted: bool = False, tasks=()):
    return UnitFacts(unit_id, f"unit {unit_id}", submitted, contacts or (ALICE,), tuple(tasks))


def steps_on(day: str, due: str, **kwargs) -> list[str]:
    plan = reminders_on(d(day), a_round(due), [a_unit()], DEFAULT, CALENDAR, **kwargs)
    return [r.step for r in plan.reminders]


# National Day 2023: Sep 29 – Oct 6 off; Sat Oct 7 and Sun Oct 8 are working days (调休).
NATIONAL_DAY = [
    # day, expected steps for a round due Tue 2023-10-10
    ("2023-09-26", []),
    ("2023-09-27", ["before-5"]),
    ("2023-09-28", []),  # 4 working days before: not a step
    ("2023-09-29", []),  # 中秋, a holiday
    ("2023-10-01", []),
    ("2023-10-06", []),
    ("2023-10-07", []),  # a 调休 Saturday, 3 working days before: not a step
    ("2023-10-08", ["before-2"]),  # a 调休 Sunday is a working day
    ("2023-10-09", ["before-1"]),
    ("2023-10-10", ["due"]),
    ("2023-10-11", ["overdue-1"]),
    ("2023-10-13", ["overdue-3"]),
    ("2023-10-14", []),  # Saturday
    ("2023-10-15", []),
    ("2023-10-16", ["overdue-4"]),
    ("2023-10-17", ["overdue-5"]),
    ("2023-10-18", []),  # the staff's turn: escalation, no more reminders
]

# A deadline inside the holiday: Sunday 2023-10-01.
DUE_IN_HOLIDAY = [
    ("2023-09-22", ["before-5"]),
    ("2023-09-27", ["before-2"]),
    ("2023-09-28", ["before-1"]),  # the last working day before the holiday
    ("2023-10-01", []),  # the deadline itself is a holiday: no morning reminder
    ("2023-10-07", ["overdue-1"]),  # the first 调休 day after it
    ("2023-10-08", ["overdue-2"]),
    ("2023-10-09", ["overdue-3"]),
]

# Spring Festival 2023: Jan 21–27 off; Sat Jan 28 and Sun Jan 29 are working days.
SPRING_FESTIVAL = [
    # a round due Tue 2023-01-31
    ("2023-01-19", "2023-01-31", ["before-5"]),
    ("2023-01-20", "2023-01-31", []),
    ("2023-01-23", "2023-01-31", []),
    ("2023-01-28", "2023-01-31", []),
    ("2023-01-29", "2023-01-31", ["before-2"]),
    ("2023-01-30", "2023-01-31", ["before-1"]),
    ("2023-01-31", "2023-01-31", ["due"]),
    ("2023-02-01", "2023-01-31", ["overdue-1"]),
    # a round due in the middle of the festival, Wed 2023-01-25
    ("2023-01-19", "2023-01-25", ["before-2"]),
    ("2023-01-20", "2023-01-25", ["before-1"]),
    ("2023-01-25", "2023-01-25", []),
    ("2023-01-28", "2023-01-25", ["overdue-1"]),
    ("2023-01-29", "2023-01-25", ["overdue-2"]),
]


@pytest.mark.parametrize(("day", "expected"), NATIONAL_DAY)
def test_national_day_round(day: str, expected: list[str]) -> None:
    assert steps_on(day, "2023-10-10") == expected


@pytest.mark.parametrize(("day", "expected"), DUE_IN_HOLIDAY)
def test_deadline_on_a_holiday(day: str, expected: list[str]) -> None:
    assert steps_on(day, "2023-10-01") == expected


@pytest.mark.parametrize(("day", "due", "expected"), SPRING_FESTIVAL)
def test_spring_festival(day: str, due: str, expected: list[str]) -> None:
    assert steps_on(day, due) == expected


def test_the_escalation_comes_the_working_day_after_the_last_overdue_reminder() -> None:
    late, done = a_unit(1), a_unit(2, BOB, submitted=True)
    days = schedule(
        d("2023-09-20"), d("2023-10-31"), a_round("2023-10-10"), [late, done], DEFAULT, CALENDAR
    )
    escalations = [day for day in days if day.escalation]
    assert [day.on for day in escalations] == [d("2023-10-18")]
    assert [unit.unit_id for unit in escalations[0].escalation.late] == [1]
    reminded_days = [day.on.isoformat() for day in days if day.reminders]
    assert reminded_days == [
        "2023-09-27", "2023-10-08", "2023-10-09", "2023-10-10",
        "2023-10-11", "2023-10-12", "2023-10-13", "2023-10-16", "2023-10-17",
    ]  # fmt: skip
    assert all(r.unit_id == 1 for day in days for r in day.reminders)


def test_no_escalation_when_everybody_submitted_or_when_switched_off() -> None:
    done = a_unit(1, submitted=True)
    assert not reminders_on(d("2023-10-18"), a_round("2023-10-10"), [done], DEFAULT, CALENDAR)
    quiet = DEFAULT.with_changes({"escalate": False})
    plan = reminders_on(d("2023-10-18"), a_round("2023-10-10"), [a_unit()], quiet, CALENDAR)
    assert plan.escalation is None


def test_only_late_units_and_only_their_reachable_contacts() -> None:
    units = [
        a_unit(1, ALICE, GONE),
        a_unit(2, BOB, submitted=True),
        a_unit(3, GONE),  # nobody to reach
    ]
    plan = reminders_on(d("2023-10-09"), a_round("2023-10-10"), units, DEFAULT, CALENDAR)
    assert [(r.unit_id, r.contact and r.contact.name) for r in plan.reminders] == [
        (1, "Alice"),
        (3, None),
    ]
    assert [r.reachable for r in plan.reminders] == [True, False]


def test_a_closed_round_reminds_nobody() -> None:
    closed = a_round("2023-10-10", is_open=False)
    assert not reminders_on(d("2023-10-09"), closed, [a_unit()], DEFAULT, CALENDAR)


def test_a_snooze_adds_a_reminder_on_the_next_working_day_only() -> None:
    # Alice pressed "remind me tomorrow" on Thu Sep 28: the next working day is Sat Oct 7.
    snoozes = [Snooze(unit_id=1, contact_id=ALICE.contact_id, remind_on=d("2023-10-07"))]
    unit = a_unit(1, ALICE, BOB)
    plan = reminders_on(d("2023-10-07"), a_round("2023-10-10"), [unit], DEFAULT, CALENDAR, snoozes)
    assert [(r.contact.name, r.step) for r in plan.reminders] == [("Alice", "snooze")]
    # on a day with its own step the snooze adds nothing: one message, the step's
    snoozes = [Snooze(unit_id=1, contact_id=ALICE.contact_id, remind_on=d("2023-10-08"))]
    plan = reminders_on(d("2023-10-08"), a_round("2023-10-10"), [unit], DEFAULT, CALENDAR, snoozes)
    assert [(r.contact.name, r.step) for r in plan.reminders] == [
        ("Alice", "before-2"),
        ("Bob", "before-2"),
    ]


def test_tasks_due_before_the_round_get_their_own_reminders() -> None:
    # 医保局 measure 7 is due 2023-03-31 (a Friday); the round is due 2023-09-10.
    measure7 = TaskFacts(
        task_id=7, number=7, title="重大行政决策事项目录", due_date=d("2023-03-31")
    )
    other = TaskFacts(task_id=8, number=8, title="征集意见", due_date=d("2023-11-30"))
    unit = a_unit(1, tasks=[measure7, other])
    round_ = a_round("2023-09-10")

    def steps(day: str, units=(unit,), round_=round_) -> list[str]:
        plan = reminders_on(d(day), round_, list(units), DEFAULT, CALENDAR)
        return [r.step for r in plan.reminders]

    assert steps("2023-03-24") == ["task-7-before-5"]
    assert steps("2023-03-29") == ["task-7-before-2"]
    assert steps("2023-03-30") == ["task-7-before-1"]
    assert steps("2023-03-31") == ["task-7-due"]
    assert steps("2023-04-03") == []  # no overdue run for a task: the round's own covers it
    answered = a_unit(1, tasks=[TaskFacts(7, 7, "x", d("2023-03-31"), answered=True)])
    assert steps("2023-03-30", units=[answered]) == []
    # a later round leaves tasks due before the previous round to that round
    assert steps("2023-03-30", round_=a_round("2023-12-10", previous="2023-09-10")) == []


def test_task_reminders_can_be_switched_off() -> None:
    task = TaskFacts(7, 7, "x", d("2023-03-31"))
    policy = DEFAULT.with_changes({"task_reminders": False})
    plan = reminders_on(
        d("2023-03-30"), a_round("2023-09-10"), [a_unit(tasks=[task])], policy, CALENDAR
    )
    assert plan.reminders == []


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ("2023-10-09 08:59", []),
        ("2023-10-09 09:00", ["before-1"]),
        ("2023-10-09 17:59", ["before-1"]),
        ("2023-10-09 18:00", []),
        ("2023-10-07 10:00", []),  # a working Saturday without a step
        ("2023-10-08 10:00", ["before-2"]),
    ],
)
def test_due_now_keeps_to_office_hours_in_the_plans_time_zone(
    local_time: str, expected: list[str]
) -> None:
    now = dt.datetime.fromisoformat(local_time).replace(tzinfo=DEFAULT.zone)
    plan = due_now(now.astimezone(dt.UTC), a_round("2023-10-10"), [a_unit()], DEFAULT, CALENDAR)
    assert [r.step for r in plan.reminders] == expected


def test_the_office_day_is_the_plans_not_utcs() -> None:
    moment = dt.datetime(2023, 10, 9, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    plan = due_now(moment, a_round("2023-10-10"), [a_unit()], DEFAULT, CALENDAR)
    assert [(r.step, r.on.isoformat()) for r in plan.reminders] == [("before-1", "2023-10-09")]
    utc = DEFAULT.with_changes({"timezone": "UTC"})  # 02:00 UTC: before office hours
    assert not due_now(moment, a_round("2023-10-10"), [a_unit()], utc, CALENDAR)


def test_a_missed_escalation_catches_up_but_a_missed_reminder_does_not() -> None:
    # The bot was down on Oct 18, the escalation day; on Oct 19 the escalation still goes.
    moment = dt.datetime(2023, 10, 19, 2, 0, tzinfo=dt.UTC)
    plan = due_now(moment, a_round("2023-10-10"), [a_unit()], DEFAULT, CALENDAR)
    assert plan.escalation is not None and plan.reminders == []


def test_policy_layers_plan_then_round_then_command_line() -> None:
    policy = effective_policy(
        {"before": [3], "office_hours": "08:30-17:30"},
        {"overdue_days": 2},
        {"timezone": "Asia/Urumqi"},
        timezone="Asia/Shanghai",
    )
    assert policy.before == (3,)
    assert (policy.office_start, policy.office_end) == (dt.time(8, 30), dt.time(17, 30))
    assert policy.overdue_days == 2
    assert policy.timezone == "Asia/Urumqi"
    assert effective_policy(None, None).to_json() == {
        "before": [5, 2, 1],
        "on_due_day": True,
        "overdue_days": 5,
        "escalate": True,
        "task_reminders": True,
        "office_hours": "09:00-18:00",
        "timezone": "Asia/Shanghai",
    }
    assert effective_policy(policy.to_json()) == policy


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"befor": [1]}, "unknown reminder setting 'befor'"),
        ({"before": [0]}, "between 1 and"),
        ({"before": "x"}, "whole numbers"),
        ({"overdue_days": -1}, "between 0 and"),
        ({"office_hours": "9-18"}, "09:00-18:00"),
        ({"office_hours": "18:00-09:00"}, "end after they start"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"escalate": "yes"}, "true or false"),
    ],
)
def test_bad_policies_are_refused_with_a_clear_message(changes: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        DEFAULT.with_changes(changes)


def test_dedupe_key_names_round_unit_contact_step_and_date() -> None:
    plan = reminders_on(d("2023-10-09"), a_round("2023-10-10"), [a_unit(4)], DEFAULT, CALENDAR)
    assert plan.reminders[0].dedupe_key == "reminder:1:4:11:before-1:2023-10-09"
