"""`taizhang plan import`: reading the plan file with the office's column mapping, and the
`--json` summary of what was read (docs/import.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REFUSED_REMOVALS = (
    "this import would remove the assignments in changes.assignments_removed; nothing saved "
    "(import with --replace-assignments if they should go)"
)


TOO_LARGE_HINT = " (the limit is the setting IMPORT_MAX_MB)"


def read_columns_option(columns: str | None, columns_file: Path | None):
    """The ColumnMap of `--columns-file` with `--columns` over it; None when neither is given."""
    from ledger.form_import import load_columns_file, parse_columns

    mapping = load_columns_file(columns_file) if columns_file else None
    if columns:
        given = parse_columns(columns)
        mapping = mapping.merged(given) if mapping else given
    return mapping


def read_plan(
    file: Path,
    *,
    key: str | None,
    directory: str | None,
    columns=None,
    year: int | None = None,
    max_bytes: int | None = None,
):
    """(plan, warnings, PlanImport or None for YAML) of a plan file."""
    from ledger.form_import import MAX_IMPORT_BYTES, read_plan_file

    max_bytes = MAX_IMPORT_BYTES if max_bytes is None else max_bytes
    suffix = file.suffix.lower()
    imported = None
    if suffix in (".yaml", ".yml"):
        plan, warnings = read_plan_file(file, max_bytes=max_bytes).plan, []
    else:
        imported = read_plan_file(file, columns=columns, year=year, max_bytes=max_bytes)
        plan, warnings = imported.plan, list(imported.warnings)
    if key:
        plan.key = key
    if directory:
        plan.directory = directory
    if year and imported is None:
        plan.year = year
    return plan, warnings, imported


def save_columns(file: Path, mapping) -> Path:
    from ledger.form_import import columns_file_for, save_columns_file

    return save_columns_file(columns_file_for(file), mapping, file.name)


def summary(file: Path, plan, warnings, imported, result, *, dry_run: bool) -> dict[str, Any]:
    """One JSON object: counts, every task with its units and deadline, the columns as read,
    the warnings, the names not in the units directory and what the import changed."""
    from ledger.responsibility import parse_responsibility

    tasks = []
    for section in plan.sections:
        for item in section.items:
            for task in item.tasks:
                parsed = parse_responsibility(task.responsibility)
                tasks.append(
                    {
                        "number": task.number,
                        "section": section.title,
                        "item": item.title,
                        "name": task.name,
                        "content": task.content,
                        "responsibility": task.responsibility,
                        "lead": "、".join(parsed.lead),
                        "responsible": "、".join(parsed.responsible),
                        "due_text": task.due_text,
                        **_due(task, plan.year),
                    }
                )
    unresolved: dict[tuple[str, str], list[int]] = {}
    for problem in result.unresolved:
        unresolved.setdefault((problem.name, problem.why), []).append(problem.task)
    return {
        "file": str(file),
        "dry_run": dry_run,
        "key": plan.key,
        "title": plan.title,
        "issuer": plan.issuer,
        "year": plan.year,
        "layout": str(plan.layout),
        "notice": imported.notice.as_dict() if imported and imported.notice else None,
        **plan.counts(),
        "numbering": imported.numbering if imported else "column",
        "columns": imported.columns if imported else [],
        "task_list": tasks,
        "warnings": [str(w) for w in warnings],
        "unresolved": [
            {"name": name, "why": why, "tasks": numbers}
            for (name, why), numbers in unresolved.items()
        ],
        "changes": {
            "created": result.created,
            "changed": result.changed,
            "tasks_created": result.tasks_created,
            "tasks_updated": result.tasks_updated,
            "tasks_retired": result.tasks_retired,
            "rounds_created": result.rounds_created,
            "assignments_changed": result.assignments_changed,
            "assignments_removed": [
                {
                    "task": r.task,
                    "unit": r.unit,
                    "short_name": r.short_name,
                    "role": r.role,
                    "responsibility": r.responsibility,
                    "why": r.why,
                }
                for r in result.assignments_removed
            ],
        },
    }


def _due(task, year: int | None) -> dict[str, Any]:
    from ledger.errors import LedgerError

    try:
        deadline = task.deadline(year)
    except LedgerError:
        return {"due_date": None, "due_kind": None}
    if deadline is None:
        return {"due_date": None, "due_kind": None}
    return {
        "due_date": deadline.date.isoformat() if deadline.date else None,
        "due_kind": str(deadline.kind),
    }


def refusal(file: Path, err) -> dict[str, Any]:
    """A refused file as JSON: the error, and what the reader saw in each table."""
    return {
        "file": str(file),
        "error": str(err),
        "place": err.place,
        "tables": getattr(err, "tables", []),
    }
