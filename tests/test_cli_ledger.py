"""`taizhang export` and `taizhang report import`, through Typer's runner, on a database of
their own (SQLite, and PostgreSQL when it runs)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from docx import Document

from ledger import pdf
from ledger.docx_forms import unit_form_bytes
from ledger.plan_yaml import load_plan
from ledger.report import Answer, load_report
from ledger.rounddata import RoundData, UnitInfo
from ledger.samples import sample_path
from tests.cli_helpers import in_database, make_cli

YIBAO = "兴庆区医疗保障局"
REPORT = sample_path("xingqing-2023-yibao-report.yaml")
SEED_TASKS = [1, 3, 6, 12, 13, 14, 15, 22, 25, 29]
OFFICE_REQUIRED = (
    os.environ.get("TAIZHANG_REQUIRE_SERVICES") == "1"
    and os.environ.get("TAIZHANG_REQUIRE_OFFICE") == "1"
)


def load_ledger(cli) -> None:
    """The 兴庆区 units and plan, as the office loads them; no contact is bound yet."""
    cli("units", "import", str(sample_path("xingqing-units.yaml")))
    cli("plan", "import", str(sample_path("xingqing-2023.yaml")))


@pytest.fixture
def ledger(database_url, monkeypatch, tmp_path):
    cli = make_cli(database_url, monkeypatch, tmp_path)
    load_ledger(cli)
    return cli


def import_json(cli, *args: str, ok: bool = True):
    result = cli("report", "import", *args, "--json", ok=ok)
    return json.loads(result.stdout) if ok else result


def document_text(path: Path) -> str:
    document = Document(str(path))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    return "\n".join(texts)


def entries_of_round(url: str, due: str = "2023-12-01") -> dict[int, tuple[str, int]]:
    """医保局's answers in a round: task → (text, version)."""

    async def work(session):
        from sqlmodel import select

        from storage.models import ProgressEntry, Task
        from storage.services.rounds import find_round

        round_ = await find_round(session, due)
        rows = await session.exec(
            select(ProgressEntry, Task.number)
            .join(Task, Task.id == ProgressEntry.task_id)
            .where(ProgressEntry.round_id == round_.id)
        )
        return {number: (entry.text, entry.version) for entry, number in rows.all()}

    return in_database(url, work)


def stored_round(url: str) -> RoundData:
    async def work(session):
        from storage.services.exports import round_data
        from storage.services.rounds import find_round

        return await round_data(session, (await find_round(session, "2023-12-01")).id)

    return in_database(url, work)


def test_seed_report_goes_in_and_comes_out_in_the_units_form(ledger, tmp_path):
    summary = import_json(ledger, str(REPORT), "--round", "2023-12-01")
    assert summary["unit"] == YIBAO
    assert summary["added"] == SEED_TASKS and summary["changed"] == []
    ledger("export", "2023-12-01", "--unit", "医保局", "-o", "yibao.docx")
    text = document_text(tmp_path / "yibao.docx")
    for answer in load_report(REPORT).answers:
        assert answer.text in text, answer.task
    unit_line = next(line for line in text.splitlines() if line.startswith("填报单位"))
    assert YIBAO in unit_line and "周琪" in unit_line and "8616234" in unit_line


def test_the_same_report_again_changes_nothing(ledger, database_url):
    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    before = entries_of_round(database_url)
    again = ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    assert "nothing changed" in again.stdout
    summary = import_json(ledger, str(REPORT), "--round", "2023-12-01")
    assert (summary["added"], summary["changed"], summary["unchanged"]) == ([], [], SEED_TASKS)
    assert entries_of_round(database_url) == before


def test_a_filled_form_with_one_edited_answer_is_one_revision_by_the_import(
    ledger, database_url, tmp_path
):
    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    data = stored_round(database_url)
    edited = Answer(task=6, text="在医疗保障局网站公开2023年度12条预决算信息。")
    answers = {**data.answers, (YIBAO, 6): edited}
    form = tmp_path / "医保局-12月.docx"
    form.write_bytes(unit_form_bytes(dataclasses.replace(data, answers=answers), YIBAO))

    result = ledger("report", "import", str(form), "--round", "2023-12-01")
    assert "changed: 1 — tasks 6" in result.stdout
    assert "nothing was overwritten silently" in result.stdout
    entries = entries_of_round(database_url)
    assert entries[6] == (edited.text, 2)
    assert all(version == 1 for task, (_, version) in entries.items() if task != 6)

    async def revisions(session):
        from storage.services import reporting
        from storage.services.exports import find_round_unit
        from storage.services.rounds import find_round

        round_ = await find_round(session, "2023-12-01")
        unit = await find_round_unit(session, round_.id, "医保局")
        task_id = next(
            line.task_id
            for line in (await reporting.overview(session, round_.id, unit.id)).lines
            if line.number == 6
        )
        return await reporting.revisions_of(session, round_.id, unit.id, task_id)

    first, second = in_database(database_url, revisions)
    assert first.by_label == "import:xingqing-2023-yibao-report.yaml"
    assert second.by_label == f"import:{form.name}" and second.source == "import"
    assert second.old_text == "在医疗保障局网站公开2023年度10条预决算信息。"
    assert second.new_text == edited.text


def test_a_form_of_an_unknown_unit_is_refused_and_changes_nothing(ledger, database_url, tmp_path):
    stranger = UnitInfo("银川市不存在局", contact="张三", phone="1234567")
    data = RoundData.for_report(
        load_plan(sample_path("xingqing-2023.yaml")), load_report(REPORT), stranger
    )
    form = tmp_path / "stranger.docx"
    form.write_bytes(unit_form_bytes(data, stranger.name))

    refused = ledger("report", "import", str(form), "--round", "2023-12-01", ok=False)
    assert refused.exit_code == 1
    assert "银川市不存在局" in refused.stderr and "nothing saved" in refused.stderr
    assert "Traceback" not in refused.output
    assert entries_of_round(database_url) == {}

    summary = import_json(ledger, str(form), "--round", "2023-12-01", "--unit", "医保局")
    assert summary["unit"] == YIBAO and summary["added"] == SEED_TASKS


@pytest.mark.parametrize(
    "payload",
    [b"PK\x03\x04 this is no word document", b"", b"\x00" * 64],
    ids=["broken-zip", "empty", "binary"],
)
def test_a_corrupted_form_is_a_clean_error(ledger, database_url, tmp_path, payload):
    bad = tmp_path / "填报表.docx"
    bad.write_bytes(payload)
    result = ledger("report", "import", str(bad), "--round", "2023-12-01", ok=False)
    assert result.exit_code == 1
    assert "填报表.docx" in result.stderr and "Traceback" not in result.output
    assert entries_of_round(database_url) == {}


def test_dry_run_reports_and_saves_nothing(ledger, database_url):
    summary = import_json(ledger, str(REPORT), "--round", "2023-12-01", "--dry-run")
    assert summary["added"] == SEED_TASKS and summary["saved"] is False
    assert entries_of_round(database_url) == {}


def test_a_report_for_another_round_is_refused(ledger, database_url):
    result = ledger("report", "import", str(REPORT), "--round", "2023-08-10", ok=False)
    assert result.exit_code == 1 and "--round 2023-12-01" in result.stderr
    assert entries_of_round(database_url, "2023-08-10") == {}


def test_consolidated_ledger_as_docx_and_xlsx(ledger, tmp_path):
    from openpyxl import load_workbook

    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    first = ledger("export", "2023-12-01")
    default = tmp_path / "xingqing-2023-2023-12-01-汇总台账.docx"
    assert f"wrote {default.name}" in first.stdout
    text = document_text(default)
    assert "医保局：" in text and "未报送：" in text
    assert load_report(REPORT).answer(12).text in text
    again = ledger("export", "2023-12-01", "--plan", "xingqing-2023")
    assert "overwrote" in again.stdout

    ledger("export", "2023-12-01", "-o", "台账.xlsx")  # format from the suffix
    workbook = load_workbook(tmp_path / "台账.xlsx")
    assert workbook.sheetnames == ["台账汇总", "状态矩阵", "报送情况"]


def test_all_units_writes_every_units_form_into_a_folder(ledger, database_url, tmp_path):
    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    result = ledger("export", "2023-12-01", "--all-units", "-o", "forms")
    expected = {f"{u.name}.docx" for u in stored_round(database_url).reporting_units()}
    written = {p.name for p in (tmp_path / "forms").iterdir()}
    assert written == expected and len(written) > 1
    assert f"wrote {len(expected)} unit forms" in result.stdout
    assert load_report(REPORT).answer(3).text in document_text(
        tmp_path / "forms" / f"{YIBAO}.docx"
    )


def test_round_archive_lists_every_file_with_its_sha256(ledger, tmp_path):
    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    ledger("export", "2023-12-01", "--format", "zip", "-o", "round.zip")
    with zipfile.ZipFile(tmp_path / "round.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["round"]["due"] == "2023-12-01"
        listed = {f["path"]: f for f in manifest["files"]}
        assert set(listed) == set(archive.namelist()) - {"manifest.json"}
        assert {f"forms/{YIBAO}.docx", "汇总台账.docx", "汇总台账.xlsx"} <= set(listed)
        for path, about in listed.items():
            content = archive.read(path)
            assert hashlib.sha256(content).hexdigest() == about["sha256"], path
            assert len(content) == about["size"]
    assert not list(tmp_path.glob(".*.part"))


def test_usage_mistakes_exit_2_and_unknown_things_exit_1(ledger, tmp_path):
    both = ledger("export", "2023-12-01", "--unit", "医保局", "--all-units", ok=False)
    workbook = ledger("export", "2023-12-01", "--unit", "医保局", "--format", "xlsx", ok=False)
    assert both.exit_code == 2 and workbook.exit_code == 2
    nobody = ledger("export", "2023-12-01", "--unit", "不存在局", ok=False)
    assert nobody.exit_code == 1 and "不存在局" in nobody.stderr
    no_round = ledger("export", "2031-01-01", ok=False)
    assert no_round.exit_code == 1 and "round list" in no_round.stderr
    assert list(tmp_path.glob("*.docx")) == []


def test_pdf_without_libreoffice_is_a_clear_error_and_writes_nothing(
    ledger, monkeypatch, tmp_path
):
    monkeypatch.setattr(pdf, "find_office", lambda: None)
    result = ledger("export", "2023-12-01", "--unit", "医保局", "--format", "pdf", ok=False)
    assert result.exit_code == 1 and "LibreOffice" in result.stderr
    assert list(tmp_path.glob("*.pdf")) == [] and not list(tmp_path.glob(".*.part"))


def test_unit_form_as_pdf(sqlite_url, monkeypatch, tmp_path):
    # SQLite only: one LibreOffice conversion is enough (it is slow).
    if not pdf.office_available():
        if OFFICE_REQUIRED:
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) not installed")
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    ledger = make_cli(sqlite_url, monkeypatch, tmp_path)
    load_ledger(ledger)
    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    ledger("export", "2023-12-01", "--unit", "医保局", "--format", "pdf")
    written = tmp_path / f"xingqing-2023-2023-12-01-{YIBAO}.pdf"
    assert written.read_bytes().startswith(b"%PDF")


def section_header_marks(path: Path) -> list[str]:
    return [section.header.paragraphs[0].text for section in Document(str(path)).sections]


def edited_form(url: str, folder: Path, task: int, text: str) -> Path:
    """医保局's form as stored, with one answer edited: a form the unit sends again."""
    data = stored_round(url)
    answers = {**data.answers, (YIBAO, task): Answer(task=task, text=text)}
    form = folder / "医保局-改.docx"
    form.write_bytes(unit_form_bytes(dataclasses.replace(data, answers=answers), YIBAO))
    return form


def test_an_imported_form_counts_as_submitted_and_a_draft_does_not(ledger, tmp_path):
    seed_answer = load_report(REPORT).answer(12).text
    summary = import_json(ledger, str(REPORT), "--round", "2023-12-01", "--draft")
    assert summary["submission"] is None
    ledger("export", "2023-12-01", "-o", "before.docx")
    before = document_text(tmp_path / "before.docx")
    assert "已报送：0个" in before and seed_answer not in before

    summary = import_json(ledger, str(REPORT), "--round", "2023-12-01", "--by", "周琪")
    assert summary["submission"]["version"] == 1 and summary["submission"]["new_version"]
    assert summary["submission"]["by"] == "周琪"
    again = ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    assert "submission unchanged: version 1" in again.stdout
    ledger("export", "2023-12-01", "-o", "after.docx")
    after = document_text(tmp_path / "after.docx")
    assert "已报送：1个" in after and seed_answer in after


def test_exports_print_the_submitted_version_and_drafts_are_marked(ledger, database_url, tmp_path):
    from openpyxl import load_workbook

    ledger("report", "import", str(REPORT), "--round", "2023-12-01")
    submitted_text = load_report(REPORT).answer(6).text
    draft_text = "在医疗保障局网站公开2023年度12条预决算信息。"
    form = edited_form(database_url, tmp_path, 6, draft_text)
    loaded = ledger("report", "import", str(form), "--round", "2023-12-01", "--draft")
    assert "loaded as a draft: not submitted" in loaded.stdout

    ledger("export", "2023-12-01", "--unit", "医保局", "-o", "submitted.docx")
    ledger("export", "2023-12-01", "--unit", "医保局", "--drafts", "-o", "draft.docx")
    ledger("export", "2023-12-01", "--drafts", "-o", "all-drafts.docx")
    submitted = document_text(tmp_path / "submitted.docx")
    assert submitted_text in submitted and draft_text not in submitted
    assert not any(section_header_marks(tmp_path / "submitted.docx"))
    for name in ("draft.docx", "all-drafts.docx"):
        text = document_text(tmp_path / name)
        assert draft_text in text and submitted_text not in text, name
        marks = section_header_marks(tmp_path / name)
        assert marks and all("草稿，未提交" in mark for mark in marks), name

    ledger("export", "2023-12-01", "--drafts", "-o", "drafts.xlsx")
    workbook = load_workbook(tmp_path / "drafts.xlsx")
    assert "草稿，未提交" in workbook["台账汇总"]["A1"].value
    assert all(ws.oddHeader.center.text == "草稿，未提交" for ws in workbook.worksheets)

    ledger("export", "2023-12-01", "--format", "zip", "-o", "round.zip")
    with zipfile.ZipFile(tmp_path / "round.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["drafts"] is False
        consolidated = archive.read("汇总台账.docx")
    (tmp_path / "zipped.docx").write_bytes(consolidated)
    assert submitted_text in document_text(tmp_path / "zipped.docx")
