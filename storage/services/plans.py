"""Plans in the database: import that is safe to repeat, assignments, and the plan as data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger import model as lm
from ledger.errors import LedgerError
from ledger.responsibility import parse_responsibility, resolve_responsibility
from ledger.units import UnitDirectory
from storage.models import (
    Assignment,
    AssignmentOverride,
    Item,
    Plan,
    Round,
    Section,
    Task,
    Unit,
)
from storage.services.directories import get_directory, ledger_directory, units_by_name
from storage.services.errors import NotFound, ServiceError
from storage.types import utcnow


class PlanNotFound(NotFound):
    def __init__(self, key: str):
        super().__init__(f"no plan with key “{key}” (see `taizhang plan list`)")


@dataclass
class Unresolved:
    task: int
    name: str
    why: str  # unknown | pending_group | no_directory | no_responsibility


@dataclass
class RemovedAssignment:
    """An assignment a re-import would take away: the task, the unit and its role."""

    task: int
    unit: str
    short_name: str
    role: str  # lead | responsible
    responsibility: str  # the task's 责任单位 text as the new file has it
    why: str = "not_named"  # not_named | no_directory (the plan's directory is not loaded)

    def __str__(self) -> str:
        role = "lead" if self.role == lm.Role.LEAD.value else "responsible"
        if self.why == "no_directory":
            reason = "the plan's units directory is not loaded"
        elif self.responsibility:
            reason = f"the file now says “{self.responsibility}”"
        else:
            reason = "the file names no 责任单位"
        return f"task {self.task}: {self.unit} ({role}); {reason}"


@dataclass
class PlanImportResult:
    key: str
    created: bool = False
    tasks_created: list[int] = field(default_factory=list)
    tasks_updated: list[int] = field(default_factory=list)
    tasks_retired: list[int] = field(default_factory=list)
    rounds_created: list[str] = field(default_factory=list)
    assignments_changed: int = 0
    assignments_removed: list[RemovedAssignment] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.tasks_created
            or self.tasks_updated
            or self.tasks_retired
            or self.rounds_created
            or self.assignments_changed
        )


def _apply(row: object, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


async def get_plan(session: AsyncSession, key: str) -> Plan:
    plan = (await session.exec(select(Plan).where(Plan.key == key))).first()
    if plan is None:
        raise PlanNotFound(key)
    return plan


class AssignmentsWouldBeRemoved(ServiceError):
    """A re-import would take assignments away and was not told to (replace_assignments).

    The session holds the half-done import and must be rolled back; `result` says what the
    import would have done, `result.assignments_removed` what it would have taken away.
    """

    def __init__(self, result: PlanImportResult):
        self.result = result
        removed = result.assignments_removed
        shown = "; ".join(str(r) for r in removed[:3]) + ("; …" if len(removed) > 3 else "")
        super().__init__(
            f"plan “{result.key}”: this import would remove {len(removed)} assignments "
            f"({shown}); nothing saved. If that is intended, import again with "
            "--replace-assignments"
        )


async def import_plan(
    session: AsyncSession, source: lm.Plan, *, replace_assignments: bool = False
) -> PlanImportResult:
    """Create or update the plan in place: tasks are matched by 序号, answers are kept.

    A file that names no units directory (a Word or Excel form never does) keeps the plan's.
    Assignments the file's 责任单位 still resolve to are kept as they are; one the new file
    would take away from a task it still has raises AssignmentsWouldBeRemoved (after the
    whole import has been worked out, so the error lists every one) unless
    `replace_assignments`. Tasks the file no longer has are retired with their assignments.
    """
    result = PlanImportResult(key=source.key, counts=source.counts())
    plan = (await session.exec(select(Plan).where(Plan.key == source.key))).first()
    directory_key = source.directory or (plan.directory_key if plan is not None else "")
    directory = await get_directory(session, directory_key) if directory_key else None
    header = {
        "title": source.title,
        "subtitle": source.subtitle,
        "year": source.year,
        "issuer": source.issuer,
        "intro": source.intro,
        "layout": source.layout.value,
        "directory_key": directory_key,
        "directory_id": directory.id if directory else None,
        "timezone": source.timezone,
    }
    if source.reminders is not None:  # without the section, settings made by command stay
        header["reminder_policy"] = source.reminders
    if plan is None:
        plan = Plan(key=source.key, **header)
        session.add(plan)
        await session.flush()
        result.created = True
    elif _apply(plan, header):
        plan.updated_at = utcnow()
    await _sync_structure(session, plan, source, result)
    result.rounds_created = await _sync_rounds(session, plan, source)
    result.assignments_changed, result.unresolved = await refresh_assignments(
        session, plan, removed=result.assignments_removed
    )
    if result.assignments_removed and not replace_assignments:
        raise AssignmentsWouldBeRemoved(result)
    return result


async def _sync_structure(
    session: AsyncSession, plan: Plan, source: lm.Plan, result: PlanImportResult
) -> None:
    sections = await _by_position(session, Section, plan.id)
    items = await _by_position(session, Item, plan.id)
    tasks = {
        t.number: t
        for t in (await session.exec(select(Task).where(Task.plan_id == plan.id))).all()
    }
    used_items: set[int] = set()
    item_position = task_position = 0
    for s_pos, section in enumerate(source.sections):
        section_row = sections.get(s_pos) or Section(plan_id=plan.id, position=s_pos)
        _apply(section_row, {"title": section.title})
        session.add(section_row)
        await session.flush()
        for item in section.items:
            item_row = items.get(item_position) or Item(plan_id=plan.id, position=item_position)
            _apply(item_row, {"title": item.title, "section_id": section_row.id})
            session.add(item_row)
            await session.flush()
            used_items.add(item_row.id)
            item_position += 1
            for task in item.tasks:
                _sync_task(
                    session,
                    plan,
                    tasks.pop(task.number, None),
                    task,
                    item_row.id,
                    task_position,
                    source.year,
                    result,
                )
                task_position += 1
    for task_row in tasks.values():
        if not task_row.retired:
            task_row.retired = True
            result.tasks_retired.append(task_row.number)
            used_items.add(task_row.item_id)
    await session.flush()
    await _drop_unused(session, plan.id, items, sections, source)


def _sync_task(
    session: AsyncSession,
    plan: Plan,
    row: Task | None,
    task: lm.Task,
    item_id: int,
    position: int,
    year: int | None,
    result: PlanImportResult,
) -> None:
    try:
        deadline = task.deadline(year)
    except LedgerError:  # kept as written; the form reader has warned (docs/import.md)
        deadline = None
    values = {
        "item_id": item_id,
        "position": position,
        "name": task.name,
        "content": task.content,
        "indicator": task.indicator,
        "responsibility": task.responsibility,
        "due_text": task.due_text,
        "due_date": deadline.date if deadline else None,
        "due_kind": deadline.kind.value if deadline else None,
        "recurrence": deadline.recurrence if deadline else None,
        "retired": False,
    }
    if row is None:
        session.add(Task(plan_id=plan.id, number=task.number, **values))
        result.tasks_created.append(task.number)
    elif _apply(row, values):
        result.tasks_updated.append(task.number)


async def _drop_unused(
    session: AsyncSession, plan_id: int, items: dict, sections: dict, source: lm.Plan
) -> None:
    """Sections and items past the file's end go, unless a retired task still points at them."""
    still_used = set(
        (await session.exec(select(Task.item_id).where(Task.plan_id == plan_id))).all()
    )
    n_items = sum(1 for _ in source.items())
    for position, item in items.items():
        if position >= n_items and item.id not in still_used:
            await session.delete(item)
    await session.flush()
    used_sections = set(
        (await session.exec(select(Item.section_id).where(Item.plan_id == plan_id))).all()
    )
    for position, section in sections.items():
        if position >= len(source.sections) and section.id not in used_sections:
            await session.delete(section)


async def _by_position(session: AsyncSession, table, plan_id: int) -> dict[int, object]:
    rows = (await session.exec(select(table).where(table.plan_id == plan_id))).all()
    return {row.position: row for row in rows}


async def _sync_rounds(session: AsyncSession, plan: Plan, source: lm.Plan) -> list[str]:
    created = []
    for spec in source.rounds:
        due = dt.date.fromisoformat(spec.due)
        existing = (
            await session.exec(
                select(Round).where(Round.plan_id == plan.id, Round.due_date == due)
            )
        ).first()
        if existing is None:
            existing = _new_round(plan, due, spec.name)
            session.add(existing)
            created.append(spec.due)
        elif spec.name and existing.name != spec.name:
            existing.name = spec.name
        if spec.reminders is not None and existing.reminder_policy != spec.reminders:
            existing.reminder_policy = spec.reminders
    await session.flush()
    return created


def round_deadline(due: dt.date, timezone: str) -> dt.datetime:
    """The moment a round closes for "on time": the end of the due day in the plan's zone."""
    local_midnight = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
    return local_midnight.astimezone(dt.UTC)


def default_round_name(due: dt.date) -> str:
    return f"{due.year}年{due.month}月{due.day}日报送"


def _round_spec(round_: Round) -> lm.RoundSpec:
    """A round as the plan file writes it: a default name is left out, as the file had it."""
    name = "" if round_.name == default_round_name(round_.due_date) else round_.name
    return lm.RoundSpec(
        due=round_.due_date.isoformat(), name=name, reminders=round_.reminder_policy
    )


def _new_round(plan: Plan, due: dt.date, name: str = "") -> Round:
    return Round(
        plan_id=plan.id,
        name=name or default_round_name(due),
        due_date=due,
        deadline_at=round_deadline(due, plan.timezone),
    )


async def add_round(session: AsyncSession, plan_key: str, due: dt.date, name: str = "") -> Round:
    plan = await get_plan(session, plan_key)
    existing = (
        await session.exec(select(Round).where(Round.plan_id == plan.id, Round.due_date == due))
    ).first()
    if existing is not None:
        if name and existing.name != name:
            existing.name = name
        return existing
    round_ = _new_round(plan, due, name)
    session.add(round_)
    await session.flush()
    return round_


async def refresh_assignments(
    session: AsyncSession, plan: Plan, *, removed: list[RemovedAssignment] | None = None
) -> tuple[int, list[Unresolved]]:
    """Recompute who answers for each task; rows that stay the same are left untouched.

    `removed` collects the assignments taken away from tasks that are not retired.
    """
    tasks = list(
        (
            await session.exec(
                select(Task)
                .where(Task.plan_id == plan.id, Task.retired.is_(False))
                .order_by(Task.position)
            )
        ).all()
    )
    directory = await ledger_directory(session, plan.directory_key) if plan.directory_key else None
    units = await units_by_name(session, plan.directory_id) if plan.directory_id else {}
    overrides = {
        o.task_id: o
        for o in (
            await session.exec(
                select(AssignmentOverride).where(
                    AssignmentOverride.task_id.in_([t.id for t in tasks])
                )
            )
        ).all()
    }
    changed = 0
    unresolved: list[Unresolved] = []
    for task in tasks:
        wanted, problems = _wanted_assignment(task, directory, units, overrides.get(task.id))
        unresolved.extend(problems)
        changed += await _sync_assignment(
            session, task, wanted, removed, "no_directory" if directory is None else "not_named"
        )
        _apply(
            task,
            {
                "unresolved": [p.name for p in problems if p.why == "unknown"],
                "pending_groups": [p.name for p in problems if p.why == "pending_group"],
            },
        )
    # Retired tasks no longer have anyone answering for them.
    retired = (
        await session.exec(select(Task.id).where(Task.plan_id == plan.id, Task.retired.is_(True)))
    ).all()
    if retired:
        await session.exec(delete(Assignment).where(Assignment.task_id.in_(retired)))
    await session.flush()
    return changed, unresolved


def _wanted_assignment(
    task: Task,
    directory: UnitDirectory | None,
    units: dict[str, Unit],
    override: AssignmentOverride | None,
) -> tuple[list[tuple[int, str]], list[Unresolved]]:
    if directory is None:
        why = "no_directory"
        return [], [
            Unresolved(task.number, task.responsibility, why)
        ] if task.responsibility else []
    if override is not None:
        parsed = _override_parse(override)
    else:
        if not task.responsibility.strip():
            return [], [Unresolved(task.number, "", "no_responsibility")]
        parsed = parse_responsibility(task.responsibility)
    resolution = resolve_responsibility(parsed, directory)
    wanted: list[tuple[int, str]] = []
    for role, members in (
        (lm.Role.LEAD, resolution.lead),
        (lm.Role.RESPONSIBLE, resolution.responsible),
    ):
        for unit in members:
            row = units.get(unit.name)
            if row is not None and all(row.id != uid for uid, _ in wanted):
                wanted.append((row.id, role.value))
    problems = [Unresolved(task.number, n, "unknown") for n in resolution.unresolved]
    problems += [Unresolved(task.number, n, "pending_group") for n in resolution.pending_groups]
    return wanted, problems


def _override_parse(override: AssignmentOverride):
    from ledger.responsibility import ParsedResponsibility

    return ParsedResponsibility(lead=tuple(override.lead), responsible=tuple(override.responsible))


async def _sync_assignment(
    session: AsyncSession,
    task: Task,
    wanted: list[tuple[int, str]],
    removed: list[RemovedAssignment] | None = None,
    why: str = "not_named",
) -> int:
    task_id = task.id
    current = {
        a.unit_id: a
        for a in (
            await session.exec(select(Assignment).where(Assignment.task_id == task_id))
        ).all()
    }
    changed = 0
    for position, (unit_id, role) in enumerate(wanted):
        row = current.pop(unit_id, None)
        if row is None:
            session.add(Assignment(task_id=task_id, unit_id=unit_id, role=role, position=position))
            changed += 1
        elif _apply(row, {"role": role, "position": position}):
            changed += 1
    for row in current.values():
        if removed is not None:
            unit = await session.get(Unit, row.unit_id)
            removed.append(
                RemovedAssignment(
                    task=task.number,
                    unit=unit.name if unit else str(row.unit_id),
                    short_name=(unit.short_name or unit.name) if unit else "",
                    role=row.role,
                    responsibility=task.responsibility,
                    why=why,
                )
            )
        await session.delete(row)
        changed += 1
    return changed


async def override_assignment(
    session: AsyncSession, plan_key: str, number: int, lead: list[str], responsible: list[str]
) -> list[Unresolved]:
    """Staff decide who answers for a task; an empty override goes back to the printed text."""
    plan = await get_plan(session, plan_key)
    task = (
        await session.exec(select(Task).where(Task.plan_id == plan.id, Task.number == number))
    ).first()
    if task is None:
        raise NotFound(f"plan “{plan_key}” has no task {number}")
    existing = await session.get(AssignmentOverride, task.id)
    if not lead and not responsible:
        if existing is not None:
            await session.delete(existing)
    elif existing is None:
        session.add(AssignmentOverride(task_id=task.id, lead=lead, responsible=responsible))
    else:
        existing.lead, existing.responsible = lead, responsible
    await session.flush()
    _, unresolved = await refresh_assignments(session, plan)
    return [u for u in unresolved if u.task == number]


async def refresh_directory_plans(session: AsyncSession, directory_key: str) -> None:
    """After a units import: link the directory's plans and recompute their assignments."""
    directory = await get_directory(session, directory_key)
    plans = (await session.exec(select(Plan).where(Plan.directory_key == directory_key))).all()
    for plan in plans:
        plan.directory_id = directory.id if directory else None
        await refresh_assignments(session, plan)


async def load_ledger_plan(session: AsyncSession, key: str) -> lm.Plan:
    """The plan as the ledger model holds it (for exports and `plan export`)."""
    plan = await get_plan(session, key)
    sections = sorted((await _by_position(session, Section, plan.id)).values(), key=_pos)
    items = sorted((await _by_position(session, Item, plan.id)).values(), key=_pos)
    tasks = (
        await session.exec(
            select(Task)
            .where(Task.plan_id == plan.id, Task.retired.is_(False))
            .order_by(Task.position)
        )
    ).all()
    rounds = (
        await session.exec(select(Round).where(Round.plan_id == plan.id).order_by(Round.due_date))
    ).all()
    by_item: dict[int, list[lm.Task]] = {}
    for t in tasks:
        by_item.setdefault(t.item_id, []).append(
            lm.Task(
                number=t.number,
                content=t.content,
                name=t.name,
                indicator=t.indicator,
                responsibility=t.responsibility,
                due_text=t.due_text,
            )
        )
    out_sections = []
    for section in sections:
        section_items = [
            lm.Item(title=i.title, tasks=by_item[i.id])
            for i in items
            if i.section_id == section.id and by_item.get(i.id)
        ]
        if section_items:
            out_sections.append(lm.Section(title=section.title, items=section_items))
    return lm.Plan(
        key=plan.key,
        title=plan.title,
        subtitle=plan.subtitle,
        layout=lm.Layout(plan.layout),
        sections=out_sections,
        year=plan.year,
        issuer=plan.issuer,
        intro=plan.intro,
        directory=plan.directory_key,
        timezone=plan.timezone,
        rounds=[_round_spec(r) for r in rounds],
        reminders=plan.reminder_policy,
    )


def _pos(row) -> int:
    return row.position


async def plan_overview(session: AsyncSession, key: str) -> dict:
    """What `taizhang plan show` prints: counts, every task with its units, and what is open."""
    plan = await get_plan(session, key)
    ledger_plan = await load_ledger_plan(session, key)
    rows = (
        await session.exec(
            select(Task, Assignment, Unit)
            .join(Assignment, Assignment.task_id == Task.id, isouter=True)
            .join(Unit, Unit.id == Assignment.unit_id, isouter=True)
            .where(Task.plan_id == plan.id, Task.retired.is_(False))
            .order_by(Task.position, Assignment.position)
        )
    ).all()
    overrides = set(
        (
            await session.exec(
                select(AssignmentOverride.task_id)
                .join(Task, Task.id == AssignmentOverride.task_id)
                .where(Task.plan_id == plan.id)
            )
        ).all()
    )
    tasks: dict[int, dict] = {}
    for task, assignment, unit in rows:
        entry = tasks.get(task.number)
        if entry is None:
            item = ledger_plan.item_of(task.number)
            entry = tasks[task.number] = {
                "number": task.number,
                "item": item.title,
                "name": task.name,
                "content": task.content,
                "responsibility": task.responsibility,
                "due_text": task.due_text,
                "due_date": task.due_date.isoformat() if task.due_date else None,
                "due_kind": task.due_kind,
                "lead": [],
                "responsible": [],
                "lead_short": [],
                "responsible_short": [],
                "unresolved": list(task.unresolved),
                "pending_groups": list(task.pending_groups),
                "overridden": task.id in overrides,
            }
        if unit is not None:
            role = "lead" if assignment.role == "lead" else "responsible"
            entry[role].append(unit.name)
            entry[f"{role}_short"].append(unit.short_name or unit.name)
    rounds = (
        await session.exec(select(Round).where(Round.plan_id == plan.id).order_by(Round.due_date))
    ).all()
    unresolved = sorted({n for t in tasks.values() for n in t["unresolved"]})
    pending = sorted({n for t in tasks.values() for n in t["pending_groups"]})
    return {
        "key": plan.key,
        "title": plan.title,
        "subtitle": plan.subtitle,
        "layout": plan.layout,
        "year": plan.year,
        "directory": plan.directory_key,
        "directory_loaded": plan.directory_id is not None,
        **ledger_plan.counts(),
        "rounds": [
            {"name": r.name, "due": r.due_date.isoformat(), "status": r.status} for r in rounds
        ],
        "unresolved": unresolved,
        "pending_groups": pending,
        "sections_list": [
            {
                "title": s.title,
                "items": [
                    {"title": i.title, "tasks": [t.number for t in i.tasks]} for i in s.items
                ],
            }
            for s in ledger_plan.sections
        ],
        "task_list": list(tasks.values()),
    }


async def list_plans(session: AsyncSession) -> list[dict]:
    plans = (await session.exec(select(Plan).order_by(Plan.key))).all()
    out = []
    for plan in plans:
        counts = (await load_ledger_plan(session, plan.key)).counts()
        n_rounds = len(
            (await session.exec(select(Round.id).where(Round.plan_id == plan.id))).all()
        )
        out.append(
            {
                "key": plan.key,
                "title": plan.title,
                "layout": plan.layout,
                "directory": plan.directory_key,
                "rounds": n_rounds,
                **counts,
            }
        )
    return out
