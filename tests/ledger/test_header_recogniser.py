"""The header recogniser over many spellings of real tables' headers (issue 13, part 1).

Rows are built straight in the grid both file formats become, so each case is one line.
"""

from __future__ import annotations

import pytest

from ledger.form_import.grid import GridCell, GridRow, Merge, Para
from ledger.form_import.header import Field, Recogniser, match_words, parse_columns

# One header cell → the role it names.
CELLS = [
    ("序号", Field.NUMBER),
    ("序 号", Field.NUMBER),
    ("编号", Field.NUMBER),
    ("板块", Field.SECTION),
    ("任务类别", Field.SECTION),
    ("重点工作", Field.ITEM),
    ("重点任务", Field.ITEM),
    ("工作任务", Field.ITEM),
    ("主要任务", Field.ITEM),
    ("工作要点", Field.ITEM),
    ("任务名称", Field.NAME),
    ("主要内容", Field.CONTENT),
    ("具体措施", Field.CONTENT),
    ("工作措施", Field.CONTENT),
    ("工作要求", Field.CONTENT),
    ("具体要求", Field.CONTENT),
    ("工作内容", Field.CONTENT),
    ("任务内容", Field.CONTENT),
    ("工作任务及要求", Field.CONTENT),
    ("主要举措", Field.CONTENT),
    ("量化指标", Field.INDICATOR),
    ("工作标准", Field.INDICATOR),
    ("目标要求", Field.INDICATOR),
    ("考核指标", Field.INDICATOR),
    ("牵头单位", Field.LEAD),
    ("牵头部门", Field.LEAD),
    ("牵头科室", Field.LEAD),
    ("责任单位", Field.RESPONSIBLE),
    ("责任部门", Field.RESPONSIBLE),
    ("责任科室", Field.RESPONSIBLE),
    ("配合单位", Field.RESPONSIBLE),
    ("协办单位", Field.RESPONSIBLE),
    ("配合/责任单位", Field.RESPONSIBLE),
    ("配合／责任单位", Field.RESPONSIBLE),
    ("牵头/配合单位", Field.RESPONSIBLE),
    ("责任单位/科室", Field.RESPONSIBLE),
    ("责任单位（部门）", Field.RESPONSIBLE),
    ("参与单位", Field.RESPONSIBLE),
    ("完成时限", Field.DUE),
    ("完成时限（月）", Field.DUE),
    ("时限要求", Field.DUE),
    ("完成时间", Field.DUE),
    ("时间节点", Field.DUE),
    ("完成期限", Field.DUE),
    ("办理期限", Field.DUE),
    ("进展落实情况", Field.PROGRESS),
    ("进展情况", Field.PROGRESS),
    ("完成情况", Field.PROGRESS),
    ("工作进展", Field.PROGRESS),
    ("备注", Field.IGNORE),
    ("责任人", Field.IGNORE),
]

NOT_HEADER_WORDS = [
    "",
    "1",
    "2023年10月",
    "各部门",  # a unit, not a column
    "民政局、卫健局",
    "牵头部门：政府办",
    "及时公开黄河流域生态保护和高质量发展先行区示范市相关信息",
    "事由",
]


@pytest.mark.parametrize("text, role", CELLS)
def test_a_header_cell_names_its_role(text: str, role: Field) -> None:
    match = match_words(text)

    assert match is not None and match.field is role


@pytest.mark.parametrize("text", NOT_HEADER_WORDS)
def test_data_is_no_header_word(text: str) -> None:
    assert match_words(text) is None


def row(*texts: str | None, merges: dict[int, Merge] | None = None) -> GridRow:
    """A grid row: one cell per text; None widens the cell before it by one column."""
    cells: list[GridCell] = []
    for column, text in enumerate(texts):
        if text is None:
            cells[-1].span += 1
        else:
            paras = [Para(text)] if text else []
            merge = (merges or {}).get(column, Merge.NONE)
            cells.append(GridCell(column, 1, paras, merge))
    return GridRow(cells, "第1个表格第1行")


# A whole header row → the role of each column, left to right.
ROWS = [
    # the two seed layouts
    (
        ["序号", "重点工作", "主要内容", "量化指标", "责任单位", "完成时限", "进展落实情况"],
        "number item content indicator responsible due progress",
    ),
    (
        ["序号", "重点任务", "具体措施", "责任科室", "完成时限"],
        "number item content responsible due",
    ),
    # other offices
    (
        ["工作任务", "工作要求", "牵头单位", "配合单位", "时限要求"],
        "item content lead responsible due",
    ),
    (["序号", "工作任务", "牵头单位", "完成时限"], "number content lead due"),  # task text
    (["序号", "主要任务", "责任单位", "完成时间"], "number content responsible due"),
    (["工作任务", "具体要求", "配合/责任单位", "完成时间"], "item content responsible due"),
    (["类别", "序号", "工作任务", "责任单位", "时限"], "item number content responsible due"),
    (
        ["板块", "序号", "重点工作", "主要内容", "责任单位"],
        "section number item content responsible",
    ),
    (
        ["任务类别", "重点工作", "具体措施", "牵头部门", "责任部门", "完成时限", "备注"],
        "section item content lead responsible due ignore",
    ),
    (
        ["序号", "重点工作", "工作任务", "工作要求", "责任单位"],
        "number item name content responsible",
    ),
    (
        ["序号", "重点任务", "工作措施", "目标要求", "责任单位"],
        "number item content indicator responsible",
    ),
    (
        ["序 号", "重点任务", "具体措施", "责任部门", "完成时间"],
        "number item content responsible due",
    ),
    # by position: a blank last cell is the progress column
    (["序号", "重点工作", "主要内容", "责任单位", ""], "number item content responsible progress"),
]


@pytest.mark.parametrize("texts, expected", ROWS, ids=[" | ".join(r[0]) for r in ROWS])
def test_a_header_row_gives_each_column_a_role(texts: list[str], expected: str) -> None:
    header = Recogniser().read(row(*texts))

    assert header is not None
    assert [c.field.value for c in header.columns] == expected.split()


NOT_HEADERS = [
    ["1", "大项", "内容", "政府办", "各部门"],  # a short task row
    ["", "大项", "内容二", "", ""],
    ["序号", "重点工作", "责任单位"],  # no content column: a header, incomplete
    ["某区2023年政务公开工作台账"],
    ["填报单位：", "联系人：", "联系电话："],
]


@pytest.mark.parametrize("texts", NOT_HEADERS)
def test_rows_that_are_no_complete_header(texts: list[str]) -> None:
    assert Recogniser().read(row(*texts)) is None


def test_a_header_spanning_two_columns_covers_both() -> None:
    header = Recogniser().read(row("序号", "重点工作", "主要内容", None, "责任单位"))

    content = header.of(Field.CONTENT)[0]
    assert (content.first, content.last) == (2, 3)


def test_an_unnamed_first_column_of_numbers_is_the_number() -> None:
    sample = [row("1", "公开预算。", "财政局"), row("2", "公开决算。", "财政局")]

    header = Recogniser().read(row("", "工作任务", "责任单位"), sample)

    assert [(c.field.value, c.how.value) for c in header.columns] == [
        ("number", "position"),
        ("content", "synonym"),
        ("responsible", "synonym"),
    ]


def test_an_unnamed_first_column_merged_down_groups_the_tasks() -> None:
    sample = [
        row("信息公开", "公开预算。", "财政局", merges={0: Merge.START}),
        row("", "公开决算。", "财政局", merges={0: Merge.CONTINUE}),
    ]

    header = Recogniser().read(row("", "工作任务", "责任单位"), sample)

    assert header.columns[0].field is Field.ITEM


def test_the_offices_mapping_wins_over_synonyms() -> None:
    recogniser = Recogniser(parse_columns("工作要求=indicator, 事由=content, #5=ignore"))

    header = recogniser.read(row("序号", "事由", "工作要求", "责任单位", "完成时限"))

    assert [c.field.value for c in header.columns] == [
        "number",
        "content",
        "indicator",
        "responsible",
        "ignore",
    ]
    assert [c.how.value for c in header.columns][1:3] == ["columns", "columns"]


def test_a_second_header_row_splits_the_cell_above_it() -> None:
    recogniser = Recogniser()
    top = row("序号", "工作任务", "责任单位", None, "完成时限")
    below = row(
        "",
        "",
        "牵头单位",
        "配合单位",
        "",
        merges={0: Merge.CONTINUE, 1: Merge.CONTINUE, 4: Merge.CONTINUE},
    )

    header = recogniser.refine(recogniser.read(top), below)

    assert [c.field.value for c in header.columns] == [
        "number",
        "content",
        "lead",
        "responsible",
        "due",
    ]
