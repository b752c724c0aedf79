"""`taizhang export …` and `taizhang report import …`: the official ledger out of the database,
and units' filled forms (or YAML reports) into it.

Registered in bot/cli.py:

    from bot.cli_ledger import export_command, report_app
    app.command("export")(export_command)
    app.add_typer(report_app, name="report")

Heavy modules (SQLAlchemy, python-docx, openpyxl) are imported inside the commands, as in
bot/cli.py. Files are written to a temporary name beside the target and renamed when complete,
so a failed export never leaves half a file (nor replaces a good one).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

if TYPE_CHECKING:
    from ledger.rounddata import RoundData

report_app = typer.Typer(
    help="Units' reports: load a filled Word form or a YAML report into a round.",
    no_args_is_help=True,
)

Progress = Callable[[int, int], None]


class Format(StrEnum):
    DOCX = "docx"
    XLSX = "xlsx"
    PDF = "pdf"
    ZIP = "zip"


class What(StrEnum):
    CONSOLIDATED = "consolidated"  # the office's consolidated ledger
    UNIT = "unit"  # one unit's form
    UNITS = "units"  # every unit's form, into a folder
    ARCHIVE = "archive"  # the round archive ZIP


@dataclass(frozen=True)
class ExportRequest:
    what: What
    fmt: Format


def _cli():
    from bot import cli

    return cli


# ---------------------------------------------------------------- export


def export_command(
    round_ref: Annotated[
        str, typer.Argument(metavar="ROUND", help="Round id, or its due date (YYYY-MM-DD).")
    ],
    plan: Annotated[
        str | None, typer.Option("--plan", help="Plan key, when a due date names the round.")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="One unit's filled form (name, short name or alias)."),
    ] = None,
    all_units: Annotated[
        bool, typer.Option("--all-units", help="Every unit's filled form, into a folder.")
    ] = False,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            help="docx, xlsx, pdf, or zip (the round archive). Default: -o's suffix, else docx.",
        ),
    ] = None,
    only_own_tasks: Annotated[
        bool,
        typer.Option("--only-own-tasks", help="Unit forms print only the unit's own tasks."),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="File (a folder for --all-units). Default: a name in ./"
        ),
    ] = None,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts",
            help="Print the answers as they stand now, marked 草稿，未提交 on every page, "
            "instead of what each unit submitted.",
        ),
    ] = False,
) -> None:
    """Write a round's ledger: the consolidated ledger (default), one unit's form (--unit),
    every unit's form (--all-units), or the round archive (--format zip). Each unit's last
    submitted version is printed; a unit that never submitted prints blank (--drafts: the
    current answers)."""
    request = export_request(unit, all_units, fmt, output, only_own_tasks)
    data, unit_name = _load_round(
        round_ref, plan, unit, with_evidence=request.what is What.ARCHIVE, drafts=drafts
    )
    with _guarded():
        if request.what is What.ARCHIVE:
            _export_archive(data, output, only_own_tasks)
        elif request.what is What.UNITS:
            _export_unit_forms(data, request.fmt, output, only_own_tasks)
        elif request.what is What.UNIT:
            _export_unit_form(data, unit_name, request.fmt, output, only_own_tasks)
        else:
            _export_consolidated(data, request.fmt, output)


def export_request(
    unit: str | None,
    all_units: bool,
    fmt: Format | None,
    output: Path | None,
    only_own_tasks: bool = False,
) -> ExportRequest:
    """What to write, and in which format; a usage error (exit 2) for a combination that
    makes no sense."""
    fail = _cli().fail
    if unit and all_units:
        raise fail("give --unit or --all-units, not both", 2)
    fmt = fmt or _format_of(output, folder=all_units) or Format.DOCX
    if fmt is Format.ZIP:
        if unit or all_units:
            raise fail("--format zip writes the whole round's archive: leave out --unit", 2)
        return ExportRequest(What.ARCHIVE, fmt)
    if unit or all_units:
        if fmt is Format.XLSX:
            raise fail("a unit's form is a Word document: --format docx or pdf", 2)
        return ExportRequest(What.UNIT if unit else What.UNITS, fmt)
    if only_own_tasks:
        raise fail("--only-own-tasks is for unit forms (--unit, --all-units, --format zip)", 2)
    return ExportRequest(What.CONSOLIDATED, fmt)


def _format_of(output: Path | None, *, folder: bool) -> Format | None:
    """The format an output file's suffix names (`-o 台账.xlsx`), if any."""
    if output is None or folder or output.is_dir():
        return None
    suffix = output.suffix.lower().lstrip(".")
    return Format(suffix) if suffix in set(Format) else None


def _load_round(
    round_ref: str, plan: str | None, unit: str | None, *, with_evidence: bool, drafts: bool
) -> tuple[RoundData, str | None]:
    """The round's data from the database, and the canonical name of the unit asked for."""

    async def work(session) -> tuple[RoundData, str | None]:
        from storage.services.errors import ServiceError
        from storage.services.exports import find_round_unit, round_data
        from storage.services.rounds import find_round

        round_ = await find_round(session, round_ref, plan)
        data = await round_data(session, round_.id, with_evidence=with_evidence, drafts=drafts)
        if plan and data.plan.key != plan:
            raise ServiceError(f"round {round_ref} is a round of plan {data.plan.key}, not {plan}")
        if not unit:
            return data, None
        found = await find_round_unit(session, round_.id, unit)
        if found.name not in {u.name for u in data.units}:
            raise ServiceError(
                f"{found.name} answers for nothing in plan {data.plan.key}: it has no form"
            )
        return data, found.name

    return _cli().run_with_session(work, commit=False)


def _target(output: Path | None, default_name: str) -> Path:
    """The file to write: -o as given, or the default name in -o's folder or in ./"""
    if output is None:
        return Path(default_name)
    if output.is_dir():
        return output / default_name
    return output


def _export_consolidated(data: RoundData, fmt: Format, output: Path | None) -> None:
    from storage.services import export_files

    path = _target(output, export_files.consolidated_name(data, fmt.value))
    _write_file(path, export_files.consolidated_file(data, fmt.value))


def _export_unit_form(
    data: RoundData, unit: str, fmt: Format, output: Path | None, only_own_tasks: bool
) -> None:
    from storage.services import export_files

    path = _target(output, export_files.unit_form_name(data, unit, fmt.value))
    payload = export_files.unit_form_file(data, unit, fmt.value, only_own_tasks=only_own_tasks)
    _write_file(path, payload)


def _export_unit_forms(
    data: RoundData, fmt: Format, output: Path | None, only_own_tasks: bool
) -> None:
    from ledger.archive import safe_filename
    from storage.services import export_files

    folder = output or Path(f"{export_files.file_stem(data)}-{export_files.UNIT_FORMS_FOLDER}")
    if folder.exists() and not folder.is_dir():
        raise _cli().fail(f"{folder} is a file: --all-units writes into a folder")
    folder.mkdir(parents=True, exist_ok=True)
    units = data.reporting_units()
    overwritten = 0
    with progress_bar(f"{fmt} forms", len(units)) as advance:
        forms = export_files.unit_form_files(
            data, fmt.value, only_own_tasks=only_own_tasks, progress=lambda s: advance(*s.overall)
        )
        for unit, payload in forms:
            path = folder / f"{safe_filename(unit.name, 'unit')}.{fmt}"
            overwritten += path.exists()
            _replace_file(path, lambda stream: stream.write(payload))  # noqa: B023 (used at once)
    note = f" ({overwritten} existing files overwritten)" if overwritten else ""
    _cli().console.print(
        f"wrote {len(units)} unit forms into {folder}{os.sep}{note}",
        highlight=False,
        soft_wrap=True,
    )


def _export_archive(data: RoundData, output: Path | None, only_own_tasks: bool) -> None:
    from storage.services import export_files

    path = _target(output, export_files.archive_name(data))
    existed = _check_writable(path)
    total = len(data.reporting_units()) + 3 + len(data.evidence)
    with progress_bar("archive", total) as advance:

        def write(stream: BinaryIO) -> None:
            export_files.write_archive(
                data,
                stream,
                progress=lambda step: advance(*step.overall),
                only_own_tasks=only_own_tasks,
            )

        _replace_file(path, write)
    _say_written(path, existed)


# ---------------------------------------------------------------- files and progress


def _write_file(path: Path, payload: bytes) -> None:
    existed = _check_writable(path)
    _replace_file(path, lambda stream: stream.write(payload))
    _say_written(path, existed)


def _check_writable(path: Path) -> bool:
    """True when the file exists already (it will be replaced)."""
    if path.is_dir():
        raise _cli().fail(f"{path} is a folder: give a file name with -o")
    return path.exists()


def _replace_file(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Write through a temporary file beside `path`, then put it in place at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as stream:
            write(stream)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _say_written(path: Path, existed: bool) -> None:
    size = _size_text(path.stat().st_size)
    if existed:
        message = f"overwrote {path} ({size}; the file existed and was replaced)"
    else:
        message = f"wrote {path} ({size})"
    _cli().console.print(message, markup=False, highlight=False, soft_wrap=True)


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Progress]:
    """A Rich progress bar on stderr, shown when there is more than one file to write;
    yields `advance(done, total)`."""
    if total <= 1:
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Bar(*columns, console=_cli().err_console) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextlib.contextmanager
def _guarded() -> Iterator[None]:
    """Errors a person can fix (no LibreOffice, a folder that cannot be written) as messages."""
    from ledger.errors import LedgerError

    try:
        yield
    except LedgerError as err:
        raise _cli().fail(str(err)) from None
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        raise _cli().fail(f"cannot write {where}{err.strerror or err}") from None


# ---------------------------------------------------------------- report import


@report_app.command("import")
def report_import(
    file: Annotated[Path, typer.Argument(help="A unit's filled form (.docx) or report (.yaml).")],
    round_ref: Annotated[
        str, typer.Option("--round", help="Round id, or its due date (YYYY-MM-DD).")
    ],
    plan: Annotated[
        str | None, typer.Option("--plan", help="Plan key, when a due date names the round.")
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="The unit, when the form names none or wrongly.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would change.")
    ] = False,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft", help="Load the answers without recording a submission of the unit."
        ),
    ] = False,
    by: Annotated[
        str,
        typer.Option("--by", help="Who sent the form, recorded with the submission."),
    ] = "import",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Load a unit's report into a round and record it as the unit's submission (a new version
    only when it changes what was submitted; --draft: no submission). A differing answer
    becomes a new revision attributed to the import: nothing is overwritten silently."""
    cli = _cli()
    if not file.is_file():
        raise cli.fail(f"{file}: no such file")

    async def work(session) -> dict[str, Any]:
        return await _import_report(session, file, round_ref, plan, unit, submit=not draft, by=by)

    summary = cli.run_with_session(work, commit=not dry_run)
    summary["saved"] = not dry_run
    if as_json:
        cli.print_json(summary)
    else:
        _print_import_summary(file, summary)


async def _import_report(
    session,
    file: Path,
    round_ref: str,
    plan_key: str | None,
    unit: str | None,
    *,
    submit: bool = True,
    by: str = "import",
) -> dict[str, Any]:
    from ledger.form_import import read_report_file
    from storage.services.errors import ServiceError
    from storage.services.exports import find_round_unit
    from storage.services.plans import load_ledger_plan
    from storage.services.report_import import import_report
    from storage.services.rounds import find_round

    round_ = await find_round(session, round_ref, plan_key)
    plan = await load_ledger_plan(session, await _plan_key_of(session, round_.plan_id))
    report = read_report_file(file, plan)
    _check_report_fits(file, report, plan.key, round_.due_date.isoformat())
    name = unit or report.unit
    if not name:
        raise ServiceError(f"{file.name}: the form names no 填报单位: give --unit; nothing saved")
    try:
        found = await find_round_unit(session, round_.id, name)
    except ServiceError as err:
        origin = "--unit" if unit else "the form's 填报单位"
        raise ServiceError(f"{file.name}: {origin}: {err}; nothing saved") from None
    result = await import_report(
        session, round_.id, report, source=file.name, unit_name=found.name, submit=submit, by=by
    )
    receipt = result.receipt
    submission = None
    if receipt is not None:
        submission = {
            "version": receipt.version,
            "new_version": result.new_version,
            "receipt": receipt.number,
            "on_time": receipt.on_time,
            "by": by.strip() or "import",
        }
    return {
        "file": file.name,
        "unit": result.unit,
        "plan": plan.key,
        "round": round_.due_date.isoformat(),
        "round_id": round_.id,
        "added": result.added,
        "changed": result.changed,
        "unchanged": result.unchanged,
        "not_assigned": result.not_assigned,
        "revised_by": f"import:{file.name}",
        "submission": submission,
    }


async def _plan_key_of(session, plan_id: int) -> str:
    from storage.models import Plan

    return (await session.get(Plan, plan_id)).key


def _check_report_fits(file: Path, report, plan_key: str, due: str) -> None:
    """A YAML report names its plan and round: refuse to load it into another one."""
    from storage.services.errors import ServiceError

    if report.plan and report.plan != plan_key:
        raise ServiceError(
            f"{file.name} is a report for plan {report.plan}, and that round is of plan "
            f"{plan_key}; nothing saved"
        )
    if report.round and report.round != due:
        raise ServiceError(
            f"{file.name} is the report for the round due {report.round}, not {due}: "
            f"give --round {report.round}; nothing saved"
        )


def _print_import_summary(file: Path, summary: dict[str, Any]) -> None:
    from rich.markup import escape

    console = _cli().console
    console.print(
        f"{escape(file.name)} → [bold]{escape(summary['unit'])}[/], plan {summary['plan']}, "
        f"round {summary['round']}",
        highlight=False,
        soft_wrap=True,
    )
    lines = [
        ("added", summary["added"]),
        ("changed", summary["changed"]),
        ("unchanged", summary["unchanged"]),
        ("answered though not assigned to the unit (kept)", summary["not_assigned"]),
    ]
    for label, tasks in lines:
        if tasks:
            console.print(
                f"{label}: {len(tasks)} — tasks {_numbers(tasks)}", highlight=False, soft_wrap=True
            )
    if not summary["added"] and not summary["changed"]:
        console.print("nothing changed (the round already holds these answers)")
    elif summary["changed"]:
        console.print(
            f"nothing was overwritten silently: each changed answer is a new revision by "
            f"{escape(summary['revised_by'])}, the earlier one kept in its history",
            highlight=False,
            soft_wrap=True,
        )
    submission = summary["submission"]
    if submission is None:
        console.print(
            "loaded as a draft: not submitted (exports print the unit's last submitted version)"
        )
    elif submission["new_version"]:
        console.print(
            f"recorded as the unit's submission, version {submission['version']} "
            f"(receipt {submission['receipt']}, by {escape(submission['by'])})",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"submission unchanged: version {submission['version']} already holds these answers",
            highlight=False,
            soft_wrap=True,
        )
    if not summary["saved"]:
        console.print("[yellow]dry run: nothing was saved[/]")


def _numbers(tasks: list[int]) -> str:
    return ", ".join(str(n) for n in sorted(tasks))
