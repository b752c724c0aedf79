"""The consolidated workbook: form sheet, status matrix, submissions, and no formulas ever."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest

from ledger.model import Item, Layout, Plan, Role, Section, Status, Task
from ledger.plan_yaml import load_plan
from ledger.report import Answer
from ledger.rounddata import CellState, RoundData, SubmissionInfo, UnitInfo
from ledger.samples import sample_path
from ledger.xlsx_ledger import (
    FORM_SHEET,
    MATRIX_SHEET,
    STATE_COLOURS,
    SUBMISSIONS_SHEET,
    consolidated_xlsx_bytes,
    write_consolidated_xlsx,
)

UNITS = [
    UnitInfo("兴庆区人民政府办公室", "政府办", "王五", "111"),
    UnitInfo("兴庆区民政局", "民政局", "孙七", "222"),
    UnitInfo("兴庆区卫生健康局", "卫健局"),
    UnitInfo("兴庆区医疗保障局", "医保局", "周琪", "8616234"),
]
SHANGHAI_NOON = dt.datetime(2023, 11, 30, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


def plan() -> Plan:
    tasks = [
        Task(1, "内容一", name="任务甲", responsibility="牵头部门：政府办，责任部门：医保局"),
        Task(2, "内容二", responsibility="责任部门：民政局、卫健局", due_text="2023年10月"),
        Task(3, "内容三"),
    ]
    sections = [
        Section("板块甲", [Item("重点一", tasks[:2])]),
        Section("板块乙", [Item("重点二", tasks[2:])]),
    ]
    return Plan("small", "测试计划", Layout.FILL_FORM, sections, subtitle="（填报版）")


def round_data(
    answers: dict | None = None, submissions: dict | None = None, units=UNITS
) -> RoundData:
    return RoundData(
        plan=plan(),
        round_name="第二次报送",
        round_due=dt.date(2023, 12, 1),
        units=units,
        assignments={
            1: [("兴庆区医疗保障局", Role.RESPONSIBLE), ("兴庆区人民政府办公室", Role.LEAD)],
            2: [("兴庆区民政局", Role.RESPONSIBLE), ("兴庆区卫生健康局", Role.RESPONSIBLE)],
            3: [("兴庆区医疗保障局", Role.RESPONSIBLE)],
        },
        answers=answers or {},
        submissions=submissions or {},
    )


def standard_round() -> RoundData:
    return round_data(
        {
            ("兴庆区医疗保障局", 1): Answer(1, "医保局的回答"),
            ("兴庆区人民政府办公室", 1): Answer(1, "政府办的回答", Status.DONE),
            ("兴庆区民政局", 2): Answer(2, "", Status.NOT_APPLICABLE, reason="无此职能"),
            ("兴庆区医疗保障局", 3): Answer(3, "推进中", Status.IN_PROGRESS),
        },
        {
            "兴庆区医疗保障局": SubmissionInfo(
                "兴庆区医疗保障局", "周琪", SHANGHAI_NOON, True, "HZ-0001", 2
            ),
            "兴庆区民政局": SubmissionInfo(
                "兴庆区民政局", "孙七", SHANGHAI_NOON + dt.timedelta(days=2), False, "HZ-0002"
            ),
        },
    )


def load(data: RoundData) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(consolidated_xlsx_bytes(data)))


def find_row(ws, column: int, value) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, column).value == value)


def test_form_sheet_has_the_forms_columns_merged_items_and_consolidated_answers():
    ws = load(standard_round())[FORM_SHEET]
    header = find_row(ws, 1, "序号")
    assert [c.value for c in ws[header]] == [
        "序号",
        "重点工作",
        "主要内容",
        "量化指标",
        "责任单位",
        "完成时限",
        "进展落实情况",
    ]
    assert ws.freeze_panes == f"A{header + 1}"
    assert ws.cell(header + 1, 1).value == "一、板块甲"
    first = find_row(ws, 1, 1)
    assert ws.cell(first, 2).value == "重点一"
    assert f"B{first}:B{first + 1}" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.cell(first, 3).value == "任务甲\n内容一"
    assert (
        ws.cell(first, 7).value == "政府办（牵头）：【已完成】政府办的回答\n医保局：医保局的回答"
    )
    assert ws.cell(first + 1, 7).value == "民政局：【不涉及】无此职能\n未报送：卫健局"


def test_a_progress_cell_beyond_excels_limit_continues_in_merged_rows():
    long_text = "\n".join("很长的回答" * 2000 for _ in range(5))  # 50,004 characters
    ws = load(round_data({("兴庆区医疗保障局", 3): Answer(3, long_text)}))[FORM_SHEET]
    first = find_row(ws, 1, 3)
    pieces = [ws.cell(first + i, 7).value for i in range(2)]
    assert all(len(p) <= 32_767 for p in pieces)
    assert "\n".join(pieces) == "医保局：" + long_text
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {f"A{first}:A{first + 1}", f"C{first}:C{first + 1}"} <= merged
    assert ws.max_row == first + 1


def test_status_matrix_colours_each_state_and_keeps_a_legend():
    ws = load(standard_round())[MATRIX_SHEET]
    header = find_row(ws, 1, "序号")
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    row_of = {ws.cell(r, 1).value: r for r in range(header + 1, header + 4)}

    def state(unit: str, task: int):
        cell = ws.cell(row_of[task], columns[unit])
        return cell.value, cell.fill.fgColor.rgb[-6:] if cell.value else None

    assert state("政府办", 1) == ("已完成", STATE_COLOURS[CellState.DONE])
    assert state("医保局", 1) == ("已填报", STATE_COLOURS[CellState.ANSWERED])
    assert state("民政局", 2) == ("不涉及", STATE_COLOURS[CellState.NOT_APPLICABLE])
    assert state("卫健局", 2) == ("未报送", STATE_COLOURS[CellState.MISSING])
    assert state("医保局", 3) == ("推进中", STATE_COLOURS[CellState.IN_PROGRESS])
    assert state("政府办", 3) == (None, None)
    assert ws.cell(row_of[1], columns["政府办"]).font.b  # the lead in bold
    legend = {
        ws.cell(header - 1, c).value: ws.cell(header - 1, c).fill.fgColor.rgb[-6:]
        for c in range(3, 10)
    }
    assert legend == {s.value: STATE_COLOURS[s] for s in CellState}
    assert ws.freeze_panes == f"C{header + 1}"
    assert (
        ws.auto_filter.ref
        == f"A{header}:{openpyxl.utils.get_column_letter(ws.max_column)}{header + 3}"
    )


def test_status_matrix_totals_per_task_and_per_unit():
    ws = load(standard_round())[MATRIX_SHEET]
    header = find_row(ws, 1, "序号")
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    totals = ["应报", "已填报", "已完成", "未填写", "未报送"]
    per_task = {
        ws.cell(r, 1).value: [ws.cell(r, columns[t]).value for t in totals]
        for r in range(header + 1, header + 4)
    }
    assert per_task == {1: [2, 2, 1, 0, 0], 2: [2, 1, 0, 0, 1], 3: [1, 1, 0, 0, 0]}
    per_unit = {}
    for title in totals:
        row = find_row(ws, 2, f"{title}（项）")
        per_unit[title] = [
            ws.cell(row, columns[u]).value for u in ("政府办", "民政局", "卫健局", "医保局")
        ]
    assert per_unit == {
        "应报": [1, 1, 1, 2],
        "已填报": [1, 1, 0, 2],
        "已完成": [1, 0, 0, 0],
        "未填写": [0, 0, 0, 0],
        "未报送": [0, 0, 1, 0],
    }


def test_submissions_sheet_shows_local_time_on_time_or_late_and_who_is_missing():
    ws = load(standard_round())[SUBMISSIONS_SHEET]
    rows = {ws.cell(r, 1).value: [c.value for c in ws[r]] for r in range(2, ws.max_row + 1)}
    assert ws.cell(1, 5).value == "报送时间（Asia/Shanghai）"
    assert rows["兴庆区医疗保障局"] == [
        "兴庆区医疗保障局",
        "医保局",
        "周琪",
        "8616234",
        dt.datetime(2023, 11, 30, 12, 0),
        "按时",
        "HZ-0001",
        2,
    ]
    assert rows["兴庆区民政局"][4:7] == [dt.datetime(2023, 12, 2, 12, 0), "逾期", "HZ-0002"]
    assert rows["兴庆区卫生健康局"][5] == "未报送" and rows["兴庆区卫生健康局"][4] is None
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H5"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","点我")', "+1+2", "-3", "@SUM(A1)"])
def test_answers_that_look_like_formulas_stay_text(text):
    submission = SubmissionInfo("兴庆区医疗保障局", text, SHANGHAI_NOON, True, text)
    data = round_data(
        {("兴庆区医疗保障局", 3): Answer(3, text)},
        {"兴庆区医疗保障局": submission},
        units=[*UNITS[:3], UnitInfo("兴庆区医疗保障局", "医保局", text, text)],
    )
    payload = consolidated_xlsx_bytes(data)
    with zipfile.ZipFile(io.BytesIO(payload)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/")]
        for name in sheets:
            assert not re.search(rb"<(\w+:)?f[ >]", package.read(name)), name
    workbook = openpyxl.load_workbook(io.BytesIO(payload))
    cells = [c for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    submissions = workbook[SUBMISSIONS_SHEET]
    row = find_row(submissions, 1, "兴庆区医疗保障局")
    assert [submissions.cell(row, c).value for c in (3, 4, 7)] == [text, text, text]
    assert all(submissions.cell(row, c).data_type == "s" for c in (3, 4, 7))
    assert submissions.cell(row, 3).quotePrefix


def test_control_characters_do_not_break_the_workbook(tmp_path):
    data = round_data({("兴庆区医疗保障局", 3): Answer(3, "落实\x00情况\x1b说明\x07")})
    write_consolidated_xlsx(data, tmp_path / "ledger.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "ledger.xlsx")[FORM_SHEET]
    assert ws.cell(find_row(ws, 1, 3), 7).value == "医保局：落实情况说明"


def test_the_sample_plan_fills_a_sheet_per_task_and_a_division_layout_works():
    plan_ = load_plan(sample_path("yibao-2023"))
    unit = UnitInfo("办公室", "办公室")
    data = RoundData(
        plan_,
        "",
        dt.date(2023, 9, 10),
        [unit],
        {t.number: [("办公室", Role.LEAD)] for t in plan_.tasks()},
    )
    workbook = load(data)
    ws = workbook[FORM_SHEET]
    header = find_row(ws, 1, "序号")
    assert [c.value for c in ws[header]] == [
        "序号",
        "重点任务",
        "具体措施",
        "责任科室",
        "完成时限",
        "进展情况",
    ]
    numbers = [ws.cell(r, 1).value for r in range(header + 1, ws.max_row + 1)]
    assert numbers == list(range(1, 31))
    assert ws.cell(header + 1, 6).value == "未报送：办公室"
