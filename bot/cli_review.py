"""`taizhang review list|accept|return`: the office's /review, for scripts. The same services as
the bot, as the operator; the unit's contacts are told through the outbox (the running bot
sends the notices).

Registered in bot/cli.py as `app.add_typer(review_app, name="review")`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli_status import PlanOption, RoundArgument

review_app = typer.Typer(
    help="Review: accept a unit's submitted report, or return it (or one task) with a comment.",
    no_args_is_help=True,
)

UnitArgument = Annotated[
    str, typer.Argument(metavar="UNIT", help="The unit: name, short name or alias.")
]
VersionOption = Annotated[
    int | None,
    typer.Option(
        "--version", help="Only if this is still the unit's latest version (default: latest)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]


def _cli():
    from bot import cli

    return cli


@review_app.command("list")
def review_list(round_ref: RoundArgument, plan: PlanOption = None, as_json: JsonOption = False):
    """The submitted units of a round: awaiting review, returned, accepted."""
    cli = _cli()

    async def work(session):
        from storage.services import review, rounds
        from storage.services.staff import OPERATOR

        round_ = await rounds.find_round(session, round_ref, plan)
        return await review.round_review(session, OPERATOR, round_.id)

    result = cli.run_with_session(work, commit=False)
    groups = (("awaiting", result.awaiting), ("returned", result.returned))
    groups += (("accepted", result.accepted),)
    rows = [
        {
            "unit": line.name,
            "short_name": line.label,
            "review": name,
            "resubmitted": line.state == "resubmitted",
            "version": line.version,
            "submitted_local": line.at.strftime("%Y-%m-%d %H:%M"),
            "by": line.by_label,
        }
        for name, lines in groups
        for line in lines
    ]
    if as_json:
        cli.print_json(
            {"round": result.round_id, "not_submitted": result.not_submitted, "units": rows}
        )
        return
    from rich.table import Table

    cli.console.print(
        f"{result.round_name}: {len(result.awaiting)} awaiting review, "
        f"{len(result.returned)} returned, {len(result.accepted)} accepted, "
        f"{result.not_submitted} not submitted",
        highlight=False,
    )
    if rows:
        table = Table("unit", "review", "version", "submitted", "by")
        for row in rows:
            state = row["review"] + (" (resubmitted)" if row["resubmitted"] else "")
            table.add_row(
                row["short_name"], state, str(row["version"]), row["submitted_local"], row["by"]
            )
        cli.console.print(table)


def _told(told, as_json: bool) -> None:
    cli = _cli()
    decided = told.decided
    target, decision = decided.target, decided.decision
    if as_json:
        cli.print_json(
            {
                "decision": decision.decision,
                "unit": target.unit_name,
                "round": target.round_id,
                "version": decision.version,
                "task": target.task_number or None,
                "comment": decision.comment,
                "already": decided.already,
                "queued": told.queued,
                "contacts_told": told.notified,
                "unreachable_contacts": decided.unreachable,
            }
        )
        return
    what = f"task {target.task_number} of " if target.task_number else ""
    verb = "accepted" if decision.decision == "accepted" else "returned"
    line = f"{target.unit_label}: {what}version {decision.version} {verb}"
    if decided.already:
        line += " already; nothing new queued"
    elif told.reachable:
        line += f"; notice queued for {told.notified} contacts"
    else:
        line += "; NOBODY REACHABLE at this unit (send an invite: taizhang invite create --unit …)"
    cli.console.print(line, highlight=False, soft_wrap=True)


@review_app.command("accept")
def review_accept(
    round_ref: RoundArgument,
    unit: UnitArgument,
    plan: PlanOption = None,
    version: VersionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept the unit's latest submitted version; its contacts are told."""
    cli = _cli()
    settings = cli.load_settings_or_exit()

    async def work(session):
        from scheduler import review_notices
        from storage.services import rounds
        from storage.services.invites import find_unit
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        round_ = await rounds.find_round(session, round_ref, plan)
        found = await find_unit(session, unit)
        return await review_notices.accept_and_tell(
            session,
            OPERATOR,
            round_.id,
            found.id,
            version=version,
            now=utcnow(),
            default_language=settings.default_locale,
        )

    _told(cli.run_with_session(work), as_json)


@review_app.command("return")
def review_return(
    round_ref: RoundArgument,
    unit: UnitArgument,
    comment: Annotated[
        str, typer.Option("--comment", help="What the unit should correct (required).")
    ],
    task: Annotated[
        int | None, typer.Option("--task", help="Return only this task (its 序号).")
    ] = None,
    plan: PlanOption = None,
    version: VersionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Return the unit's latest submitted version (or one task) with a comment; its contacts
    are told, and see the comment on the task list and the returned task's card."""
    cli = _cli()
    settings = cli.load_settings_or_exit()

    async def work(session):
        from scheduler import review_notices
        from storage.services import review, rounds
        from storage.services.invites import find_unit
        from storage.services.staff import OPERATOR
        from storage.types import utcnow

        round_ = await rounds.find_round(session, round_ref, plan)
        found = await find_unit(session, unit)
        task_id = None
        if task is not None:
            task_id = await review.task_by_number(session, round_.id, found.id, task)
        return await review_notices.return_and_tell(
            session,
            OPERATOR,
            round_.id,
            found.id,
            comment,
            version=version,
            task_id=task_id,
            now=utcnow(),
            default_language=settings.default_locale,
        )

    _told(cli.run_with_session(work), as_json)
