"""`taizhang status ROUND` and `taizhang nudge ROUND`: the office's status screen and its
nudge button, for scripts. They call the same services as the bot, as the operator.

Registered in bot/cli.py as `app.command("status")(status_command)` and
`app.command("nudge")(nudge_command)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

RoundArgument = Annotated[
    str, typer.Argument(metavar="ROUND", help="Round id, or its due date (YYYY-MM-DD).")
]
PlanOption = Annotated[
    str | None, typer.Option("--plan", help="Plan key, when a due date names the round.")
]


def _cli():
    from bot import cli

    return cli


def _local(moment: dt.datetime | None, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def status_rows(result) -> list[dict[str, Any]]:
    """Per unit: state, answered x of y, submitted at and version (JSON for scripts)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(result.timezone)
    return [
        {
            "unit": unit.name,
            "short_name": unit.short_name,
            "kind": unit.kind,
            "state": unit.state,
            "answered": unit.answered,
            "total": unit.total,
            "submitted_at": unit.submitted_at.isoformat() if unit.submitted_at else None,
            "submitted_local": _local(unit.submitted_at, zone),
            "version": unit.version,
            "version_at": unit.version_at.isoformat() if unit.version_at else None,
            "changed_tasks": unit.pending_changes,
            "contacts": unit.contacts,
            "reachable_contacts": unit.reachable_contacts,
            "review": unit.review,
        }
        for unit in result.units
    ]


def status_command(
    round_ref: RoundArgument,
    plan: PlanOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """A round's status: who has submitted, who is late, who cannot be reached.

    Per unit: its state (on_time, late, partly, not_started), answered x of y, when it
    submitted and its latest version, and whether anyone can be reached."""
    from rich.table import Table

    cli = _cli()

    async def work(session):
        from storage.services import rounds, status
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        round_ = await rounds.find_round(session, round_ref, plan)
        return await status.round_status(session, OPERATOR, round_.id, now=utcnow())

    result = cli.run_with_session(work, commit=False)
    rows = status_rows(result)
    if as_json:
        cli.print_json(
            {
                "round": {
                    "id": result.round_id,
                    "name": result.round_name,
                    "plan": result.plan_key,
                    "due": result.due_date.isoformat(),
                    "open": result.open,
                    "overdue": result.overdue,
                },
                "counts": result.counts(),
                "unreachable": len(result.unreachable),
                "units": rows,
                "tasks": [
                    {"number": t.number, "answered": t.answered, "total": t.total}
                    for t in result.tasks
                ],
            }
        )
        return
    counts = result.counts()
    cli.console.print(
        f"{result.round_name} ({result.plan_key}, due {result.due_date}): "
        + ", ".join(f"{state} {count}" for state, count in counts.items())
        + f"; no reachable contact {len(result.unreachable)}",
        highlight=False,
    )
    table = Table("unit", "kind", "state", "answered", "submitted", "version", "reachable")
    for row in rows:
        changed = f" (changed: {', '.join(map(str, row['changed_tasks']))})"
        table.add_row(
            row["short_name"] or row["unit"],
            row["kind"],
            row["state"],
            f"{row['answered']}/{row['total']}",
            row["submitted_local"],
            (str(row["version"]) if row["version"] else "")
            + (changed if row["changed_tasks"] else ""),
            "yes" if row["reachable_contacts"] else "NO",
        )
    cli.console.print(table)


def nudge_command(
    round_ref: RoundArgument,
    plan: PlanOption = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this unit (name, short name or alias).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Act as at this moment, YYYY-MM-DD HH:MM in the plan's zone (default now).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """Remind every unit that has not submitted yet (or one unit).

    Queues a reminder, through the outbox, to each reachable contact of those units, as the
    office's 提醒未报送单位 button does: once a day per unit, so running it again the same day
    queues nothing more. The running bot sends them."""
    cli = _cli()
    settings = cli.load_settings_or_exit()
    try:
        moment = dt.datetime.fromisoformat(at) if at else None
    except ValueError:
        raise cli.fail(f"--at {at!r}: write YYYY-MM-DD HH:MM") from None

    async def work(session):
        from zoneinfo import ZoneInfo

        from scheduler import nudges
        from storage.services import rounds, status
        from storage.services.invites import find_unit
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        round_ = await rounds.find_round(session, round_ref, plan)
        now = utcnow()
        if moment is not None:
            zone = ZoneInfo((await status.round_status(session, OPERATOR, round_.id)).timezone)
            now = moment.replace(tzinfo=zone).astimezone(dt.UTC)
        unit_id = (await find_unit(session, unit)).id if unit else None
        return await nudges.nudge(
            session,
            OPERATOR,
            round_.id,
            now=now,
            unit_id=unit_id,
            default_language=settings.default_locale,
        )

    result = cli.run_with_session(work)
    if as_json:
        cli.print_json(
            {
                "round": result.round_id,
                "day": result.day.isoformat(),
                "queued": result.queued,
                "nudged": result.nudged,
                "already_today": result.already,
                "unreachable": result.unreachable,
                "already_submitted": result.already_submitted,
            }
        )
        return
    out = cli.console
    out.print(
        f"{result.round_name}: {result.queued} reminders queued for {len(result.nudged)} units",
        highlight=False,
    )
    for label, names in (
        ("reminded", result.nudged),
        ("already reminded today (nothing sent again)", result.already),
        ("already submitted", result.already_submitted),
        (
            "NO REACHABLE CONTACT (send an invite: taizhang invite create --unit …)",
            result.unreachable,
        ),
    ):
        if names:
            out.print(f"{label}: {', '.join(names)}", highlight=False, soft_wrap=True)
