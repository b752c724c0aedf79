"""The files an export makes of a round: the consolidated ledger (DOCX, XLSX, PDF), a unit's
form, the round archive ZIP; shared by `taizhang export` and the bot's /export.

Two layers:

- builders over a `RoundData` (no database, safe to run in a worker thread): `consolidated_file`,
  `unit_form_file`, `unit_form_files`, `write_archive`, and `split_archive`, which cuts an
  archive too large for one upload into parts that each open on their own;
- `export_round(session, who, round_id, what, folder, …)` for the bot: checks that `who` is
  staff, reads what was submitted, builds the file(s) into `folder` in a worker thread (the event
  loop stays free), and records the export in the audit trail.

What is archived is what was submitted (storage.services.exports.round_data). Progress is told
as `Step`s to a plain callable, which may be called from the worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.rounddata import RoundData, UnitInfo
from storage.models import Assignment, Plan, Round, Submission, Task, Unit
from storage.services import audit, staff
from storage.services.errors import NotFound, ServiceError
from storage.services.staff import StaffMember

CONSOLIDATED_NAME = "汇总台账"
UNIT_FORMS_FOLDER = "各单位填报表"
ARCHIVE_NAME = "归档"


class What(StrEnum):
    """What the bot's /export makes."""

    DOCX = "docx"  # the consolidated ledger, Word
    XLSX = "xlsx"  # the consolidated ledger, Excel
    PDF = "pdf"  # the consolidated ledger, PDF (LibreOffice)
    UNIT = "unit"  # one unit's form, Word
    ZIP = "zip"  # the round archive


class Stage(StrEnum):
    LOADING = "loading"  # reading the round from the database
    FORMS = "forms"  # the units' forms (done / total)
    CONSOLIDATED = "consolidated"  # the consolidated ledger, Word
    WORKBOOK = "workbook"  # the consolidated ledger, Excel
    EVIDENCE = "evidence"  # the evidence files (done / total)
    MANIFEST = "manifest"
    PDF = "pdf"  # LibreOffice converting
    SPLITTING = "splitting"  # cutting a large archive into parts (done / total)


@dataclass(frozen=True)
class Step:
    stage: Stage
    done: int = 0  # within the stage
    total: int = 0
    overall: tuple[int, int] = (0, 0)  # (done, total) over the whole file, where known


Progress = Callable[[Step], None]


def _no_progress(step: Step) -> None:
    pass


class ExportError(ServiceError):
    """code: no_office (LibreOffice is not installed) · pdf_failed (it failed; `detail`) ·
    too_large (`size` over `limit`, and the archive cannot be cut to fit) · no_form (the unit
    answers for nothing in the round) · bad_request."""

    def __init__(self, code: str, *, detail: str = "", size: int = 0, limit: int = 0):
        super().__init__(detail or code)
        self.code, self.detail, self.size, self.limit = code, detail, size, limit


# ---------------------------------------------------------------- builders over RoundData


def file_stem(data: RoundData) -> str:
    from ledger.archive import safe_filename

    return safe_filename(f"{data.plan.key}-{data.round_due.isoformat()}")


def consolidated_name(data: RoundData, fmt: str) -> str:
    return f"{file_stem(data)}-{CONSOLIDATED_NAME}.{fmt}"


def unit_form_name(data: RoundData, unit: str, fmt: str = "docx") -> str:
    from ledger.archive import safe_filename

    return f"{file_stem(data)}-{safe_filename(unit, 'unit')}.{fmt}"


def archive_name(data: RoundData) -> str:
    return f"{file_stem(data)}-{ARCHIVE_NAME}.zip"


def to_pdf(docx_payload: bytes) -> bytes:
    """LibreOffice's PDF of a Word document; LedgerError when it is missing or fails."""
    from ledger.pdf import pdf_bytes

    return pdf_bytes(docx_payload)


def consolidated_file(
    data: RoundData,
    fmt: str,
    *,
    generated_at: dt.datetime | None = None,
    progress: Progress = _no_progress,
) -> bytes:
    """The consolidated ledger as docx, xlsx or pdf bytes."""
    if fmt == "xlsx":
        from ledger.xlsx_ledger import consolidated_xlsx_bytes

        progress(Step(Stage.WORKBOOK, 0, 1, (0, 1)))
        return consolidated_xlsx_bytes(data, generated_at=generated_at)
    from ledger.docx_forms import consolidated_docx_bytes

    steps = 2 if fmt == "pdf" else 1
    progress(Step(Stage.CONSOLIDATED, 0, 1, (0, steps)))
    payload = consolidated_docx_bytes(data, generated_at=generated_at)
    if fmt == "pdf":
        progress(Step(Stage.PDF, 0, 1, (1, steps)))
        payload = to_pdf(payload)
    return payload


def unit_form_file(
    data: RoundData, unit: str, fmt: str = "docx", *, only_own_tasks: bool = False
) -> bytes:
    """One unit's filled form as docx or pdf bytes."""
    from ledger.docx_forms import unit_form_bytes

    payload = unit_form_bytes(data, unit, only_own_tasks=only_own_tasks)
    return to_pdf(payload) if fmt == "pdf" else payload


def unit_form_files(
    data: RoundData,
    fmt: str = "docx",
    *,
    only_own_tasks: bool = False,
    progress: Progress = _no_progress,
) -> Iterator[tuple[UnitInfo, bytes]]:
    """Every reporting unit's form, one at a time (memory does not grow with the units)."""
    from ledger.docx_forms import UnitFormWriter

    units = data.reporting_units()
    writer = UnitFormWriter(data, only_own_tasks=only_own_tasks)
    for done, unit in enumerate(units, 1):
        payload = writer.render(unit.name)
        yield unit, to_pdf(payload) if fmt == "pdf" else payload
        progress(Step(Stage.FORMS, done, len(units), (done, len(units))))


def write_archive(
    data: RoundData,
    out: Path | str | BinaryIO,
    *,
    progress: Progress = _no_progress,
    only_own_tasks: bool = False,
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The round archive (ledger.archive) into `out`; its manifest. Progress names the part
    being written: the units' forms, the consolidated ledger, the evidence, the manifest."""
    from ledger.archive import write_round_archive

    forms, evidence = len(data.reporting_units()), len(data.evidence)
    total = forms + 2 + evidence + 1

    def step(done: int, total: int) -> None:
        # write_round_archive reports after each member: the forms, the consolidated ledger in
        # Word and in Excel, the evidence, the manifest. Tell what is being made next.
        if done < forms:
            progress(Step(Stage.FORMS, done, forms, (done, total)))
        elif done == forms:
            progress(Step(Stage.CONSOLIDATED, 0, 1, (done, total)))
        elif done == forms + 1:
            progress(Step(Stage.WORKBOOK, 0, 1, (done, total)))
        elif done < forms + 2 + evidence:
            progress(Step(Stage.EVIDENCE, done - forms - 2, evidence, (done, total)))
        else:
            progress(Step(Stage.MANIFEST, done - forms - 2 - evidence, 1, (done, total)))

    step(0, total)
    return write_round_archive(
        data, out, progress=step, only_own_tasks=only_own_tasks, generated_at=generated_at
    )


# Bytes a member costs in a ZIP besides its data: local header (30 + name + zip64 extra 20)
# and central directory entry (46 + name + zip64 extra 28), rounded up.
_MEMBER_OVERHEAD = 160
_END_RECORDS = 200  # end of central directory, zip64 end record and locator


def _member_cost(info: zipfile.ZipInfo) -> int:
    return info.compress_size + _MEMBER_OVERHEAD + 2 * len(info.filename.encode())


def part_name(whole: Path, number: int, count: int) -> str:
    return f"{whole.stem}-第{number}部分（共{count}部分）{whole.suffix}"


def split_archive(whole: Path, limit: int, *, progress: Progress = _no_progress) -> list[Path]:
    """The archive as it is when it is under `limit` bytes; else cut into parts beside it, each
    under `limit` and a ZIP of its own (the members in their order, none cut in two), each with
    the whole archive's manifest naming the part and the files it holds. `whole` is removed
    once cut. ExportError too_large when one member alone cannot fit a part."""
    size = whole.stat().st_size
    if size < limit:
        return [whole]
    from ledger.archive import MANIFEST

    with zipfile.ZipFile(whole) as source:
        manifest = json.loads(source.read(MANIFEST)) if MANIFEST in source.namelist() else {}
        members = [info for info in source.infolist() if info.filename != MANIFEST]
        reserve = _END_RECORDS + _MEMBER_OVERHEAD + len(json.dumps(manifest).encode()) * 2 + 4096
        budget = limit - reserve
        groups: list[list[zipfile.ZipInfo]] = [[]]
        used = 0
        for info in members:
            cost = _member_cost(info)
            if cost > budget:
                raise ExportError("too_large", size=size, limit=limit, detail=info.filename)
            if used + cost > budget and groups[-1]:
                groups.append([])
                used = 0
            groups[-1].append(info)
            used += cost
        parts = []
        for number, group in enumerate(groups, 1):
            path = whole.with_name(part_name(whole, number, len(groups)))
            _write_part(source, group, path, manifest, number, len(groups))
            if path.stat().st_size >= limit:  # the estimate above was wrong: never send it
                raise ExportError("too_large", size=size, limit=limit)
            parts.append(path)
            progress(Step(Stage.SPLITTING, number, len(groups), (number, len(groups))))
    whole.unlink()
    return parts


def _write_part(
    source: zipfile.ZipFile,
    members: list[zipfile.ZipInfo],
    path: Path,
    manifest: dict[str, Any],
    number: int,
    count: int,
) -> None:
    from ledger.archive import MANIFEST

    with zipfile.ZipFile(path, "w") as part:
        for info in members:
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            with source.open(info) as reading, part.open(copy, "w", force_zip64=True) as writing:
                while chunk := reading.read(1 << 16):
                    writing.write(chunk)
        about = {"number": number, "of": count, "files": [info.filename for info in members]}
        info = zipfile.ZipInfo(MANIFEST, date_time=members[0].date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        payload = json.dumps({**manifest, "part": about}, ensure_ascii=False, indent=2)
        part.writestr(info, payload.encode("utf-8"))


# ---------------------------------------------------------------- for the bot


@dataclass(frozen=True)
class RoundChoice:
    id: int
    name: str
    due: dt.date
    open: bool
    plan_title: str
    submitted: int  # units that submitted
    units: int  # units with a form (assigned a task)


@dataclass(frozen=True)
class UnitChoice:
    id: int
    name: str
    kind: str
    submitted: bool


@dataclass
class Exported:
    what: What
    files: list[Path]  # in the folder asked for, in sending order
    size: int  # bytes of the whole file (before any split)
    round_name: str
    round_due: dt.date
    unit_name: str = ""
    draft: bool = False
    parts: bool = False  # an archive cut into parts
    submitted_units: int = 0
    units: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


async def export_rounds(session: AsyncSession, who: int | StaffMember) -> list[RoundChoice]:
    """Every round staff may export: open ones first (due soonest first), then closed ones
    (latest first)."""
    await staff.authorize(session, who)
    rows = (await session.exec(select(Round, Plan).join(Plan, Plan.id == Round.plan_id))).all()
    counts = dict(
        (
            await session.exec(
                select(Submission.round_id, func.count()).group_by(Submission.round_id)
            )
        ).all()
    )
    assigned = dict(
        (
            await session.exec(
                select(Task.plan_id, func.count(func.distinct(Assignment.unit_id)))
                .join(Assignment, Assignment.task_id == Task.id)
                .where(Task.retired.is_(False))
                .group_by(Task.plan_id)
            )
        ).all()
    )
    choices = [
        RoundChoice(
            id=r.id,
            name=r.name,
            due=r.due_date,
            open=r.status == "open",
            plan_title=p.title,
            submitted=counts.get(r.id, 0),
            units=assigned.get(p.id, 0),
        )
        for r, p in rows
    ]
    opened = sorted((c for c in choices if c.open), key=lambda c: (c.due, c.id))
    closed = sorted((c for c in choices if not c.open), key=lambda c: (c.due, c.id), reverse=True)
    return opened + closed


async def export_round_choice(
    session: AsyncSession, who: int | StaffMember, round_id: int = 0
) -> RoundChoice:
    """The round asked for, or (0) the default: the open round due soonest, else the latest."""
    choices = await export_rounds(session, who)
    if not choices:
        raise NotFound("no rounds yet (see `taizhang round add`)")
    if not round_id:
        return choices[0]
    for choice in choices:
        if choice.id == round_id:
            return choice
    raise NotFound(f"no round {round_id}")


async def export_units(
    session: AsyncSession, who: int | StaffMember, round_id: int
) -> list[UnitChoice]:
    """The units that have a form in the round (those assigned a task), in directory order."""
    await staff.authorize(session, who)
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"no round {round_id}")
    units = (
        await session.exec(
            select(Unit)
            .join(Assignment, Assignment.unit_id == Unit.id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Task.plan_id == round_.plan_id, Task.retired.is_(False))
            .distinct()
        )
    ).all()
    query = select(Submission.unit_id).where(Submission.round_id == round_id)
    submitted = set((await session.exec(query)).all())
    units = sorted(units, key=lambda u: (u.position, u.id))
    return [UnitChoice(u.id, u.name, u.kind, u.id in submitted) for u in units]


def command_line(round_id: int, what: What) -> str:
    """The same export at the server's shell, for what cannot be sent in the chat."""
    option = {What.UNIT: "--unit 单位名称", What.ZIP: "--format zip"}.get(what, f"--format {what}")
    return f"taizhang export {round_id} {option}"


async def export_round(
    session: AsyncSession,
    who: int | StaffMember,
    round_id: int,
    what: What | str,
    folder: Path,
    *,
    unit_id: int = 0,
    part_limit: int | None = None,
    progress: Progress = _no_progress,
    now: dt.datetime | None = None,
) -> Exported:
    """Build the export into `folder` and record it (`export.<what>`) in the audit trail.

    Staff only (viewers included). With `part_limit`, a larger archive is cut into parts under
    it (`split_archive`), and any other file over it is refused (ExportError too_large)."""
    from ledger.errors import LedgerError
    from ledger.pdf import office_available
    from storage.services.exports import round_data

    member = await staff.authorize(session, who)
    try:
        what = What(what)
    except ValueError:
        raise ExportError("bad_request", detail=f"unknown export {what!r}") from None
    if what is What.PDF and not office_available():
        raise ExportError("no_office")
    progress(Step(Stage.LOADING))
    data = await round_data(session, round_id, with_evidence=what is What.ZIP)
    unit_name = ""
    if what is What.UNIT:
        unit = await session.get(Unit, unit_id) if unit_id else None
        if unit is None or unit.name not in {u.name for u in data.reporting_units()}:
            raise ExportError("no_form", detail=unit.name if unit else "")
        unit_name = unit.name
    moment = now or dt.datetime.now(dt.UTC)

    def build() -> list[Path]:
        if what is What.ZIP:
            path = folder / archive_name(data)
            write_archive(data, path, progress=progress, generated_at=moment)
            return [path]
        if what is What.UNIT:
            path = folder / unit_form_name(data, unit_name)
            path.write_bytes(unit_form_file(data, unit_name))
            return [path]
        path = folder / consolidated_name(data, what.value)
        payload = consolidated_file(data, what.value, generated_at=moment, progress=progress)
        path.write_bytes(payload)
        return [path]

    try:
        files = await asyncio.to_thread(build)
    except LedgerError as err:
        raise ExportError("pdf_failed", detail=str(err)) from None
    size = files[0].stat().st_size
    if part_limit is not None and size >= part_limit:
        if what is not What.ZIP:
            raise ExportError("too_large", size=size, limit=part_limit)
        files = await asyncio.to_thread(split_archive, files[0], part_limit, progress=progress)
    exported = Exported(
        what=what,
        files=files,
        size=size,
        round_name=data.round_name,
        round_due=data.round_due,
        unit_name=unit_name,
        draft=data.draft,
        parts=len(files) > 1,
        submitted_units=len(data.submissions),
        units=len(data.reporting_units()),
    )
    await audit.record(
        session,
        member,
        f"export.{what.value}",
        round_id=round_id,
        unit_id=unit_id or None,
        detail={"files": [p.name for p in files], "size": size},
        now=now,
    )
    return exported
