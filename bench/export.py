"""How fast the round archive is written, against a bare python-docx script, and its memory.

    uv run python bench/export.py [--units 500] [--memory-units 100 500] [--no-memory]

1. Builds a round of the 兴庆区 plan (xingqing-2023, the 2023-12-01 round) with N units in a
   temporary SQLite database, through the services: a units directory of the sample's 28
   units plus generated departments, townships and street offices (the generated departments
   also fill the office's groups 各决策单位 …), the plan, one contact per unit, and every unit
   answering every one of the plan's 33 tasks with about 300 characters.
2. Times the round ZIP as `taizhang export ROUND --format zip` writes it: `round_data`
   (reading the round from the database) + `write_round_archive` (every unit's form, the
   consolidated DOCX and XLSX, the manifest), streamed into a file.
3. Times the baseline in the same run: a bare python-docx script, no database, writing the
   same N forms (one document per unit, the same title, unit line, section headings and
   7-column tables with the same texts) with python-docx's plain API (`Document()`,
   `add_paragraph`, `add_table`, `cell.text = …`), saved into a folder.
4. Peak memory (tracemalloc) of the archive for two numbers of units (100 and 500 by
   default), by phase: reading the round, writing the unit forms into the ZIP, writing the
   consolidated ledger. The forms phase should not grow with the number of units; reading the
   round and the consolidated ledger hold every answer, so they grow with the answers.

Setting up the database is not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger.archive import safe_filename, write_round_archive  # noqa: E402
from ledger.docx_forms import unit_line_text  # noqa: E402
from ledger.model import Plan, section_numeral  # noqa: E402
from ledger.plan_yaml import load_plan  # noqa: E402
from ledger.report import Answer, UnitReport  # noqa: E402
from ledger.rounddata import RoundData  # noqa: E402
from ledger.samples import sample_path  # noqa: E402
from ledger.units import load_units  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

PLAN_KEY = "xingqing-2023"
ROUND_DUE = dt.date(2023, 12, 1)
ANSWER_LENGTH = 300
COLUMNS = ("序号", "重点工作", "主要内容", "量化指标", "责任单位", "完成时限", "进展落实情况")
PHRASES = (
    "按照区委区政府工作部署，",
    "在政府门户网站和政务新媒体及时发布相关信息",
    "组织开展政策解读和宣传活动",
    "围绕群众关切的高频事项",
    "以图解、视频、问答等形式予以解读，",
    "完善信息发布审核机制，",
    "严格执行保密审查制度，",
    "累计发布信息",
    "条，",
    "接受群众咨询",
    "人次，",
    "切实把政策传达到、讲清楚。",
    "下一步将持续推进公开内容标准化规范化建设。",
)
KINDS = (("department", "局"), ("township", "镇"), ("street", "街道办事处"))


# ---------------------------------------------------------------- the round


def answer_text(rng: random.Random, unit: str, task: int) -> str:
    """About 300 characters of plausible progress text, different for every unit and task."""
    pieces = [f"{unit}第{task}项任务落实情况："]
    while sum(map(len, pieces)) < ANSWER_LENGTH:
        phrase = rng.choice(PHRASES)
        pieces.append(
            phrase if not phrase.startswith(("条", "人次")) else f"{rng.randint(2, 900)}{phrase}"
        )
    return "".join(pieces)[:ANSWER_LENGTH]


def units_file(folder: Path, count: int) -> Path:
    """The sample's units plus generated ones, `count` in all, as a units YAML file."""
    data = yaml.safe_load(sample_path("xingqing-units.yaml").read_text(encoding="utf-8"))
    extra = count - len(data["units"])
    if extra < 0:
        raise SystemExit(f"--units must be at least {len(data['units'])}")
    generated = []
    for n in range(1, extra + 1):
        kind, suffix = KINDS[n % len(KINDS)]
        short = f"第{n}号{suffix}"
        generated.append({"name": f"兴庆区{short}", "short": short, "kind": kind})
    data["units"].extend(generated)
    departments = [u["name"] for u in generated if u["kind"] == "department"]
    data["groups"] = {group: departments[:20] for group in data.get("groups") or {}}
    path = folder / "units.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def build_round(url: str, folder: Path, units: int) -> int:
    """The database with the plan, `units` units each with a contact, every task answered."""
    from storage.models import Contact
    from storage.services.directories import import_directory
    from storage.services.plans import import_plan, refresh_directory_plans
    from storage.services.report_import import import_report
    from storage.services.rounds import find_round

    directory = load_units(units_file(folder, units))
    plan = load_plan(sample_path(f"{PLAN_KEY}.yaml"))
    numbers = [t.number for t in plan.tasks()]
    rng = random.Random(20231201)
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session:
            await import_directory(session, directory)
            await import_plan(session, plan)
            await refresh_directory_plans(session, directory.key)
            round_id = (await find_round(session, ROUND_DUE.isoformat(), PLAN_KEY)).id
            await session.commit()
        for start in range(0, len(directory.units), 50):
            async with sessions() as session:
                for offset, unit in enumerate(directory.units[start : start + 50]):
                    person = start + offset + 1
                    report = UnitReport(
                        unit=unit.name,
                        answers=[
                            Answer(n, answer_text(rng, unit.display_name, n)) for n in numbers
                        ],
                    )
                    result = await import_report(session, round_id, report, source="bench")
                    row = await _unit_row(session, result.unit)
                    session.add(
                        Contact(
                            unit_id=row.id,
                            telegram_user_id=70_000_000 + person,
                            chat_id=70_000_000 + person,
                            name=f"联系人{person}",
                            phone=f"0951-{8_600_000 + person}",
                        )
                    )
                await session.commit()
        return round_id
    finally:
        await engine.dispose()


async def _unit_row(session, name: str):
    from storage.services.invites import find_unit

    return await find_unit(session, name)


async def load_round(url: str, round_id: int) -> RoundData:
    from storage.services.exports import round_data

    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            return await round_data(session, round_id, with_evidence=True)
    finally:
        await engine.dispose()


@dataclass
class Database:
    url: str
    round_id: int
    units: int


def make_database(folder: Path, units: int) -> Database:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{(folder / 'taizhang.db').as_posix()}"
    upgrade(url)
    started = time.perf_counter()
    round_id = asyncio.run(build_round(url, folder, units))
    print(f"  built a round of {units} units in {time.perf_counter() - started:.1f} s (not timed)")
    return Database(url, round_id, units)


# ---------------------------------------------------------------- what is timed


def export_archive(db: Database, out: Path) -> tuple[float, float]:
    """The round ZIP as `taizhang export --format zip` writes it: (read seconds, write seconds)."""
    started = time.perf_counter()
    data = asyncio.run(load_round(db.url, db.round_id))
    read = time.perf_counter() - started
    started = time.perf_counter()
    with out.open("wb") as stream:
        write_round_archive(data, stream)
    return read, time.perf_counter() - started


def baseline_forms(plan: Plan, data: RoundData, folder: Path) -> None:
    """A bare python-docx script: the same forms, plain API, no database, no styling."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    folder.mkdir(parents=True, exist_ok=True)
    for unit in data.units:
        document = Document()
        page = document.sections[0]
        page.orientation = WD_ORIENT.LANDSCAPE
        page.page_width, page.page_height = Mm(297), Mm(210)
        document.add_paragraph(plan.title)
        document.add_paragraph(plan.subtitle)
        for line in plan.intro.splitlines():
            document.add_paragraph(line)
        document.add_paragraph(unit_line_text(unit))
        for index, section in enumerate(plan.sections):
            document.add_paragraph(f"{section_numeral(index)}、{section.title}")
            table = document.add_table(rows=1, cols=len(COLUMNS))
            for cell, title in zip(table.rows[0].cells, COLUMNS, strict=True):
                cell.text = title
            for item in section.items:
                for task in item.tasks:
                    answer = data.answer(unit.name, task.number)
                    values = (
                        str(task.number),
                        item.title,
                        f"{task.name}\n{task.content}" if task.name else task.content,
                        task.indicator,
                        task.responsibility,
                        task.due_text,
                        answer.text if answer else "",
                    )
                    for cell, value in zip(table.add_row().cells, values, strict=True):
                        cell.text = value
        document.save(str(folder / f"{safe_filename(unit.name)}.docx"))


# ---------------------------------------------------------------- memory


@dataclass
class MemoryPeaks:
    read: int  # reading the round from the database into RoundData
    forms: int  # writing every unit's form into the ZIP (RoundData already held)
    consolidated: int  # the consolidated DOCX and XLSX and the manifest
    held: int  # what RoundData itself holds once read


def archive_memory(db: Database, out: Path) -> MemoryPeaks:
    tracemalloc.start()
    try:
        data = asyncio.run(load_round(db.url, db.round_id))
        held, read_peak = tracemalloc.get_traced_memory()
        forms = len(data.reporting_units())
        peaks: dict[str, int] = {}

        def progress(done: int, total: int) -> None:
            if done == forms:  # the forms are written; the consolidated ledger comes next
                peaks["forms"] = tracemalloc.get_traced_memory()[1] - held
                tracemalloc.reset_peak()

        tracemalloc.reset_peak()
        with out.open("wb") as stream:
            write_round_archive(data, stream, progress=progress)
        peaks["consolidated"] = tracemalloc.get_traced_memory()[1] - held
        return MemoryPeaks(read_peak, peaks["forms"], peaks["consolidated"], held)
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------- main


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:6.1f} MB"


def run(units: int, memory_units: list[int], folder: Path) -> None:
    plan = load_plan(sample_path(f"{PLAN_KEY}.yaml"))
    databases = {units: make_database(folder / f"db{units}", units)}

    print(f"\nspeed: round ZIP of {units} units vs a bare python-docx script")
    read, write = export_archive(databases[units], folder / "round.zip")
    data = asyncio.run(load_round(databases[units].url, databases[units].round_id))
    started = time.perf_counter()
    baseline_forms(plan, data, folder / "baseline")
    base = time.perf_counter() - started
    ours = read + write
    size = (folder / "round.zip").stat().st_size
    print(
        f"  taizhang  round ZIP  {ours:7.2f} s  (read the round {read:.2f} s, "
        f"write the ZIP {write:.2f} s; {size / 1024 / 1024:.1f} MB)"
    )
    print(f"  baseline  python-docx {base:7.2f} s  ({len(data.units)} documents, no database)")
    print(f"  ratio     {ours / base:.2f}×  (taizhang / baseline; aim ≤ 1.5)")

    if not memory_units:
        return
    for count in memory_units:
        if count not in databases:
            databases[count] = make_database(folder / f"db{count}", count)
    print("\nmemory (tracemalloc peaks; forms and consolidated: above the loaded round)")
    print(
        f"  {'units':>5}  {'round held':>10}  {'read peak':>10}  {'forms':>10}  "
        f"{'consolidated':>12}"
    )
    for count in memory_units:
        peaks = archive_memory(databases[count], folder / f"memory-{count}.zip")
        print(
            f"  {count:>5}  {mb(peaks.held):>10}  {mb(peaks.read):>10}  {mb(peaks.forms):>10}"
            f"  {mb(peaks.consolidated):>12}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500, help="units in the timed round")
    parser.add_argument(
        "--memory-units",
        type=int,
        nargs="*",
        default=[100, 500],
        help="unit counts whose memory is compared",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-export-") as folder:
        run(args.units, [] if args.no_memory else args.memory_units, Path(folder))


if __name__ == "__main__":
    main()
