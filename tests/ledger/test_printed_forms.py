"""How the forms print (issue 13, part 6): page setup, repeated headers, fonts, language, the
footer, and a 重点工作 that goes on over a page break. Read through python-docx and openpyxl;
LibreOffice's rendering was looked at by hand (docs/forms.md says how)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from ledger.docx_forms import (
    BODY_FONT,
    CELL_MARGIN,
    CONTINUED,
    FALLBACK_FONT,
    HEADING_FONT,
    LATIN_FONT,
    TITLE_FONT,
    blank_form_bytes,
    column_widths,
    consolidated_docx_bytes,
    unit_form_bytes,
)
from ledger.form_import import read_plan_docx
from ledger.model import Item, Layout, Plan, Role, Section, Task
from ledger.plan_yaml import load_plan
from ledger.report import Answer
from ledger.rounddata import RoundData, UnitInfo
from ledger.samples import sample_path
from ledger.textfit import paragraph_lines
from ledger.units import load_units
from ledger.xlsx_ledger import FORM_SHEET, MATRIX_SHEET, SUBMISSIONS_SHEET, consolidated_xlsx_bytes


@pytest.fixture(scope="module")
def xingqing_round() -> RoundData:
    """The 兴庆区 plan for all its 28 units, every task assigned as the sample's text says."""
    plan = load_plan(sample_path("xingqing-2023"))
    directory = load_units(sample_path("xingqing-units"))
    units = [UnitInfo(u.name, u.short_name) for u in directory]
    names = [u.name for u in units]
    assignments = {
        t.number: [(n, Role.LEAD if i == 0 else Role.RESPONSIBLE) for i, n in enumerate(names)]
        for t in plan.tasks()
        if t.number % 3
    }
    answers = {(names[0], n): Answer(n, "已按要求完成。" * 12) for n in assignments}
    return RoundData(plan, "第二次报送", dt.date(2023, 12, 1), units, assignments, answers)


def long_item_plan() -> Plan:
    """One 重点工作 of twelve tasks, each long enough that they take three pages or more."""
    content = "按照要求推进政务公开工作，细化工作措施，明确责任分工，逐项抓好落实。" * 6
    tasks = [
        Task(n, content, responsibility="责任部门：政府办", due_text="2023年10月")
        for n in range(1, 13)
    ]
    return Plan(
        "long",
        "测试计划",
        Layout.FILL_FORM,
        [Section("板块", [Item("很长的重点工作", tasks)])],
        subtitle="（填报版）",
    )


def item_cells(payload: bytes) -> list[tuple[int, str, str | None]]:
    """(序号, 重点工作 cell text, vMerge value or None) of each task row, as stored."""
    rows = []
    for table in docx.Document(io.BytesIO(payload)).tables:
        for tr in table._tbl.tr_lst[1:]:
            tcs = tr.tc_lst
            number = "".join(t.text or "" for t in tcs[0].iter(qn("w:t")))
            text = "".join(t.text or "" for t in tcs[1].iter(qn("w:t")))
            merge = tcs[1].tcPr.find(qn("w:vMerge"))
            value = None if merge is None else (merge.get(qn("w:val")) or "continue")
            rows.append((int(number), text, value))
    return rows


# -- Word


def test_word_settings_say_zh_cn_and_the_font_table_lists_only_our_fonts() -> None:
    payload = blank_form_bytes(long_item_plan())
    with zipfile.ZipFile(io.BytesIO(payload)) as package:
        settings = package.read("word/settings.xml").decode()
        fonts = package.read("word/fontTable.xml").decode()
        everything = b"".join(package.read(n) for n in package.namelist() if n.endswith(".xml"))
    assert '<w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/>' in settings
    assert b"ja-JP" not in everything.replace(b'script="Jpan"', b"")
    names = docx.Document(io.BytesIO(payload)).part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable"
    )
    assert "ＭＳ" not in fonts and "Calibri" not in fonts
    listed = [f.get(qn("w:name")) for f in __import__("lxml.etree").etree.fromstring(names.blob)]
    assert sorted(listed) == sorted(
        [LATIN_FONT, TITLE_FONT, BODY_FONT, HEADING_FONT, FALLBACK_FONT]
    )


def test_word_footer_page_number_is_4hao_and_body_styles_have_exact_line_spacing() -> None:
    document = docx.Document(io.BytesIO(blank_form_bytes(long_item_plan())))
    footer = document.sections[0].footer.paragraphs[0]
    assert footer.style.font.size.pt == 14
    assert "PAGE" in footer._p.xml
    for name in ("Ledger Title", "Ledger Intro", "Ledger Section", "Ledger Cell"):
        spacing = document.styles[name].paragraph_format
        assert spacing.line_spacing_rule is not None and spacing.line_spacing.pt > 0, name
        assert str(spacing.line_spacing_rule).startswith("EXACTLY"), name


def test_an_item_going_on_over_a_page_break_shows_its_name_there_and_reads_back() -> None:
    plan = long_item_plan()
    payload = blank_form_bytes(plan)
    rows = item_cells(payload)
    assert rows[0] == (1, "很长的重点工作", "restart")
    continued = [(n, merge) for n, text, merge in rows if text == "很长的重点工作" + CONTINUED]
    assert len(continued) >= 2  # twelve long tasks take three pages at least
    for _number, merge in continued:
        assert merge in ("restart", None)  # a new merged cell on the new page
    for _number, text, merge in rows[1:]:
        assert text in ("", "很长的重点工作" + CONTINUED)
        if not text:
            assert merge == "continue"
    # One item, as before: the importer reads （续） as the same 重点工作.
    again = read_plan_docx(io.BytesIO(payload), key="long").plan
    assert [(i.title, [t.number for t in i.tasks]) for i in again.items()] == [
        ("很长的重点工作", list(range(1, 13)))
    ]


def test_the_page_breaks_move_with_the_answers(xingqing_round: RoundData) -> None:
    """Long answers push the rows down: the （续） moves to the rows that start the pages."""
    short = item_cells(unit_form_bytes(xingqing_round, "政府办"))
    answers = {key: Answer(key[1], "很长的回答。" * 90) for key in xingqing_round.answers}
    longer = dataclasses.replace(xingqing_round, answers=answers)
    tall = item_cells(unit_form_bytes(longer, "政府办"))
    marked = [{n for n, text, _ in rows if text.endswith(CONTINUED)} for rows in (short, tall)]
    assert marked[0] != marked[1] and len(marked[1]) > len(marked[0])
    consolidated = item_cells(consolidated_docx_bytes(xingqing_round))
    assert any(text.endswith(CONTINUED) for _, text, _ in consolidated)


def test_the_division_deadline_fits_one_line() -> None:
    widths = dict(
        zip(
            ["number", "item", "content", "unit", "due", "progress"],
            column_widths(Layout.DIVISION),
            strict=True,
        )
    )
    width_em = (widths["due"] - 2 * CELL_MARGIN) / 20 / 10.5
    assert paragraph_lines("2023年11月底", width_em) == 1
    assert widths["progress"] == max(widths.values())


# -- Excel


def test_every_sheet_prints_a4_landscape_with_titles_footer_and_our_fonts(
    xingqing_round: RoundData,
) -> None:
    payload = consolidated_xlsx_bytes(xingqing_round)
    workbook = openpyxl.load_workbook(io.BytesIO(payload))
    for ws in workbook.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title
        assert ws.print_title_rows, ws.title
        assert "&P" in ws.oddFooter.center.text and ws.oddFooter.center.size == 14
        assert ws.print_options.horizontalCentered
    for name in (FORM_SHEET, SUBMISSIONS_SHEET):
        ws = workbook[name]
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    form = workbook[FORM_SHEET]
    header = next(r for r in range(1, 20) if form.cell(r, 1).value == "序号")
    assert form.print_title_rows == f"${header}:${header}"
    with zipfile.ZipFile(io.BytesIO(payload)) as package:
        styles = package.read("xl/styles.xml").decode()
    assert "Calibri" not in styles and FALLBACK_FONT not in styles
    used = {c.font.name for ws in workbook for row in ws.iter_rows() for c in row if c.value}
    assert used <= {BODY_FONT, HEADING_FONT, TITLE_FONT}


def test_the_status_matrix_prints_across_pages_with_the_task_columns_repeated(
    xingqing_round: RoundData,
) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(consolidated_xlsx_bytes(xingqing_round)))[MATRIX_SHEET]
    assert not ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.scale >= 80
    assert ws.print_title_cols == "$A:$B" and ws.print_title_rows == "$3:$3"
    breaks = [b.id for b in ws.col_breaks.brk]
    assert len(breaks) >= 2  # 28 units: three pages across or more
    groups = [b - prev for prev, b in zip([2, *breaks], breaks, strict=False)]
    assert max(groups) - min(groups) <= 1  # balanced


def test_a_merged_item_never_runs_over_a_page_break_in_the_workbook(
    xingqing_round: RoundData,
) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(consolidated_xlsx_bytes(xingqing_round)))[FORM_SHEET]
    starts = {b.id + 1 for b in ws.row_breaks.brk}  # a page's first row
    assert len(starts) >= 5
    item_ranges = [r for r in ws.merged_cells.ranges if r.min_col == r.max_col == 2]
    for merged in item_ranges:
        assert not any(merged.min_row < row <= merged.max_row for row in starts), str(merged)
    plan = xingqing_round.plan
    numbers = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for row in starts:
        number = ws.cell(row, 1).value
        if not isinstance(number, int):
            continue  # a 板块 heading starts the page
        item = plan.item_of(number)
        first = item.tasks[0].number == number
        expected = item.title if first else item.title + CONTINUED
        assert ws.cell(row, 2).value == expected
        assert numbers[number] == row
    heights = [ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)]
    assert all(h for h in heights)  # every row's height is set: the pages are known


def test_the_submissions_header_wraps_in_a_taller_row(xingqing_round: RoundData) -> None:
    ws = openpyxl.load_workbook(io.BytesIO(consolidated_xlsx_bytes(xingqing_round)))[
        SUBMISSIONS_SHEET
    ]
    assert ws.cell(1, 5).alignment.wrap_text
    assert ws.row_dimensions[1].height >= 36
