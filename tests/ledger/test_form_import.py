"""Reading plans and filled forms from Word and Excel ledgers (ledger/form_import.py).

The Word fixtures are built here with python-docx in the physical structure of seed 000
(../shared/seeds/000_…): eight grid columns under a 主要内容 header that spans the task-name
and content columns, 重点工作 cells merged vertically (w:vMerge) and padded with blank
paragraphs, section headings as paragraphs between the tables, cells wrapped over two
paragraphs, and the fourth table's blank 进展落实情况 header.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.table import Table

from ledger.errors import LedgerError
from ledger.form_import import (
    PlanImport,
    read_filled_form_docx,
    read_plan_docx,
    read_plan_file,
    read_plan_xlsx,
    read_report_file,
)
from ledger.model import Layout, Plan, Status, section_numeral
from ledger.plan_yaml import load_plan
from ledger.report import UnitReport, load_report
from ledger.samples import sample_path

FILL_FORM_HEADER = [
    "序号",
    "重点工作",
    "主要内容",
    "量化指标",
    "责任单位",
    "完成时限",
    "进展落实情况",
]
DIVISION_HEADER = ["序号", "重点任务", "具体措施", "责任科室", "完成时限", "进展情况"]
FILLED_TASKS = [1, 3, 6, 12, 13, 14, 15, 22, 25, 29]


@pytest.fixture(scope="module")
def xingqing() -> Plan:
    return load_plan(sample_path("xingqing-2023"))


@pytest.fixture(scope="module")
def yibao() -> Plan:
    return load_plan(sample_path("yibao-2023"))


@pytest.fixture(scope="module")
def yibao_report() -> UnitReport:
    return load_report(sample_path("xingqing-2023-yibao-report"))


# ---------------------------------------------------------------------------------------------
# Fixture builders


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def set_paragraphs(cell, lines: Iterable[str], *, bold_first: bool = False) -> None:
    """Write lines as separate paragraphs of a cell ("" makes a blank spacer paragraph)."""
    lines = list(lines)
    cell.paragraphs[0].text = ""
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = bold_first and index == 0


def fill_row(cells, texts: Iterable[str]) -> None:
    for cell, text in zip(cells, texts, strict=True):
        cell.text = text


def wrapped(text: str, number: int) -> list[str]:
    """How seed 000 wraps some cells over two paragraphs."""
    if text == "2023年10月" and 28 <= number <= 32:
        return ["2023年", "10月"]
    if number == 8 and "，责任部门" in text:
        head, tail = text.split("，", 1)
        return [head + "，", tail]
    return [text]


def seed_like_docx(
    plan: Plan,
    report: UnitReport | None = None,
    *,
    headings_as_rows: bool = False,
    name_style: str = "column",
) -> bytes:
    """The plan as a 填报版 built like seed 000 (see the module docstring).

    name_style "column": a task name has its own grid column under the spanning 主要内容
    header; "bold": the name is the bold first paragraph of the content cell (seven columns).
    headings_as_rows: one table, each 板块 heading a merged full-width row followed by the
    header row repeated inside the table.
    """
    document = Document()
    for line in (plan.title, plan.subtitle):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("")
    document.add_paragraph(plan.intro)
    for _ in range(8):
        document.add_paragraph("   ")
    unit, contact, phone = (report.unit, report.contact, report.phone) if report else ("", "", "")
    document.add_paragraph(
        f"填报单位：{unit}        联系人：{contact}              联系电话：{phone}"
    )
    columns = 8 if name_style == "column" else 7
    table: Table | None = None
    for index, section in enumerate(plan.sections):
        heading = f"{section_numeral(index)}、{section.title}"
        if headings_as_rows:
            if table is None:
                table = document.add_table(rows=0, cols=columns)
            row = table.add_row()
            row.cells[0].merge(row.cells[-1])
            row.cells[0].text = heading
        else:
            document.add_paragraph(heading)
            table = document.add_table(rows=0, cols=columns)
        blank_progress_header = index == 3  # seed 000's fourth table leaves it blank
        add_header(table, columns, blank_progress_header)
        for item in section.items:
            add_item_rows(table, item, report, columns)
    return docx_bytes(document)


def add_header(table: Table, columns: int, blank_progress: bool) -> None:
    row = table.add_row()
    texts = list(FILL_FORM_HEADER)
    if blank_progress:
        texts[-1] = ""
    if columns == 8:
        row.cells[2].merge(row.cells[3])
        texts.insert(3, None)
    for cell_index, text in enumerate(texts):
        if text is not None:
            row.cells[cell_index].text = text


def add_item_rows(table: Table, item, report: UnitReport | None, columns: int) -> None:
    first_row = len(table.rows)
    for task in item.tasks:
        row = table.add_row()
        cells = row.cells
        set_paragraphs(
            cells[0], [str(task.number), ""] if task.number == 9 else [str(task.number)]
        )
        if columns == 8:
            if task.name:
                set_paragraphs(cells[2], ["", "", task.name])
            else:
                cells[2].merge(cells[3])
            content_at = 3
        else:
            content_at = 2
            lines = [task.name, task.content] if task.name else [task.content]
            set_paragraphs(cells[content_at], lines, bold_first=bool(task.name))
        if columns == 8:
            set_paragraphs(table.cell(len(table.rows) - 1, content_at), [task.content])
        tail = table.rows[-1].cells[-4:]
        set_paragraphs(tail[0], [task.indicator, ""])
        set_paragraphs(tail[1], wrapped(task.responsibility, task.number))
        set_paragraphs(tail[2], wrapped(task.due_text, task.number))
        answer = report.answer(task.number) if report else None
        set_paragraphs(tail[3], [answer.text, "", ""] if answer else [""])
    top = table.cell(first_row, 1)
    if len(table.rows) - 1 > first_row:
        top = top.merge(table.cell(len(table.rows) - 1, 1))
    title = item.title
    lines = ["报送落实", "进展情况"] if title == "报送落实进展情况" else [title]
    set_paragraphs(top, ["", "", "", *lines])


def division_docx(plan: Plan, *, break_after: int | None = None, progress: bool = True) -> bytes:
    """The plan as a 任务分工 table; break_after splits it in two tables after that 序号,
    the header repeated and the item's name printed again in the second table."""
    document = Document()
    document.add_paragraph(plan.title).alignment = WD_ALIGN_PARAGRAPH.CENTER
    header = DIVISION_HEADER if progress else DIVISION_HEADER[:-1]
    table = new_division_table(document, header)
    for item in plan.items():
        first_row = len(table.rows)
        for task in item.tasks:
            cells = table.add_row().cells
            cells[0].text = str(task.number)
            cells[2].text = task.content
            cells[3].text = task.responsibility
            cells[4].text = task.due_text
            if task.number == break_after:
                merge_item(table, first_row, item.title)
                table = new_division_table(document, header)
                first_row = 1
        if len(table.rows) > first_row:
            merge_item(table, first_row, item.title)
    return docx_bytes(document)


def new_division_table(document, header: list[str]) -> Table:
    document.add_paragraph("")
    table = document.add_table(rows=1, cols=len(header))
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    return table


def merge_item(table: Table, first_row: int, title: str) -> None:
    top = table.cell(first_row, 1)
    if len(table.rows) - 1 > first_row:
        top = top.merge(table.cell(len(table.rows) - 1, 1))
    top.text = title


def assert_same_plan(read: Plan, expected: Plan) -> None:
    assert [s.title for s in read.sections] == [s.title for s in expected.sections]
    assert [i.title for i in read.items()] == [i.title for i in expected.items()]
    for got, want in zip(read.tasks(), expected.tasks(), strict=True):
        fields = ("number", "name", "content", "indicator", "responsibility", "due_text")
        assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}


# ---------------------------------------------------------------------------------------------
# Word plans


def test_seed_like_fill_form_reads_back_the_sample_plan(xingqing: Plan) -> None:
    result = read_plan_docx(io.BytesIO(seed_like_docx(xingqing)), source="兴庆区台账.docx")

    plan = result.plan
    assert plan.counts() == {"sections": 4, "items": 16, "tasks": 33}
    assert_same_plan(plan, xingqing)
    assert plan.layout is Layout.FILL_FORM
    assert (plan.title, plan.subtitle, plan.intro) == (
        xingqing.title,
        xingqing.subtitle,
        xingqing.intro,
    )
    assert plan.year == 2023
    assert plan.issuer == "银川市兴庆区人民政府办公室"
    assert [r.due for r in plan.rounds] == ["2023-08-10", "2023-12-01"]
    assert plan.key == "plan-2023"  # no Latin letters in the file name
    assert result.warnings == []


def test_merged_item_cell_holds_every_task_of_the_item(xingqing: Plan) -> None:
    plan = read_plan_docx(io.BytesIO(seed_like_docx(xingqing))).plan

    assert [t.number for t in plan.item_of(9).tasks] == [9, 10]
    assert [t.number for t in plan.item_of(29).tasks] == [29, 30, 31, 32]
    assert plan.item_of(33).title == "报送落实进展情况"  # two paragraphs, joined


def test_task_names_come_from_their_own_column_or_the_spanning_content_cell(
    xingqing: Plan,
) -> None:
    plan = read_plan_docx(io.BytesIO(seed_like_docx(xingqing))).plan

    assert plan.task(2).name == "抓好稳岗就业信息公开"  # own cell, after blank paragraphs
    assert plan.task(8).name == "推动行政事业性收费常态公开。"  # own cell: the 。 is kept
    assert plan.task(1).name == ""  # content cell spans both columns
    assert plan.task(1).content.startswith("及时公开黄河流域")


def test_wrapped_short_cells_are_joined_without_a_break(xingqing: Plan) -> None:
    plan = read_plan_docx(io.BytesIO(seed_like_docx(xingqing))).plan

    assert plan.task(28).due_text == "2023年10月"
    lead, rest = "牵头部门：财政局、发改局，", "责任部门：政府各部门、各乡镇街道"
    assert plan.task(8).responsibility == lead + rest


@pytest.mark.parametrize("name_style", ["column", "bold"])
def test_headings_as_full_width_rows_and_a_repeated_header(xingqing: Plan, name_style) -> None:
    data = seed_like_docx(xingqing, headings_as_rows=True, name_style=name_style)

    assert_same_plan(read_plan_docx(io.BytesIO(data)).plan, xingqing)


def test_division_layout_with_an_item_repeated_after_a_table_break(yibao: Plan) -> None:
    data = division_docx(yibao, break_after=13)

    result = read_plan_docx(io.BytesIO(data), key="yibao")

    assert result.plan.layout is Layout.DIVISION
    assert result.plan.key == "yibao"
    assert not result.plan.has_sections
    assert_same_plan(result.plan, yibao)
    assert [t.number for t in result.plan.item_of(14).tasks] == [13, 14, 15]


def test_short_first_paragraph_without_final_punctuation_is_the_name() -> None:
    document = Document()
    document.add_paragraph("某局2024年工作台账")
    table = document.add_table(rows=3, cols=7)
    for cell, text in zip(table.rows[0].cells, FILL_FORM_HEADER, strict=True):
        cell.text = text
    for row, (number, lines) in enumerate(
        [(1, ["抓好政策解读", "做好解读。"]), (2, ["主要包括：", "第一。", "第二。"])], start=1
    ):
        cells = table.rows[row].cells
        cells[0].text, cells[1].text = str(number), "大项"
        set_paragraphs(cells[2], lines)

    plan = read_plan_docx(io.BytesIO(docx_bytes(document))).plan

    assert (plan.task(1).name, plan.task(1).content) == ("抓好政策解读", "做好解读。")
    assert (plan.task(2).name, plan.task(2).content) == ("", "主要包括：\n第一。\n第二。")
    assert plan.year == 2024


def test_header_words_tolerate_spacing_and_variants() -> None:
    document = Document()
    document.add_paragraph("2023年台账")
    header = ["序 号", "重点任务", "具体措施", "责任部门", "完成时间"]
    table = document.add_table(rows=2, cols=5)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for cell, text in zip(
        table.rows[1].cells, ["1.", "大项", "内容", "办公室", "年底前"], strict=True
    ):
        cell.text = text

    plan = read_plan_docx(io.BytesIO(docx_bytes(document))).plan

    task = plan.task(1)
    assert (task.content, task.responsibility, task.due_text) == ("内容", "办公室", "年底前")
    assert plan.layout is Layout.DIVISION


def test_lead_and_responsible_columns_are_both_kept_labelled() -> None:
    document = Document()
    document.add_paragraph("2023年台账")
    table = document.add_table(rows=3, cols=5)
    fill_row(table.rows[0].cells, ["序号", "重点工作", "主要内容", "牵头单位", "责任单位"])
    fill_row(table.rows[1].cells, ["1", "大项", "内容", "政府办", "各部门"])
    fill_row(table.rows[2].cells, ["2", "大项", "内容", "", "民政局"])

    plan = read_plan_docx(io.BytesIO(docx_bytes(document))).plan

    assert plan.task(1).responsibility == "牵头单位：政府办，责任单位：各部门"
    assert plan.task(2).responsibility == "责任单位：民政局"


def test_an_unreadable_deadline_is_kept_as_text_and_reported() -> None:
    data = small_plan_docx(due="待定")

    result = read_plan_docx(io.BytesIO(data))

    assert result.plan.task(1).due_text == "待定"
    assert any("序号 1 的完成时限" in str(w) and "待定" in str(w) for w in result.warnings)


def test_progress_already_filled_is_reported_not_read_into_the_plan(
    xingqing: Plan, yibao_report: UnitReport
) -> None:
    result = read_plan_docx(io.BytesIO(seed_like_docx(xingqing, yibao_report)))

    assert any("有 10 个任务填了进展落实情况" in str(w) for w in result.warnings)


def small_plan_docx(
    rows: list[list[str]] | None = None, *, due: str = "2023年10月", progress: str = ""
) -> bytes:
    """A one-table 填报版 with the 填报单位 line, for error and filled-form cases."""
    document = Document()
    document.add_paragraph("测试局2023年政务公开工作台账")
    document.add_paragraph("填报单位:测试局 联系人: 张三  联系电话：123")
    rows = rows or [["1", "大项一", "内容一", "指标", "责任部门：办公室", due, progress]]
    table = document.add_table(rows=1 + len(rows), cols=7)
    for cell, text in zip(table.rows[0].cells, FILL_FORM_HEADER, strict=True):
        cell.text = text
    for row, values in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    return docx_bytes(document)


def test_a_task_continued_on_a_second_row_under_a_merged_number() -> None:
    document = Document()
    document.add_paragraph("2023年台账")
    table = document.add_table(rows=3, cols=7)
    for cell, text in zip(table.rows[0].cells, FILL_FORM_HEADER, strict=True):
        cell.text = text
    first, second = table.rows[1].cells, table.rows[2].cells
    fill_row(first, ["1", "大项", "前半。", "指标", "政府办", "2023年", "做了"])
    second[2].text, second[5].text, second[6].text = "后半。", "10月", "又做了"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "1"
    table.cell(1, 1).merge(table.cell(2, 1)).text = "大项"
    data = docx_bytes(document)

    plan = read_plan_docx(io.BytesIO(data)).plan
    report = read_filled_form_docx(io.BytesIO(data), plan)

    task = plan.task(1)
    assert (task.content, task.due_text) == ("前半。\n后半。", "2023年10月")
    assert [(a.task, a.text) for a in report.answers] == [(1, "做了\n又做了")]


def test_text_left_in_a_continued_merged_cell_does_not_start_an_item() -> None:
    """Word hides what a w:vMerge continuation cell still holds; so does the reader."""
    from docx.table import _Cell

    document = Document()
    document.add_paragraph("2023年台账")
    table = document.add_table(rows=3, cols=7)
    fill_row(table.rows[0].cells, FILL_FORM_HEADER)
    fill_row(table.rows[1].cells, ["1", "大项", "内容一", "", "", "", ""])
    fill_row(table.rows[2].cells, ["2", "", "内容二", "", "", "", ""])
    table.cell(1, 1).merge(table.cell(2, 1)).text = "大项"
    _Cell(table.rows[2]._tr.tc_lst[1], table).text = "旧的大项名"

    plan = read_plan_docx(io.BytesIO(docx_bytes(document))).plan

    assert [(i.title, [t.number for t in i.tasks]) for i in plan.items()] == [("大项", [1, 2])]


def test_a_table_split_without_a_repeated_header_continues_its_columns() -> None:
    document = Document()
    document.add_paragraph("2023年台账")
    table = document.add_table(rows=2, cols=7)
    fill_row(table.rows[0].cells, FILL_FORM_HEADER)
    fill_row(table.rows[1].cells, ["1", "大项", "内容一", "", "", "", ""])
    document.add_paragraph("")
    rest = document.add_table(rows=1, cols=7)
    fill_row(rest.rows[0].cells, ["2", "", "内容二", "", "", "", ""])

    plan = read_plan_docx(io.BytesIO(docx_bytes(document))).plan

    assert [[t.number for t in item.tasks] for item in plan.items()] == [[1, 2]]


# ---------------------------------------------------------------------------------------------
# Filled forms


def test_filled_seed_like_form_gives_the_units_answers_and_header(
    xingqing: Plan, yibao_report: UnitReport
) -> None:
    data = seed_like_docx(xingqing, yibao_report)

    report = read_filled_form_docx(io.BytesIO(data), xingqing)

    assert (report.unit, report.contact, report.phone) == ("兴庆区医疗保障局", "周琪", "8616234")
    assert report.plan == "xingqing-2023"
    assert [a.task for a in report.answers] == FILLED_TASKS
    assert [a.text for a in report.answers] == [a.text for a in yibao_report.answers]
    assert all(a.status is None for a in report.answers)


def test_blank_unit_line_gives_an_empty_unit(xingqing: Plan) -> None:
    report = read_filled_form_docx(io.BytesIO(seed_like_docx(xingqing)), xingqing)

    assert (report.unit, report.contact, report.phone, report.answers) == ("", "", "", [])


def test_status_words_at_the_start_of_an_answer_are_read() -> None:
    rows = [
        ["1", "大项", "内容", "", "", "", "【已完成】发布信息3条。"],
        ["2", "大项", "内容", "", "", "", "推进中：正在整理。"],
        ["3", "大项", "内容", "", "", "", "【不涉及】本单位无此职能"],
        ["4", "大项", "内容", "", "", "", "完成了全部任务。"],
    ]
    data = small_plan_docx(rows)
    plan = read_plan_docx(io.BytesIO(data)).plan

    report = read_filled_form_docx(io.BytesIO(data), plan)

    got = [(a.task, a.status, a.text, a.reason) for a in report.answers]
    assert got == [
        (1, Status.DONE, "发布信息3条。", ""),
        (2, Status.IN_PROGRESS, "正在整理。", ""),
        (3, Status.NOT_APPLICABLE, "", "本单位无此职能"),
        (4, None, "完成了全部任务。", ""),
    ]
    assert (report.unit, report.contact, report.phone) == ("测试局", "张三", "123")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("填报单位:测试局 联系人: 张三  联系电话：123", ("测试局", "张三", "123")),
        ("填报单位（盖章）：  测试局\t联系人 ：张三\t电话: 0951-1", ("测试局", "张三", "0951-1")),
        ("填报单位：________  联系人：____  联系电话：____", ("", "", "")),
    ],
)
def test_the_unit_line_tolerates_colons_spacing_and_blanks(line: str, expected) -> None:
    data = small_plan_docx(progress="写了")
    document = Document(io.BytesIO(data))
    document.paragraphs[1].text = line
    data = docx_bytes(document)

    report = read_filled_form_docx(io.BytesIO(data), read_plan_docx(io.BytesIO(data)).plan)

    assert (report.unit, report.contact, report.phone) == expected


def test_a_form_row_whose_number_is_not_in_the_plan_is_named(xingqing: Plan) -> None:
    data = small_plan_docx([["34", "大项", "内容", "", "", "", "写了"]])

    with pytest.raises(LedgerError, match="序号 34 不在计划"):
        read_filled_form_docx(io.BytesIO(data), xingqing)


def test_read_report_file_dispatches_yaml_and_docx(
    tmp_path: Path, xingqing: Plan, yibao_report: UnitReport
) -> None:
    docx_path = tmp_path / "医保局.docx"
    docx_path.write_bytes(seed_like_docx(xingqing, yibao_report))

    from_docx = read_report_file(docx_path, xingqing)
    from_yaml = read_report_file(sample_path("xingqing-2023-yibao-report"), xingqing)

    assert [(a.task, a.text) for a in from_docx.answers] == [
        (a.task, a.text) for a in from_yaml.answers
    ]


# ---------------------------------------------------------------------------------------------
# Excel plans


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sample_xlsx(*, section_column: bool = False) -> bytes:
    """Three tasks under two items and two sections: merged item cells, a blank item cell."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active["A1"] = "这张表不是台账"
    ws = workbook.create_sheet("台账")
    header = ["序号", "重点工作", "主要内容", "量化指标", "责任单位", "完成时限"]
    if section_column:
        header.insert(0, "板块")
    ws.append(["某区2023年政务公开工作台账"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    rows = [
        ("一、信息公开",),
        ("1", "大项甲", "内容一，第一段。\n第二段。", "指标一", "政府办", "2023年10月"),
        ("2", None, "内容二", "", "财政局", "2023年11月底"),
        ("二、政策解读",),
        ("3", "大项乙", "内容三", "", "各部门", "年底前"),
        ("4", "", "内容四", "", "各部门", "2023年12月"),
    ]
    section = ""
    for values in rows:
        if len(values) == 1:
            section = values[0]
            if not section_column:
                ws.append([section])
            continue
        ws.append([section, *values] if section_column else list(values))
    first_item_row = 4 if not section_column else 3
    item_column = 3 if section_column else 2
    ws.merge_cells(
        start_row=first_item_row, start_column=item_column,
        end_row=first_item_row + 1, end_column=item_column,
    )  # fmt: skip
    return xlsx_bytes(workbook)


@pytest.mark.parametrize("section_column", [False, True])
def test_xlsx_with_merged_items_and_sections(section_column: bool) -> None:
    result = read_plan_xlsx(io.BytesIO(sample_xlsx(section_column=section_column)))

    plan = result.plan
    assert plan.title == "某区2023年政务公开工作台账"
    assert [s.title for s in plan.sections] == ["信息公开", "政策解读"]
    assert [[t.number for t in i.tasks] for i in plan.items()] == [[1, 2], [3, 4]]
    assert [i.title for i in plan.items()] == ["大项甲", "大项乙"]
    assert plan.task(1).content == "内容一，第一段。\n第二段。"
    assert plan.task(2).due_text == "2023年11月底"


def test_xlsx_date_cells_read_as_the_forms_write_dates() -> None:
    import datetime as dt

    workbook = openpyxl.Workbook()
    workbook.active.append(["2023年台账"])
    workbook.active.append(["序号", "重点工作", "主要内容", "完成时限"])
    workbook.active.append([1.0, "大项", "内容", dt.datetime(2023, 10, 31)])

    plan = read_plan_xlsx(io.BytesIO(xlsx_bytes(workbook))).plan

    assert plan.task(1).due_text == "2023年10月31日"


def test_xlsx_missing_columns_are_named(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["序号", "重点工作", "责任单位"])
    workbook.active.append([1, "大项", "政府办"])
    path = tmp_path / "缺列.xlsx"
    workbook.save(path)

    with pytest.raises(LedgerError) as caught:
        read_plan_xlsx(path)

    message = str(caught.value)
    assert "缺少列" in message and "主要内容" in message and "缺列.xlsx" in message
    assert "第1行" in message


# ---------------------------------------------------------------------------------------------
# Dispatch and bad input


def test_read_plan_file_dispatches_by_suffix(tmp_path: Path, yibao: Plan) -> None:
    docx_path = tmp_path / "yibao-2023.docx"
    docx_path.write_bytes(division_docx(yibao))
    xlsx_path = tmp_path / "plan.xlsx"
    xlsx_path.write_bytes(sample_xlsx())

    assert read_plan_file(sample_path("yibao-2023")).warnings == []
    assert read_plan_file(docx_path).plan.key == "yibao-2023"
    assert isinstance(read_plan_file(xlsx_path), PlanImport)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def no_table_docx() -> bytes:
    document = Document()
    document.add_paragraph("2023年台账（表格丢了）")
    return docx_bytes(document)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_INPUTS = {
    "no table": ("plan.docx", no_table_docx, "文件中没有找到台账表格"),
    "corrupted docx": ("plan.docx", lambda: truncated(small_plan_docx()), "不是有效的 .docx"),
    "not a zip": ("plan.docx", lambda: "纯文本".encode(), "不是有效的 .docx"),
    "old .doc": ("plan.docx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "旧版"),
    "corrupted xlsx": ("plan.xlsx", lambda: truncated(sample_xlsx()), "不是有效的 .xlsx"),
    "unknown suffix": ("plan.pdf", lambda: b"%PDF-1.4", "不支持的文件类型“.pdf”"),
    "row without 序号": (
        "plan.docx",
        lambda: small_plan_docx(
            [["1", "大项", "内容", "", "", "", ""], ["", "大项", "内容二", "", "", "", ""]]
        ),
        "第1个表格第3行: 这一行没有序号（“大项”）",
    ),
    "row without content": (
        "plan.docx",
        lambda: small_plan_docx([["1", "大项", "", "", "", "", ""]]),
        "第1个表格第2行: 序号 1 没有主要内容",
    ),
    "duplicate 序号": (
        "plan.docx",
        lambda: small_plan_docx(
            [["1", "大项", "甲", "", "", "", ""], ["1", "大项", "乙", "", "", "", ""]]
        ),
        "序号 1 重复（前一次在第1个表格第2行）",
    ),
    "序号 not a number": (
        "plan.docx",
        lambda: small_plan_docx([["一", "大项", "甲", "", "", "", ""]]),
        "序号“一”不是数字",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_plan_files_give_a_clear_error_naming_the_file(tmp_path: Path, case: str) -> None:
    name, make, expected = BAD_INPUTS[case]
    path = write(tmp_path, name, make())

    with pytest.raises(LedgerError) as caught:
        read_plan_file(path)

    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="找不到文件"):
        read_plan_file(tmp_path / "nowhere.docx")


def test_unknown_report_suffix(tmp_path: Path, xingqing: Plan) -> None:
    with pytest.raises(LedgerError, match="不支持的文件类型"):
        read_report_file(write(tmp_path, "report.xlsx", sample_xlsx()), xingqing)


def test_filled_form_without_a_progress_column(tmp_path: Path, yibao: Plan) -> None:
    path = write(tmp_path, "分工.docx", division_docx(yibao, progress=False))

    with pytest.raises(LedgerError, match="没有“进展落实情况”"):
        read_filled_form_docx(path, yibao)


# ---------------------------------------------------------------------------------------------
# Round trip through the export's Word forms (ledger/docx_forms.py)


@pytest.fixture(scope="module")
def docx_forms():
    from ledger import docx_forms

    return docx_forms


@pytest.fixture(scope="module")
def rounddata():
    from ledger import rounddata

    return rounddata


@pytest.mark.parametrize("name", ["xingqing-2023", "yibao-2023"])
def test_every_sample_plan_survives_the_blank_form(docx_forms, name: str) -> None:
    plan = load_plan(sample_path(name))

    result = read_plan_docx(io.BytesIO(docx_forms.blank_form_bytes(plan)), key=plan.key)

    read = result.plan
    assert_same_plan(read, plan)
    assert (read.title, read.subtitle, read.intro) == (plan.title, plan.subtitle, plan.intro)
    assert (read.layout, read.year, read.key) == (plan.layout, plan.year, plan.key)
    assert result.warnings == []


@pytest.mark.parametrize("only_own_tasks", [False, True])
def test_the_units_filled_form_reads_back_its_answers(
    docx_forms, rounddata, xingqing: Plan, yibao_report: UnitReport, only_own_tasks: bool
) -> None:
    data = rounddata.RoundData.for_report(xingqing, yibao_report)
    form = docx_forms.unit_form_bytes(data, yibao_report.unit, only_own_tasks=only_own_tasks)

    report = read_filled_form_docx(io.BytesIO(form), xingqing)

    assert (report.unit, report.contact, report.phone) == ("兴庆区医疗保障局", "周琪", "8616234")
    assert report.answers == yibao_report.answers
    assert [a.task for a in report.answers] == FILLED_TASKS


def test_statuses_and_multi_line_answers_survive_the_form(
    docx_forms, rounddata, yibao: Plan
) -> None:
    from ledger.report import Answer

    written = UnitReport(
        unit="办公室",
        contact="李四",
        phone="0951-1234567",
        answers=[
            Answer(task=1, text="第一段。\n第二段。", status=Status.DONE),
            Answer(task=2, text="正在推进。", status=Status.IN_PROGRESS),
            Answer(task=3, status=Status.NOT_STARTED),
            Answer(task=4, status=Status.NOT_APPLICABLE, reason="无此职能", text="说明一句。"),
            Answer(task=5, text="只有文字。"),
        ],
    )
    data = rounddata.RoundData.for_report(yibao, written)

    read = read_filled_form_docx(io.BytesIO(docx_forms.unit_form_bytes(data, "办公室")), yibao)

    assert read.answers == written.answers
    assert (read.unit, read.contact, read.phone) == ("办公室", "李四", "0951-1234567")


def test_the_blank_form_reads_as_an_empty_report(docx_forms, xingqing: Plan) -> None:
    report = read_filled_form_docx(io.BytesIO(docx_forms.blank_form_bytes(xingqing)), xingqing)

    assert (report.unit, report.contact, report.phone, report.answers) == ("", "", "", [])
