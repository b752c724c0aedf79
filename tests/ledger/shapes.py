"""Task tables of other offices, built the way Word and Excel store them (issue 13).

Each builder writes one shape seen in public 政务公开 task-division tables of districts,
provinces, bureaus and cities: other column names, no 序号 column (the number opens the task
text, or a header spans a number column and the text column), two levels of heading rows,
a grouping column merged down, empty requirements, deadlines only in the text or without a
year, merged unit cells, a notice in front, a table split with its header repeated, a unit
name wrapped over two lines. Merges are real: python-docx's cell.merge writes w:vMerge and
w:gridSpan as Word does, openpyxl's merge_cells a merged range as Excel does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import openpyxl
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.table import Table


@dataclass
class Row:
    """One row of a shape: a task, or a heading (level 1: 一、…, level 2: （一）…)."""

    task: str = ""  # 工作任务 (with its number when the shape prints it there)
    requirement: str = ""  # 工作要求 / 具体措施
    lead: list[str] = field(default_factory=list)  # lines of the 牵头单位 cell
    partners: list[str] = field(default_factory=list)  # lines of the 配合单位 cell
    due: str = ""
    heading: str = ""
    level: int = 0
    merge_lead_with_next: bool = False  # the 牵头单位 cell spans this task and the next


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def set_lines(cell, lines: list[str]) -> None:
    """Lines as paragraphs of a cell (a wrapped name is two paragraphs)."""
    cell.paragraphs[0].text = lines[0] if lines else ""
    for line in lines[1:]:
        cell.add_paragraph(line)


# ---------------------------------------------------------------------------------------------
# Shape A: a district's notice with its task table (工作任务 | 工作要求 | 牵头单位 | 配合/责任单位
# | 时限要求), no 序号, numbers opening the task text, 一、 and （一） heading rows, split in two
# tables with the header repeated.

NOTICE = [
    ("金凤区人民政府办公室文件", True),
    ("金政办发〔2021〕15号", True),
    ("金凤区人民政府办公室关于印发《金凤区2021年政务公开工作要点》的通知", True),
    ("各乡镇人民政府、街道办事处，区政府各部门：", False),
    ("现将《金凤区2021年政务公开工作要点》印发给你们，请认真抓好落实。", False),
    ("请各单位于2021年7月10日、12月10日前报送落实情况。", False),
    ("银川市金凤区人民政府办公室", False),
    ("2021年4月2日", False),
    ("附件", False),
    ("金凤区2021年政务公开工作主要任务分解表", True),
]
DISTRICT_HEADER = ["工作任务", "工作要求", "牵头单位", "配合/责任单位", "时限要求"]
DISTRICT_ROWS = [
    Row(heading="一、持续深化政务公开，助力“六稳”“六保”", level=1),
    Row(heading="（一）加强经济政策公开解读", level=2),
    Row(
        "1.主动公开经济运行和发展信息",
        "按月公开主要经济指标，及时解读经济运行情况。",
        ["区发改局"],
        ["区统计局", "区财政局"],
        "年底前",
        merge_lead_with_next=True,
    ),
    Row(
        "2.做好减税降费政策公开",
        "",  # the task text says it all
        [],
        ["区税务局"],
        "6月底前",
    ),
    Row(heading="（二）推进重大建设项目信息公开", level=2),
    Row(
        "3.推进重大建设项目批准和实施信息公开",
        "7月底前梳理公开目录，10月底前完成集中公开。",
        ["区住建局"],
        ["区自然资源局", "区市场监管", "局"],
        "2021年10月底前",
    ),
    Row(heading="二、加强政务公开平台建设", level=1),
    Row(heading="（一）优化政府网站", level=2),
    Row(
        "4.规范政府网站信息发布",
        "开展网站信息内容检查，发现问题及时整改。",
        ["区政府办"],
        ["政府各部门"],
        "根据上级部署",  # no date in it: kept as written, with a warning
    ),
    Row(
        "5.加强政务新媒体管理",
        "清理整合功能相近、用户关注度低的政务新媒体。",
        ["区委网信办"],
        ["各乡镇人民政府、街道办事处"],
        "长期坚持",
    ),
]
DISTRICT_BREAK_AFTER = 3  # the table continues, header repeated, after task 3


def district_docx() -> bytes:
    document = Document()
    for text, centered in NOTICE:
        paragraph = document.add_paragraph(text)
        if centered:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = _district_table(document)
    for row in DISTRICT_ROWS:
        if row.level:
            cells = table.add_row().cells
            merged = cells[0].merge(cells[-1])  # a full-width row: one cell with w:gridSpan
            merged.text = row.heading
            continue
        cells = table.add_row().cells
        set_lines(cells[0], [row.task])
        set_lines(cells[1], [row.requirement] if row.requirement else [])
        set_lines(cells[2], row.lead)
        set_lines(cells[3], row.partners)
        set_lines(cells[4], [row.due])
        if row.task.startswith(f"{DISTRICT_BREAK_AFTER}."):
            document.add_paragraph("")
            table = _district_table(document)
    _merge_leads(table_cells=document.tables)
    return docx_bytes(document)


def _district_table(document) -> Table:
    table = document.add_table(rows=1, cols=len(DISTRICT_HEADER))
    for cell, text in zip(table.rows[0].cells, DISTRICT_HEADER, strict=True):
        cell.text = text
    return table


def _merge_leads(table_cells: list[Table]) -> None:
    """The 牵头单位 cell of a task marked merge_lead_with_next spans the next task's row."""
    for table in table_cells:
        for index, tr in enumerate(table.rows):
            text = tr.cells[0].text
            marked = [r for r in DISTRICT_ROWS if r.merge_lead_with_next and r.task == text]
            if marked and index + 1 < len(table.rows):
                lead = marked[0].lead
                top = table.cell(index, 2).merge(table.cell(index + 1, 2))  # w:vMerge
                for paragraph in top.paragraphs[1:]:
                    paragraph._element.getparent().remove(paragraph._element)
                top.paragraphs[0].text = lead[0]


def district_xlsx() -> bytes:
    """Shape A in Excel: the headings as rows merged across, the 牵头单位 merged down."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "任务分解"
    width = len(DISTRICT_HEADER)
    ws.append(["金凤区2021年政务公开工作主要任务分解表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.append(DISTRICT_HEADER)
    for row in DISTRICT_ROWS:
        if row.level:
            ws.append([row.heading])
            ws.merge_cells(
                start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width
            )
            continue
        ws.append(
            [
                row.task,
                row.requirement or None,
                "\n".join(row.lead) or None,
                "\n".join(row.partners) or None,
                row.due,
            ]
        )
        if row.merge_lead_with_next:
            ws.merge_cells(
                start_row=ws.max_row, start_column=3, end_row=ws.max_row + 1, end_column=3
            )
    return xlsx_bytes(workbook)


# ---------------------------------------------------------------------------------------------
# Shape B: a province's table: the 板块 as a first column merged down, a 工作任务 header
# spanning a number column and the text column, deadlines only inside the text.

PROVINCE_TITLE = "宁夏回族自治区2021年政务公开工作要点任务分工"
PROVINCE_HEADER = ["类别", "工作任务", None, "责任单位"]  # None: covered by 工作任务's span
PROVINCE_TASKS = [
    (
        "推进决策公开",
        [
            ("1", "7月底前提出重大行政决策事项目录，10月底前完成目录公开。", "自治区司法厅"),
            ("2", "健全利益相关方列席政府常务会议制度，年底前出台工作规则。", "自治区政府办公厅"),
        ],
    ),
    (
        "推进政策解读",
        [
            ("3", "2021年底前实现政策文件与解读材料同步起草、同步审签、同步发布。", "各厅局"),
            ("4", "持续开展政策解读评估，提升解读质量。", "自治区政府办公厅"),
        ],
    ),
]


def province_docx() -> bytes:
    document = Document()
    document.add_paragraph(PROVINCE_TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = document.add_table(rows=1, cols=4)
    header = table.rows[0].cells
    header[0].text = "类别"
    header[1].merge(header[2]).text = "工作任务"  # w:gridSpan="2" over number and text
    header[3].text = "责任单位"
    for category, tasks in PROVINCE_TASKS:
        first = len(table.rows)
        for number, text, unit in tasks:
            cells = table.add_row().cells
            cells[1].text, cells[2].text, cells[3].text = number, text, unit
        top = table.cell(first, 0).merge(table.cell(len(table.rows) - 1, 0))  # w:vMerge
        top.paragraphs[0].text = category
        for paragraph in top.paragraphs[1:]:
            paragraph._element.getparent().remove(paragraph._element)
    return docx_bytes(document)


def province_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.append([PROVINCE_TITLE])
    ws.merge_cells("A1:D1")
    ws.append(["类别", "工作任务", None, "责任单位"])
    ws.merge_cells("B2:C2")
    for category, tasks in PROVINCE_TASKS:
        first = ws.max_row + 1
        for number, text, unit in tasks:
            ws.append([category if ws.max_row + 1 == first else None, int(number), text, unit])
        ws.merge_cells(start_row=first, start_column=1, end_row=ws.max_row, end_column=1)
    return xlsx_bytes(workbook)


# ---------------------------------------------------------------------------------------------
# Shape C: a bureau's 任务分工 without 序号: numbers （1） opening the 具体措施, the 重点任务
# merged down, a two-row header (责任科室 over 牵头科室 | 配合科室).

BUREAU_TITLE = "市医疗保障局2022年政务公开重点任务分工方案"
BUREAU_ITEMS = [
    (
        "强化医保政策公开",
        [
            (
                "（1）及时公开医保待遇政策调整信息，做好政策解读。",
                "待遇保障科",
                "办公室",
                "2022年6月",
            ),
            ("（2）公开定点医药机构名单及变化情况。", "医药服务管理科", "", "每季度"),
        ],
    ),
    (
        "加强基金监管信息公开",
        [
            (
                "（3）公开医保基金监管举报投诉渠道和处理结果。",
                "基金监管科",
                "稽核科、办公室",
                "年底前",
            ),
        ],
    ),
]


def bureau_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "分工"
    ws.append([BUREAU_TITLE])
    ws.merge_cells("A1:D1")
    ws.append(["重点任务", "具体措施", "责任科室", None, "完成时限"])
    ws.append([None, None, "牵头科室", "配合科室", None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws.merge_cells("E2:E3")
    for item, tasks in BUREAU_ITEMS:
        first = ws.max_row + 1
        for text, lead, partners, due in tasks:
            ws.append(
                [item if ws.max_row + 1 == first else None, text, lead, partners or None, due]
            )
        if ws.max_row > first:
            ws.merge_cells(start_row=first, start_column=1, end_row=ws.max_row, end_column=1)
    return xlsx_bytes(workbook)


def bureau_docx() -> bytes:
    document = Document()
    document.add_paragraph(BUREAU_TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = document.add_table(rows=2, cols=5)
    top, sub = table.rows[0].cells, table.rows[1].cells
    for index, text in ((0, "重点任务"), (1, "具体措施"), (4, "完成时限")):
        table.cell(0, index).merge(table.cell(1, index)).text = text
    top[2].merge(top[3]).text = "责任科室"
    sub[2].text, sub[3].text = "牵头科室", "配合科室"
    for item, tasks in BUREAU_ITEMS:
        first = len(table.rows)
        for text, lead, partners, due in tasks:
            cells = table.add_row().cells
            cells[1].text, cells[2].text, cells[3].text, cells[4].text = text, lead, partners, due
        cell = table.cell(first, 0)
        if len(table.rows) - 1 > first:
            cell = cell.merge(table.cell(len(table.rows) - 1, 0))
        cell.paragraphs[0].text = item
        for paragraph in cell.paragraphs[1:]:
            paragraph._element.getparent().remove(paragraph._element)
    return docx_bytes(document)


# ---------------------------------------------------------------------------------------------
# Shape D: a city's table with 序号 counting from 1 again in each 板块 (一、 rows whose 序号 cell
# holds the numeral), and an office's own words the recogniser does not know.

CITY_TITLE = "银川市2023年政务公开工作要点责任清单"
CITY_HEADER = ["序号", "任务描述", "对口单位", "完成时限"]
CITY_ROWS = [
    ("一", "深化重点领域信息公开", "", ""),
    ("1", "做好财政预决算信息公开。", "市财政局", "2023年9月底前"),
    ("2", "公开政府债务限额和余额情况。", "市财政局", "年底前"),
    ("二", "提升政务公开标准化水平", "", ""),
    ("1", "更新基层政务公开标准目录。", "各县（市）区", "2023年6月底前"),
]


def city_docx() -> bytes:
    document = Document()
    document.add_paragraph(CITY_TITLE).alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, CITY_HEADER, strict=True):
        cell.text = text
    for number, text, unit, due in CITY_ROWS:
        cells = table.add_row().cells
        cells[0].text = number
        if not unit:
            cells[1].merge(cells[3]).text = text  # the 板块 title across the rest of the row
        else:
            cells[1].text, cells[2].text, cells[3].text = text, unit, due
    return docx_bytes(document)
