"""The `taizhang` command line.

Heavy modules (aiogram, SQLAlchemy, python-docx) are imported inside the commands that need
them, so that `taizhang --help` and friends answer at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_broadcast import broadcast_app
from bot.cli_contact import contact_app
from bot.cli_invite import invite_app
from bot.cli_ledger import export_command, report_app
from bot.cli_notice import notice_app
from bot.cli_outbox import outbox_app, remind_app
from bot.cli_review import review_app
from bot.cli_sandbox import sandbox_command
from bot.cli_staff import staff_app
from bot.cli_status import nudge_command, status_command
from bot.cli_web import web_command

T = TypeVar("T")

app = typer.Typer(
    help="taizhang: the task-ledger (台账) reporting bot and its office tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
plan_app = typer.Typer(help="Plans (台账): import, list, show, export.", no_args_is_help=True)
units_app = typer.Typer(help="Units directories: import and list.", no_args_is_help=True)
round_app = typer.Typer(help="Reporting rounds (deadlines) of a plan.", no_args_is_help=True)
calendar_app = typer.Typer(
    help="Working-day calendar for years not yet built in.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(plan_app, name="plan")
app.add_typer(units_app, name="units")
app.add_typer(round_app, name="round")
app.add_typer(calendar_app, name="calendar")
app.add_typer(invite_app, name="invite")
app.add_typer(contact_app, name="contact")
app.command("sandbox")(sandbox_command)
app.command("export")(export_command)
app.add_typer(report_app, name="report")
app.add_typer(remind_app, name="remind")
app.add_typer(outbox_app, name="outbox")
app.add_typer(staff_app, name="staff")
app.command("status")(status_command)
app.command("nudge")(nudge_command)
app.add_typer(notice_app, name="notice")
app.add_typer(review_app, name="review")
app.add_typer(broadcast_app, name="broadcast")
app.command("web")(web_command)

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]taizhang:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load_settings_or_exit():
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as err:
        raise fail(str(err), 2) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def run_with_session(work: Callable[[Any], Awaitable[T]], *, commit: bool = True) -> T:
    """Open the database, run `work(session)` in one transaction, close everything."""
    settings = load_settings_or_exit()
    from storage.db import make_engine, make_session_factory

    async def main() -> T:
        engine = make_engine(settings.effective_database_url)
        try:
            await _ensure_schema(engine, settings.effective_database_url)
            async with make_session_factory(engine)() as session:
                result = await work(session)
                if commit:
                    await session.commit()
                return result
        finally:
            await engine.dispose()

    return _run_guarded(main())


async def _ensure_schema(engine, url: str) -> None:
    from storage.migrate import ensure_current

    await ensure_current(engine, url)


def _run_guarded(coro: Awaitable[T]) -> T:
    from ledger.errors import LedgerError
    from storage.services.errors import ServiceError

    try:
        return asyncio.run(coro)
    except (LedgerError, ServiceError) as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"cannot reach the database: {err}") from None


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or migrate it to the newest schema."""
    settings = load_settings_or_exit()
    from storage.migrate import upgrade

    try:
        upgrade(settings.effective_database_url)
    except OSError as err:
        raise fail(f"cannot reach the database: {err}") from None
    console.print(f"database is up to date ({_safe_url(settings.effective_database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- units


@units_app.command("import")
def units_import(
    file: Annotated[Path, typer.Argument(help="Units file: .yaml or .csv")],
    directory: Annotated[
        str | None, typer.Option(help="Directory key (a CSV file's name is the default).")
    ] = None,
) -> None:
    """Import or update a units directory (safe to repeat)."""
    from ledger.errors import LedgerError
    from ledger.units import load_units

    try:
        source = load_units(file, max_bytes=load_settings_or_exit().import_max_bytes)
    except LedgerError as err:
        raise fail(str(err)) from None
    if directory:
        source.key = directory

    async def work(session):
        from storage.services.directories import import_directory
        from storage.services.plans import refresh_directory_plans

        result = await import_directory(session, source)
        await refresh_directory_plans(session, source.key)
        return result

    result = run_with_session(work)
    console.print(
        f"directory [bold]{result.directory}[/]: {len(result.created)} created, "
        f"{len(result.updated)} updated, {result.unchanged} unchanged"
        + (
            f", {len(result.deactivated)} no longer listed (kept, inactive)"
            if result.deactivated
            else ""
        )
    )
    for problem in result.unknown_group_members:
        err_console.print(f"[yellow]group member not found:[/] {problem}")


@units_app.command("list")
def units_list(
    directory: Annotated[str | None, typer.Option(help="Only this directory.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the units of every directory (or one)."""

    async def work(session):
        from storage.services.directories import list_units

        return await list_units(session, directory)

    rows = run_with_session(work, commit=False)
    data = [
        {
            "directory": d.key,
            "name": u.name,
            "short_name": u.short_name,
            "kind": u.kind,
            "aliases": aliases,
            "active": u.active,
        }
        for d, u, aliases in rows
    ]
    if as_json:
        print_json(data)
        return
    table = Table("directory", "name", "short", "kind", "aliases")
    for row in data:
        name = row["name"] if row["active"] else f"[dim]{row['name']} (inactive)[/]"
        table.add_row(
            row["directory"], name, row["short_name"], row["kind"], "、".join(row["aliases"])
        )
    console.print(table)


@units_app.command("group")
def units_group(
    name: Annotated[str, typer.Argument(help="The group, e.g. 各决策单位.")],
    member: Annotated[
        list[str] | None, typer.Option("--member", "-m", help="A member unit (repeatable).")
    ] = None,
    directory: Annotated[str | None, typer.Option(help="Directory key.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Empty the group.")] = False,
) -> None:
    """Say which units a collective word (各决策单位, 各起草单位 …) means; plans follow."""
    if not member and not clear:
        raise fail("give the members with --member (repeatable), or --clear")

    async def work(session):
        from storage.services.directories import fill_group
        from storage.services.plans import refresh_directory_plans

        key, members = await fill_group(session, name, [] if clear else member or [], directory)
        await refresh_directory_plans(session, key)
        return key, members

    key, members = run_with_session(work)
    shown = "、".join(members) if members else "(empty)"
    console.print(f"{key}: {name} = {shown}", highlight=False)


# ---------------------------------------------------------------- plan


@plan_app.command("import")
def plan_import(
    file: Annotated[Path, typer.Argument(help="Plan file: .yaml, .docx or .xlsx")],
    key: Annotated[str | None, typer.Option(help="Plan key for a Word or Excel file.")] = None,
    directory: Annotated[str | None, typer.Option(help="Units directory of the plan.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would change.")
    ] = False,
    strict: Annotated[bool, typer.Option(help="Refuse a plan naming unknown units.")] = False,
    columns: Annotated[
        str | None,
        typer.Option(help="Roles of a form's columns: 工作要求=content,配合单位=responsible."),
    ] = None,
    columns_file: Annotated[
        Path | None, typer.Option(help="A saved column mapping (default: FILE.columns.yaml).")
    ] = None,
    save_columns: Annotated[
        bool, typer.Option("--save-columns", help="Save --columns as FILE.columns.yaml.")
    ] = False,
    year: Annotated[
        int | None, typer.Option(help="Year of deadlines written without one (年底前).")
    ] = None,
    replace_assignments: Annotated[
        bool,
        typer.Option(
            "--replace-assignments",
            help="Let the import take assignments away (else it lists them and stops).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import or update a plan (safe to repeat; answers already given are kept)."""
    from bot import cli_plan_import as reading
    from ledger.errors import LedgerError
    from ledger.form_import import FileTooLarge

    settings = load_settings_or_exit()
    try:
        mapping = reading.read_columns_option(columns, columns_file)
        plan, warnings, imported = reading.read_plan(
            file,
            key=key,
            directory=directory,
            columns=mapping,
            year=year,
            max_bytes=settings.import_max_bytes,
        )
    except LedgerError as err:
        if as_json:
            print_json(reading.refusal(file, err))
            raise typer.Exit(1) from None
        hint = reading.TOO_LARGE_HINT if isinstance(err, FileTooLarge) else ""
        raise fail(f"{err}{hint}") from None
    if save_columns and mapping:
        saved = reading.save_columns(file, mapping)
        err_console.print(f"column mapping saved in {saved}", highlight=False)
    for warning in [] if as_json else warnings:
        err_console.print(f"[yellow]{file}:[/] {warning}", highlight=False)
    _check_reminder_settings(file, plan)

    async def work(session):
        from storage.services.plans import AssignmentsWouldBeRemoved, import_plan

        try:  # a dry run works the removals out to list them
            result = await import_plan(
                session, plan, replace_assignments=replace_assignments or dry_run
            )
        except AssignmentsWouldBeRemoved as err:
            await session.rollback()
            return err.result, True
        unknown = [u for u in result.unresolved if u.why == "unknown"]
        if dry_run or (strict and unknown):
            await session.rollback()
        return result, False

    result, refused = run_with_session(work, commit=not dry_run)
    if as_json:
        data = reading.summary(file, plan, warnings, imported, result, dry_run=dry_run)
        if refused:
            data["error"] = reading.REFUSED_REMOVALS
        print_json(data)
    else:
        _print_import_result(file, result, dry_run, refused)
    if refused:
        raise fail(
            f"this import would remove the {len(result.assignments_removed)} assignments "
            "listed above; nothing saved. Load the plan's units directory first if it is "
            "missing, or import again with --replace-assignments if they should go"
        )
    if strict and any(u.why == "unknown" for u in result.unresolved):
        raise fail("plan names units that are not in its directory (see above); nothing saved")


def _check_reminder_settings(file: Path, plan) -> None:
    """A plan's `reminders:` sections are checked now, not when the first reminder is due."""
    from scheduler.policy import PolicyError, ReminderPolicy

    settings = [("reminders", plan.reminders)]
    settings += [(f"rounds {r.due}: reminders", r.reminders) for r in plan.rounds]
    for place, values in settings:
        if not values:
            continue
        try:
            ReminderPolicy().with_changes(values)
        except PolicyError as err:
            raise fail(f"{file}: {place}: {err}") from None


def _print_import_result(file: Path, result, dry_run: bool, refused: bool = False) -> None:
    counts = result.counts
    console.print(
        f"{file}: plan [bold]{result.key}[/] — {counts['sections']} sections, "
        f"{counts['items']} items, {counts['tasks']} tasks"
    )
    if not result.changed:
        console.print("nothing changed (already imported)")
    else:
        parts = [
            ("created" if result.created else None),
            (
                f"{len(result.tasks_created)} tasks added"
                if result.tasks_created and not result.created
                else None
            ),
            (f"{len(result.tasks_updated)} tasks updated" if result.tasks_updated else None),
            (
                f"{len(result.tasks_retired)} tasks retired (answers kept)"
                if result.tasks_retired
                else None
            ),
            (f"{len(result.rounds_created)} rounds added" if result.rounds_created else None),
            (
                f"{result.assignments_changed} assignments changed"
                if result.assignments_changed
                else None
            ),
        ]
        console.print(", ".join(p for p in parts if p))
    if result.assignments_removed:
        verb = "would remove" if dry_run or refused else "removed"
        err_console.print(
            f"[yellow]assignments this import {verb} ({len(result.assignments_removed)}):[/]",
            highlight=False,
        )
        for removed in result.assignments_removed:
            err_console.print(f"  {removed}", highlight=False, soft_wrap=True)
        if dry_run and not refused:
            err_console.print(
                "[yellow]importing this file for real needs --replace-assignments[/]"
            )
    if dry_run:
        console.print("[yellow]dry run: the changes above were not saved[/]")
    _print_unresolved(result.unresolved)


def _print_unresolved(unresolved) -> None:
    labels = {
        "unknown": "not in the units directory",
        "pending_group": "group still empty (staff fill it in)",
        "no_directory": "plan's units directory is not loaded",
        "no_responsibility": "no 责任单位 given",
    }
    by_name: dict[tuple[str, str], list[int]] = {}
    for problem in unresolved:
        by_name.setdefault((problem.name, problem.why), []).append(problem.task)
    for (name, why), tasks in sorted(by_name.items(), key=lambda kv: kv[1][0]):
        numbers = ", ".join(str(n) for n in tasks)
        label = f"“{name}” " if name else ""
        err_console.print(
            f"[yellow]unresolved:[/] {label}{labels[why]} — tasks {numbers}", highlight=False
        )


@plan_app.command("list")
def plan_list(as_json: JsonOption = False) -> None:
    """List the plans."""

    async def work(session):
        from storage.services.plans import list_plans

        return await list_plans(session)

    plans = run_with_session(work, commit=False)
    if as_json:
        print_json(plans)
        return
    table = Table("key", "title", "layout", "sections", "items", "tasks", "rounds")
    for p in plans:
        table.add_row(
            p["key"],
            p["title"],
            p["layout"],
            str(p["sections"]),
            str(p["items"]),
            str(p["tasks"]),
            str(p["rounds"]),
        )
    console.print(table)


@plan_app.command("show")
def plan_show(
    plan: Annotated[str, typer.Argument(help="Plan key")],
    as_json: JsonOption = False,
) -> None:
    """Show a plan: sections, items, tasks, who answers for each, deadlines, unresolved names."""

    async def work(session):
        from storage.services.plans import plan_overview

        return await plan_overview(session, plan)

    data = run_with_session(work, commit=False)
    if as_json:
        print_json(data)
        return
    console.print(
        f"[bold]{data['title']}[/] {data['subtitle']}  ({data['key']}, {data['layout']})"
    )
    console.print(
        f"{data['sections']} sections, {data['items']} items, {data['tasks']} tasks; "
        f"units directory: {data['directory'] or '-'}"
    )
    for r in data["rounds"]:
        console.print(f"round {r['due']} {r['name']} ({r['status']})")
    table = Table("序号", "task", "lead 牵头", "responsible 责任", "due", "open", show_lines=False)
    for t in data["task_list"]:
        title = t["name"] or t["content"][:18] + ("…" if len(t["content"]) > 18 else "")
        opened = "、".join(t["unresolved"] + t["pending_groups"])
        table.add_row(
            str(t["number"]),
            title,
            _names(t["lead_short"]),
            _names(t["responsible_short"]),
            t["due_date"] or t["due_text"],
            opened,
        )
    console.print(table)
    if data["unresolved"]:
        console.print(f"[yellow]unresolved names:[/] {'、'.join(data['unresolved'])}")
    if data["pending_groups"]:
        console.print(f"[yellow]groups to fill in:[/] {'、'.join(data['pending_groups'])}")


def _names(names: list[str], limit: int = 4) -> str:
    if len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f" …(+{len(names) - limit})"


@plan_app.command("export")
def plan_export(
    plan: Annotated[str, typer.Argument(help="Plan key")],
    output: Annotated[Path, typer.Option("-o", "--output", help="YAML file to write.")],
) -> None:
    """Write the plan as a YAML plan file (imports back to the same plan)."""

    async def work(session):
        from storage.services.plans import load_ledger_plan

        return await load_ledger_plan(session, plan)

    ledger_plan = run_with_session(work, commit=False)
    from ledger.plan_yaml import dump_plan

    output.write_text(dump_plan(ledger_plan), encoding="utf-8")
    console.print(f"wrote {output}")


@plan_app.command("assign")
def plan_assign(
    plan: Annotated[str, typer.Argument(help="Plan key")],
    task: Annotated[int, typer.Argument(help="序号 of the task")],
    lead: Annotated[list[str] | None, typer.Option(help="Lead unit (repeatable).")] = None,
    responsible: Annotated[
        list[str] | None, typer.Option(help="Responsible unit (repeatable).")
    ] = None,
    reset: Annotated[bool, typer.Option(help="Go back to what the 责任单位 text says.")] = False,
) -> None:
    """Override who answers for a task (staff's decision beats the printed text)."""
    if not reset and not lead and not responsible:
        raise fail("give --lead and/or --responsible, or --reset")

    async def work(session):
        from storage.services.plans import override_assignment

        return await override_assignment(
            session, plan, task, [] if reset else lead or [], [] if reset else responsible or []
        )

    unresolved = run_with_session(work)
    console.print(f"task {task} of {plan}: assignment {'reset' if reset else 'overridden'}")
    _print_unresolved(unresolved)


# ---------------------------------------------------------------- rounds


@round_app.command("add")
def round_add(
    plan: Annotated[str, typer.Argument(help="Plan key")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
    name: Annotated[str, typer.Option(help="Name, e.g. 2023年12月报送.")] = "",
) -> None:
    """Add a reporting round (a deadline) to a plan."""
    try:
        due_date = dt.date.fromisoformat(due)
    except ValueError:
        raise fail(f"--due must be a date written YYYY-MM-DD, not {due!r}", 2) from None

    async def work(session):
        from storage.services.calendar import load_work_calendar
        from storage.services.plans import add_round

        round_ = await add_round(session, plan, due_date, name)
        covered = (await load_work_calendar(session)).covered(due_date.year)
        return {
            "id": round_.id,
            "name": round_.name,
            "due": round_.due_date.isoformat(),
            "calendar_loaded": covered,
        }

    data = run_with_session(work)
    console.print(f"round {data['id']}: {data['name']} due {data['due']}")
    if not data["calendar_loaded"]:
        year = due_date.year
        err_console.print(
            f"[yellow]warning:[/] the holidays of {year} are not loaded: reminders count every "
            f"weekday of {year} as a working day until `taizhang calendar import FILE`",
            highlight=False,
        )


@round_app.command("list")
def round_list(
    plan: Annotated[str | None, typer.Option(help="Only this plan.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List reporting rounds."""

    async def work(session):
        from storage.services.rounds import list_rounds

        return await list_rounds(session, plan)

    rounds = run_with_session(work, commit=False)
    if as_json:
        print_json(rounds)
        return
    table = Table("id", "plan", "name", "due", "status", "submitted")
    for r in rounds:
        table.add_row(
            str(r["id"]),
            r["plan"],
            r["name"],
            r["due"],
            r["status"],
            f"{r['submitted']}/{r['units']}",
        )
    console.print(table)


@round_app.command("close")
def round_close(
    round_ref: Annotated[str, typer.Argument(metavar="ROUND", help="Round id or due date.")],
    plan: Annotated[str | None, typer.Option(help="Plan key, when dates repeat.")] = None,
    reopen: Annotated[bool, typer.Option("--reopen", help="Open the round again.")] = False,
) -> None:
    """Close a round: answers can no longer change (or --reopen it)."""

    async def work(session):
        from storage.services.rounds import find_round, set_round_status

        round_ = await find_round(session, round_ref, plan)
        round_ = await set_round_status(session, round_.id, "open" if reopen else "closed")
        return round_.name, round_.status

    name, status = run_with_session(work)
    console.print(f"round {name}: {status}")


# ---------------------------------------------------------------- calendar


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(help="Calendar YAML for one year.")],
) -> None:
    """Load a year's holidays and adjusted working days (for years not built in)."""
    from ledger.errors import LedgerError
    from ledger.workdays import WorkCalendar, parse_calendar_yaml

    try:
        text = file.read_text(encoding="utf-8-sig")
        schedules = parse_calendar_yaml(text, source=str(file))
        for schedule in schedules:  # checks each year is consistent before saving any
            WorkCalendar().load_year(schedule.year, schedule.holidays, schedule.workdays)
    except LedgerError as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{file}: {err.strerror}") from None

    async def work(session):
        from storage.services.calendar import save_year_schedules

        return await save_year_schedules(session, schedules)

    for year, holidays, workdays in run_with_session(work):
        console.print(f"{year}: {holidays} days off and {workdays} adjusted working days loaded")


# ---------------------------------------------------------------- the bot


@app.command("run")
def run_bot() -> None:
    """Run the bot by long polling against TELEGRAM_API_BASE (or a webhook when configured)."""
    settings = load_settings_or_exit()
    from bot.settings import SettingsError, require_token

    try:
        require_token(settings)
        if settings.web.port:  # checked before anything starts, not once the bot polls
            from bot.web_server import require_web

            require_web(settings)
    except SettingsError as err:
        raise fail(str(err), 2) from None
    from bot.runner import run

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))
    except SettingsError as err:  # found while starting (the web form's settings, say)
        raise fail(str(err), 2) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
