"""Other offices' task tables (issue 13), in Word and in Excel, read unedited.

The shapes are built in tests/ledger/shapes.py with merges stored as Word and Excel store
them. Each test names what a real table did and what the plan must keep of it.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from ledger.errors import LedgerError
from ledger.form_import import (
    FormNotRecognised,
    PlanImport,
    columns_file_for,
    load_columns_file,
    parse_columns,
    read_plan_docx,
    read_plan_file,
    read_plan_xlsx,
    save_columns_file,
)
from ledger.responsibility import parse_responsibility
from tests.ledger import shapes


def read(shape: str, **options) -> PlanImport:
    data = getattr(shapes, shape)()
    reader = read_plan_docx if shape.endswith("docx") else read_plan_xlsx
    return reader(io.BytesIO(data), **options)


def tree(result: PlanImport) -> list:
    return [
        (s.title, [(i.title, [t.number for t in i.tasks]) for i in s.items])
        for s in result.plan.sections
    ]


def roles(result: PlanImport) -> list[tuple[str, str]]:
    return [(c["header"], c["role"]) for d in result.columns for c in d["columns"]]


DISTRICT_TREE = [
    (
        "持续深化政务公开，助力“六稳”“六保”",
        [("加强经济政策公开解读", [1, 2]), ("推进重大建设项目信息公开", [3])],
    ),
    ("加强政务公开平台建设", [("优化政府网站", [4, 5])]),
]


@pytest.mark.parametrize("shape", ["district_docx", "district_xlsx"])
def test_a_district_table_without_numbers_under_two_levels_of_headings(shape: str) -> None:
    result = read(shape)
    plan = result.plan

    assert tree(result) == DISTRICT_TREE  # 板块 → 大项 from 一、 and （一） rows
    assert result.numbering == "text"  # 1.… opening the 工作任务 text
    first = plan.task(1)
    assert (first.name, first.content) == (
        "主动公开经济运行和发展信息",
        "按月公开主要经济指标，及时解读经济运行情况。",
    )
    assert plan.task(2).content == "做好减税降费政策公开"  # 工作要求 empty: the task text
    assert plan.task(2).name == ""
    assert roles(result)[:2] == [("工作任务", "name"), ("工作要求", "content")]
    assert ("配合/责任单位", "responsible") in roles(result)


@pytest.mark.parametrize("shape", ["district_docx", "district_xlsx"])
def test_merged_and_wrapped_unit_cells_keep_every_tasks_units(shape: str) -> None:
    plan = read(shape).plan

    # the 牵头单位 cell spans tasks 1 and 2: both are led by 区发改局
    for number, partners in [(1, ("区统计局", "区财政局")), (2, ("区税务局",))]:
        parsed = parse_responsibility(plan.task(number).responsibility)
        assert (parsed.lead, parsed.responsible) == (("区发改局",), partners)
    # 区市场监管 / 局 on two lines is one unit; 区自然资源局 on its own line another
    assert parse_responsibility(plan.task(3).responsibility).responsible == (
        "区自然资源局",
        "区市场监管局",
    )


@pytest.mark.parametrize("shape", ["district_docx", "district_xlsx"])
def test_year_less_and_undatable_deadlines_are_kept_never_fatal(shape: str) -> None:
    result = read(shape)
    plan = result.plan

    assert plan.year == 2021
    assert plan.task(1).deadline(plan.year).date == dt.date(2021, 12, 31)  # 年底前
    assert plan.task(2).deadline(plan.year).date == dt.date(2021, 6, 30)  # 6月底前
    assert plan.task(4).due_text == "根据上级部署"
    assert [w.message for w in result.warnings] == [
        "序号 4 的完成时限按原文保留：无法识别的完成时限“根据上级部署”"
    ]


def test_the_year_option_dates_a_table_whose_title_has_none() -> None:
    data = shapes.district_xlsx()
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook.active["A1"] = "金凤区政务公开工作主要任务分解表"
    stripped = shapes.xlsx_bytes(workbook)

    without = read_plan_xlsx(io.BytesIO(stripped))
    with_year = read_plan_xlsx(io.BytesIO(stripped), year=2022)

    assert without.plan.year is None
    assert any("序号 1 的完成时限按原文保留" in str(w) for w in without.warnings)
    assert with_year.plan.task(1).deadline(2022).date == dt.date(2022, 12, 31)


def test_the_notice_in_front_gives_title_issuer_number_and_rounds() -> None:
    result = read("district_docx")
    plan, notice = result.plan, result.notice

    assert notice is not None
    assert (notice.number, notice.date, notice.day) == (
        "金政办发〔2021〕15号",
        "2021年4月2日",
        "2021-04-02",
    )
    assert notice.addressees == "各乡镇人民政府、街道办事处，区政府各部门"
    assert notice.document == "金凤区2021年政务公开工作要点"
    assert plan.title == "金凤区2021年政务公开工作主要任务分解表"  # the table's own title
    assert plan.issuer == "银川市金凤区人民政府办公室"  # the signature
    assert [r.due for r in plan.rounds] == ["2021-07-10", "2021-12-10"]
    assert "印发给你们" in plan.intro


@pytest.mark.parametrize("shape", ["province_docx", "province_xlsx"])
def test_a_header_over_a_number_column_and_deadlines_only_in_the_text(shape: str) -> None:
    result = read(shape)
    plan = result.plan

    assert tree(result) == [(None, [("推进决策公开", [1, 2]), ("推进政策解读", [3, 4])])]
    assert plan.task(1).content.startswith("7月底前提出重大行政决策事项目录")
    assert plan.task(1).due_text == "7月底前、10月底前"
    assert plan.task(1).deadline(plan.year).dates == (dt.date(2021, 7, 31), dt.date(2021, 10, 31))
    assert plan.task(2).due_text == "年底前"
    assert plan.task(3).due_text == "2021年底前"
    assert plan.task(4).due_text == ""  # no deadline written: none
    assert ("类别", "item") in roles(result)  # the merged first column groups the tasks
    assert ("", "due") in roles(result)  # …and the deadlines came from the text
    assert result.warnings == []


@pytest.mark.parametrize("shape", ["bureau_docx", "bureau_xlsx"])
def test_a_two_row_header_and_numbers_in_brackets_opening_the_measures(shape: str) -> None:
    result = read(shape)
    plan = result.plan

    assert tree(result) == [(None, [("强化医保政策公开", [1, 2]), ("加强基金监管信息公开", [3])])]
    assert plan.task(1).content == "及时公开医保待遇政策调整信息，做好政策解读。"
    parsed = parse_responsibility(plan.task(3).responsibility)
    assert (parsed.lead, parsed.responsible) == (("基金监管科",), ("稽核科", "办公室"))
    assert parse_responsibility(plan.task(2).responsibility).lead == ("医药服务管理科",)
    assert [r for _, r in roles(result)] == ["item", "content", "lead", "responsible", "due"]
    assert plan.layout.value == "division"


def test_numbers_counting_from_one_in_each_part_are_renumbered_in_order() -> None:
    result = read("city_docx")

    assert tree(result) == [
        (None, [("深化重点领域信息公开", [1, 2]), ("提升政务公开标准化水平", [3])])
    ]
    assert result.numbering == "order"
    assert result.plan.task(3).content == "更新基层政务公开标准目录。"
    assert any("重新编为 1–3" in str(w) for w in result.warnings)


def test_a_repeated_number_within_one_part_is_still_an_error() -> None:
    document = Document()
    document.add_paragraph("某区2023年政务公开任务清单")
    table = document.add_table(rows=3, cols=4)
    for row, values in zip(
        table.rows,
        [
            ["序号", "工作任务", "责任单位", "完成时限"],
            ["1", "公开预算。", "财政局", "年底前"],
            ["1", "公开决算。", "财政局", "年底前"],
        ],
        strict=True,
    ):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text

    with pytest.raises(LedgerError, match="序号 1 重复"):
        read_plan_docx(io.BytesIO(shapes.docx_bytes(document)))


# ---------------------------------------------------------------------------------------------
# The office's own mapping


def odd_header_docx() -> bytes:
    document = Document()
    document.add_paragraph("某县2022年政务公开工作安排")
    table = document.add_table(rows=3, cols=4)
    rows = [
        ["事由", "承接主体", "协同主体", "办理期限"],
        ["主动公开财政预决算信息。", "县财政局", "各乡镇", "9月底前"],
        ["做好政策解读。", "县政府办", "", "年底前"],
    ]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    return shapes.docx_bytes(document)


def test_unknown_header_words_are_refused_with_what_was_seen() -> None:
    with pytest.raises(FormNotRecognised) as caught:
        read_plan_docx(io.BytesIO(odd_header_docx()), source="安排.docx")

    message = str(caught.value)
    assert "文件中没有找到台账表格" in message
    assert "第1个表格（3行）首行：事由 | 承接主体 | 协同主体 | 办理期限" in message
    assert "--columns" in message
    (table,) = caught.value.tables
    assert table["cells"] == ["事由", "承接主体", "协同主体", "办理期限"]
    assert table["recognised"] == {"办理期限": "due"}


def test_columns_option_maps_the_offices_words() -> None:
    mapping = parse_columns("事由=content，承接主体=lead;协同主体=配合单位")

    result = read_plan_docx(io.BytesIO(odd_header_docx()), columns=mapping)

    plan = result.plan
    parsed = parse_responsibility(plan.task(1).responsibility)
    assert (parsed.lead, parsed.responsible) == (("县财政局",), ("各乡镇",))
    assert plan.task(2).responsibility == "牵头单位：县政府办"
    assert roles(result) == [
        ("事由", "content"),
        ("承接主体", "lead"),
        ("协同主体", "responsible"),
        ("办理期限", "due"),
    ]
    assert [c["how"] for c in result.columns[0]["columns"]] == [
        "columns",
        "columns",
        "columns",
        "keyword",
    ]


def test_columns_option_overrides_a_wrong_guess_and_names_unused_keys() -> None:
    mapping = parse_columns("工作要求=indicator,#1=content,没有这列=ignore")

    result = read("district_xlsx", columns=mapping)

    assert result.plan.task(1).indicator == "按月公开主要经济指标，及时解读经济运行情况。"
    assert result.plan.task(1).content == "主动公开经济运行和发展信息"
    assert any("列映射中的“没有这列”在表头中没有找到" in str(w) for w in result.warnings)


@pytest.mark.parametrize(
    "text, message",
    [
        ("事由", "应写成 表头=角色"),
        ("事由=whatever", "不认识的列角色“whatever”"),
        ("=content", "缺少表头"),
    ],
)
def test_a_bad_columns_option_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        parse_columns(text)


def test_a_saved_mapping_next_to_the_form_is_read_by_default(tmp_path) -> None:
    form = tmp_path / "安排.docx"
    form.write_bytes(odd_header_docx())
    saved = save_columns_file(
        columns_file_for(form), parse_columns("事由=content,承接主体=responsible"), form.name
    )

    assert saved.name == "安排.columns.yaml"
    assert load_columns_file(saved).roles["事由"].value == "content"
    result = read_plan_file(form)
    assert result.plan.task(1).content == "主动公开财政预决算信息。"
    assert read_plan_file(form, columns=parse_columns("事由=ignore,办理期限=content")).plan.task(
        1
    ).content == ("9月底前")


def test_a_broken_columns_file_names_itself(tmp_path) -> None:
    path = tmp_path / "x.columns.yaml"
    path.write_text("columns:\n  事由: 不知道\n", encoding="utf-8")

    with pytest.raises(LedgerError) as caught:
        load_columns_file(path)

    assert str(path) in str(caught.value) and "不认识的列角色" in str(caught.value)
