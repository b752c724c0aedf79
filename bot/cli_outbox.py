"""`taizhang remind …` and `taizhang outbox …`: reminders and the outbox from the command line.

Registered in bot/cli.py:

    from bot.cli_outbox import outbox_app, remind_app
    app.add_typer(remind_app, name="remind")
    app.add_typer(outbox_app, name="outbox")

Heavy modules are imported inside the commands, as in bot/cli.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

remind_app = typer.Typer(
    help="Deadline reminders: preview who is reminded when, sweep now, set the policy.",
    no_args_is_help=True,
)
outbox_app = typer.Typer(
    help="The outbox: what the bot sends on its own, queued, sent and failed.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PlanOption = Annotated[
    str | None, typer.Option("--plan", help="Plan key, when a due date names the round.")
]
WEEKDAYS = "一二三四五六日"


def _cli():
    from bot import cli

    return cli


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _cli().fail(
            f"{option} must be a date written YYYY-MM-DD, not {value!r}", 2
        ) from None


def _overrides(
    before: str | None,
    overdue_days: int | None,
    office_hours: str | None,
    timezone: str | None,
    on_due_day: bool | None = None,
    escalate: bool | None = None,
    task_reminders: bool | None = None,
) -> dict[str, Any]:
    """Policy settings given on the command line, checked before the database is opened."""
    from scheduler.policy import PolicyError, ReminderPolicy

    changes = {
        "before": before,
        "overdue_days": overdue_days,
        "office_hours": office_hours,
        "timezone": timezone,
        "on_due_day": on_due_day,
        "escalate": escalate,
        "task_reminders": task_reminders,
    }
    changes = {key: value for key, value in changes.items() if value is not None}
    try:
        policy = ReminderPolicy().with_changes(changes)
    except PolicyError as err:
        raise _cli().fail(str(err), 2) from None
    if "before" in changes:
        changes["before"] = list(policy.before)  # stored as the YAML/JSON list it means
    return changes


BeforeOption = Annotated[
    str | None, typer.Option(help="Working days before the deadline, e.g. 5,2,1.")
]
OverdueOption = Annotated[
    int | None, typer.Option(help="Reminders on this many working days while overdue.")
]
HoursOption = Annotated[str | None, typer.Option(help="Office hours, e.g. 09:00-18:00.")]
ZoneOption = Annotated[str | None, typer.Option(help="Time zone, e.g. Asia/Shanghai.")]


# ---------------------------------------------------------------- remind


@remind_app.command("preview")
def remind_preview(
    round_ref: Annotated[str, typer.Argument(metavar="ROUND", help="Round id or due date.")],
    plan: PlanOption = None,
    from_date: Annotated[
        str | None, typer.Option("--from", help="First day shown (YYYY-MM-DD).")
    ] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="Last day shown.")] = None,
    before: BeforeOption = None,
    overdue_days: OverdueOption = None,
    office_hours: HoursOption = None,
    timezone: ZoneOption = None,
    as_json: JsonOption = False,
) -> None:
    """Day by day, who would be reminded and why, without sending anything.

    Units with no reachable contact are listed too, marked, so you see whom a reminder
    will not reach. Units that submitted already get nothing.
    """
    start, end = _date(from_date, "--from"), _date(to_date, "--to")
    overrides = _overrides(before, overdue_days, office_hours, timezone)

    async def work(session):
        from scheduler.policy import PolicyError
        from scheduler.reminders import preview
        from storage.services.errors import ServiceError
        from storage.services.rounds import find_round

        round_ = await find_round(session, round_ref, plan)
        try:
            return await preview(session, round_.id, start=start, end=end, overrides=overrides)
        except PolicyError as err:
            raise ServiceError(f"reminder policy: {err}") from None

    result = _cli().run_with_session(work, commit=False)
    for year in result.calendar_missing:
        _cli().err_console.print(
            f"[yellow]warning:[/] the holidays of {year} are not loaded: every weekday of {year} "
            "counts as a working day until `taizhang calendar import FILE`",
            highlight=False,
        )
    if as_json:
        _cli().print_json([line.to_json() for line in result.lines])
        return
    _print_preview(result)


def _print_preview(result) -> None:
    from rich.table import Table

    console = _cli().console
    round_ = result.round
    console.print(
        f"[bold]{round_.name}[/] (round {round_.id}, plan {result.plan.key}), "
        f"due {round_.due_date} — {result.start} to {result.end}, "
        f"office hours {result.policy.to_json()['office_hours']} {result.policy.timezone}",
        highlight=False,
    )
    if result.submitted:
        console.print(f"submitted, not reminded: {'、'.join(result.submitted)}", highlight=False)
    if result.no_contact:
        console.print(
            f"[red]no reachable contact:[/] {'、'.join(result.no_contact)}", highlight=False
        )
    if not result.lines:
        console.print("nobody would be reminded in this period")
        return
    table = Table("date", "unit", "contact", "step", "why")
    for line in result.lines:
        day = f"{line.date} {WEEKDAYS[line.date.weekday()]}"
        if line.step == "escalation":
            table.add_row(day, "[bold]staff[/]", "", "escalation", line.reason)
            continue
        contact = line.contact if line.reachable else "[red]no reachable contact[/]"
        table.add_row(day, line.unit, contact, line.step, line.reason)
    console.print(table)


@remind_app.command("sweep")
def remind_sweep(
    as_json: JsonOption = False,
    email: Annotated[
        bool | None,
        typer.Option(
            "--email/--no-email",
            help="Queue e-mail reminders too (default: when SMTP__HOST and WEB__BASE_URL are "
            "set). --email for a running `taizhang sandbox`, whose mailbox catches them.",
        ),
    ] = None,
) -> None:
    """Run one reminder sweep now: queue what is due (the running bot sends it)."""
    settings = _cli().load_settings_or_exit()
    mails = settings.email_enabled if email is None else email

    async def work(session):
        from scheduler.reminders import sweep

        return await sweep(
            session,
            staff_ids=settings.staff_ids,
            default_language=settings.default_locale,
            email=mails,  # e-mail contacts too, when SMTP__HOST is set (or --email)
        )

    result = _cli().run_with_session(work)
    if mails and not settings.email_enabled:
        _cli().err_console.print(
            "note: SMTP__HOST or WEB__BASE_URL is not set here; the e-mails queued wait for a "
            "running bot that sends them (taizhang sandbox's mailbox, or taizhang run with "
            "SMTP__HOST)",
            soft_wrap=True,
            highlight=False,
        )
    data = {
        "at": result.at.isoformat(),
        "rounds": result.rounds,
        "reminders": result.reminders,
        "escalations": result.escalations,
        "queued": result.queued,
        "unreachable": [{"round": r, "unit": u} for r, u in result.unreachable],
    }
    if as_json:
        _cli().print_json(data)
        return
    console = _cli().console
    console.print(
        f"{result.rounds} open rounds: {result.reminders} reminders and "
        f"{result.escalations} escalations due now, {result.queued} newly queued"
    )
    for round_id, unit in result.unreachable:
        console.print(f"[red]not reached:[/] {unit} (round {round_id}) has no reachable contact")


@remind_app.command("policy")
def remind_policy(
    plan: Annotated[str | None, typer.Option("--plan", help="Set the plan's policy.")] = None,
    round_ref: Annotated[
        str | None, typer.Option("--round", help="Set one round's policy (id or due date).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="YAML file with the settings.")
    ] = None,
    before: BeforeOption = None,
    overdue_days: OverdueOption = None,
    office_hours: HoursOption = None,
    timezone: ZoneOption = None,
    on_due_day: Annotated[bool | None, typer.Option(help="Remind on the due day.")] = None,
    escalate: Annotated[bool | None, typer.Option(help="Escalate to staff.")] = None,
    task_reminders: Annotated[
        bool | None, typer.Option(help="Remind of tasks due before the round.")
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the defaults.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show or change the reminder policy of a plan or of one round (the round's wins)."""
    if not plan and not round_ref:
        raise _cli().fail("give --plan KEY or --round ROUND", 2)
    changes = _file_settings(file) if file else {}
    changes.update(
        _overrides(
            before, overdue_days, office_hours, timezone, on_due_day, escalate, task_reminders
        )
    )

    async def work(session):
        from scheduler.policy import PolicyError, effective_policy
        from storage.services.plans import get_plan
        from storage.services.rounds import find_round

        if round_ref:
            target = await find_round(session, round_ref, plan)
            owner = await get_plan_by_id(session, target.plan_id)
        else:
            target = owner = await get_plan(session, plan)
        if reset:
            target.reminder_policy = None
        elif changes:
            target.reminder_policy = {**(target.reminder_policy or {}), **changes}
        round_layer = target.reminder_policy if round_ref else None
        try:
            policy = effective_policy(owner.reminder_policy, round_layer, timezone=owner.timezone)
        except PolicyError as err:
            from storage.services.errors import ServiceError

            raise ServiceError(str(err)) from None
        return {"own": target.reminder_policy or {}, "effective": policy.to_json()}

    data = _cli().run_with_session(work, commit=bool(changes) or reset)
    if as_json:
        _cli().print_json(data)
        return
    what = f"round {round_ref}" if round_ref else f"plan {plan}"
    console = _cli().console
    console.print(f"reminder policy of {what}; set here: {data['own'] or 'nothing'}")
    for key, value in data["effective"].items():
        console.print(f"  {key}: {value}", highlight=False)


async def get_plan_by_id(session, plan_id: int):
    from storage.models import Plan

    return await session.get(Plan, plan_id)


def _file_settings(file: Path) -> dict[str, Any]:
    import yaml

    from scheduler.policy import PolicyError, ReminderPolicy

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8-sig")) or {}
    except OSError as err:
        raise _cli().fail(f"{file}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise _cli().fail(f"{file}: not valid YAML ({err})") from None
    if isinstance(data, dict) and isinstance(data.get("reminders"), dict):
        data = data["reminders"]  # a plan file's reminders: section
    try:
        ReminderPolicy().with_changes(data)
    except PolicyError as err:
        raise _cli().fail(f"{file}: {err}") from None
    if "office_hours" in data:
        data["office_hours"] = str(data["office_hours"])
    return dict(data)


# ---------------------------------------------------------------- outbox


@outbox_app.command("stats")
def outbox_stats_command(as_json: JsonOption = False) -> None:
    """How many messages are queued, being sent, sent and failed, by kind."""

    async def work(session):
        from storage.services.outbox import outbox_stats

        return await outbox_stats(session)

    stats = _cli().run_with_session(work, commit=False)
    if as_json:
        _cli().print_json(stats.to_json())
        return
    from rich.table import Table

    statuses = list(stats.by_status)
    table = Table("kind", *statuses)
    for kind, counts in stats.by_kind.items():
        table.add_row(kind, *(str(counts.get(status, 0)) for status in statuses))
    table.add_row("[bold]all[/]", *(f"[bold]{stats.by_status[s]}[/]" for s in statuses))
    console = _cli().console
    console.print(table)
    if stats.oldest_queued:
        console.print(
            f"oldest queued since {stats.oldest_queued:%Y-%m-%d %H:%M} UTC; "
            f"next attempt {stats.next_attempt:%Y-%m-%d %H:%M:%S} UTC"
        )


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="queued, sending, sent or failed.")] = None,
    kind: Annotated[str | None, typer.Option(help="reminder, escalation, staff_notice …")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The newest outbox messages, with why they failed."""
    if status and status not in ("queued", "sending", "sent", "failed"):
        raise _cli().fail("--status must be queued, sending, sent or failed", 2)

    async def work(session):
        from storage.services.outbox import list_outbox

        return await list_outbox(session, status=status, kind=kind, limit=limit)

    rows = _cli().run_with_session(work, commit=False)
    data = [
        {
            "id": row.id,
            "kind": row.kind,
            "chat_id": row.chat_id,
            "contact_id": row.contact_id,
            "status": row.status,
            "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "telegram_message_id": row.telegram_message_id,
            "last_error": row.last_error,
            "dedupe_key": row.dedupe_key,
        }
        for row in rows
    ]
    if as_json:
        _cli().print_json(data)
        return
    from rich.table import Table

    table = Table("id", "kind", "chat", "status", "tries", "when", "error")
    for row in rows:
        when = row.sent_at or row.next_attempt_at
        table.add_row(
            str(row.id),
            row.kind,
            str(row.chat_id),
            row.status,
            str(row.attempts),
            f"{when:%Y-%m-%d %H:%M}",
            row.last_error,
        )
    _cli().console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Message ids (default: all failed).")
    ] = None,
) -> None:
    """Queue failed messages again with fresh attempts (after fixing what made them fail)."""

    async def work(session):
        from storage.services.outbox import retry_failed

        return await retry_failed(session, ids or None)

    count = _cli().run_with_session(work)
    _cli().console.print(f"{count} failed messages queued again")
