"""The consolidated ledger of a round as an Excel workbook (docs/forms.md, “The workbook”).

Three sheets:

- `台账汇总` — the form's layout (`ledger.docx_forms.FORM_COLUMNS`): title rows, the header
  row (frozen), a merged row per 板块 heading, a row per task with 重点工作 merged over its
  item's tasks, and the progress cell as in the consolidated DOCX. A progress text longer than
  an Excel cell holds (32,767 characters) continues in extra rows under the task, its other
  cells merged over them: nothing is cut.
- `状态矩阵` — tasks × units: each cell says and shows by colour what the unit reported
  (`ledger.rounddata.CellState`), a legend above, header row and the two task columns frozen,
  an auto-filter, and totals per task (right) and per unit (bottom).
- `报送情况` — one row per unit: contact, time of submission in the plan's time zone, on time
  or late, receipt number, version; units that have not submitted say 未报送.

A draft (`RoundData.draft`: current answers, not the submitted ones) says 草稿，未提交 in a line
above the title and in the printed page header of every sheet.

Printed, every sheet is A4 landscape with its header rows repeated on each page and its page
number in the footer (`— 1 —`, as the Word forms), in 仿宋_GB2312 and 黑体 as the Word forms.
The form and the submissions are fitted to the page's width; on the form, page breaks are
set by the workbook itself (rows do not break, and their heights are set, so the pages are
known), so that a 重点工作 merged over its tasks never runs over a break: its rows on the
next page are merged again there under the title and （续）. The status matrix prints at a
readable size across pages, a group of units a page with 序号 and 任务 repeated on each.

Every text cell is written as a string (data type `s`, shown with a quote prefix when it
starts with `=`, `+`, `-` or `@`), so no answer can become a formula; no cell holds a formula.

Public API: `build_consolidated_workbook(data, *, generated_at=None) -> Workbook`,
`consolidated_xlsx_bytes(data, *, generated_at=None) -> bytes`,
`write_consolidated_xlsx(data, out, *, generated_at=None)`.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ledger.docx_forms import (
    BODY_FONT,
    CONTINUED,
    FALLBACK_FONT,
    FORM_COLUMNS,
    HEADING_FONT,
    TITLE_FONT,
    consolidated_cell_text,
    consolidated_info_lines,
)
from ledger.model import Item, Role, Task, section_numeral
from ledger.rounddata import DRAFT_MARK, CellState, RoundData, clean_text, text_lines
from ledger.textfit import cell_lines

__all__ = [
    "FORM_SHEET",
    "MATRIX_SHEET",
    "STATE_COLOURS",
    "SUBMISSIONS_SHEET",
    "build_consolidated_workbook",
    "consolidated_xlsx_bytes",
    "write_consolidated_xlsx",
]

FORM_SHEET = "台账汇总"
MATRIX_SHEET = "状态矩阵"
SUBMISSIONS_SHEET = "报送情况"

CELL_LIMIT = 32_000  # under Excel's 32,767 characters a cell, with room for a line break
FORMULA_STARTS = ("=", "+", "-", "@")

# Fill colours of the status matrix (RGB), gentle enough to print in grey.
STATE_COLOURS: dict[CellState, str] = {
    CellState.DONE: "C6EFCE",
    CellState.IN_PROGRESS: "FFEB9C",
    CellState.NOT_STARTED: "FCE4D6",
    CellState.NOT_APPLICABLE: "D9D9D9",
    CellState.ANSWERED: "DDEBF7",
    CellState.LEFT_BLANK: "F8CBAD",
    CellState.MISSING: "FFC7CE",
}
ANSWERED_STATES = frozenset(
    {
        CellState.DONE,
        CellState.IN_PROGRESS,
        CellState.NOT_STARTED,
        CellState.NOT_APPLICABLE,
        CellState.ANSWERED,
    }
)

_FILLS = {state: PatternFill("solid", fgColor=colour) for state, colour in STATE_COLOURS.items()}
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"

FONT_NAME = BODY_FONT  # 仿宋_GB2312, as the Word forms; 黑体 for headers and headings
_GB2312 = 134  # the charset Excel picks a substitute by where a font is missing
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_WRAP_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_WRAP_LEFT = Alignment(wrap_text=True, vertical="center", horizontal="left")
_CELL_SIZE = 10.5  # 五号, as the Word forms' cells
_DEFAULT = Font(name=BODY_FONT, size=11, charset=_GB2312)  # the workbook's Normal style
_BODY = Font(name=BODY_FONT, size=_CELL_SIZE, charset=_GB2312)
_INFO = Font(name=BODY_FONT, size=12, charset=_GB2312)
_BOLD = Font(name=BODY_FONT, size=_CELL_SIZE, bold=True, charset=_GB2312)  # a lead unit
_HEADER = Font(name=HEADING_FONT, size=11, charset=_GB2312)
_HEADING = Font(name=HEADING_FONT, size=12, charset=_GB2312)
_TITLE = Font(name=TITLE_FONT, size=18, charset=_GB2312)
_SUBTITLE = Font(name=TITLE_FONT, size=14, charset=_GB2312)
_DRAFT_COLOUR = "C00000"
_DRAFT = Font(name=HEADING_FONT, size=14, color=_DRAFT_COLOUR, charset=_GB2312)

# Widths (in Excel's character units) of the form sheet's columns, by column key.
_FORM_WIDTHS = {
    "number": 6,
    "item": 16,
    "content": 42,
    "indicator": 26,
    "responsibility": 18,
    "due": 15,  # 2023年11月底 on one line
    "progress": 64,
}
# A line of 10.5 pt text: Excel with 仿宋 needs about 14 pt, LibreOffice with Noto CJK 15.2.
_POINTS_PER_LINE = 15.5
_MAX_ROW_HEIGHT = 409  # Excel's limit, in points

# The printed page: A4 landscape, margins in inches.
_PAGE_WIDTH_IN, _PAGE_HEIGHT_IN = 11.69, 8.27
_MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.75, "header": 0.3, "footer": 0.3}
_PRINT_WIDTH_PT = (_PAGE_WIDTH_IN - _MARGINS["left"] - _MARGINS["right"]) * 72
_PRINT_HEIGHT_PT = (_PAGE_HEIGHT_IN - _MARGINS["top"] - _MARGINS["bottom"]) * 72
# Column widths are in characters of the default font: a character is 7 to 8 pixels wide
# (Excel with 仿宋_GB2312 or Calibri: 7; LibreOffice: 8). Lines are counted in the
# narrower case (more lines: rows never too short), pages in the wider (fewer rows a page:
# the workbook's own breaks come before any the program would add).
_NARROW_DIGIT_PX, _WIDE_DIGIT_PX = 7, 8
_PAGE_SAFETY = 0.97  # of a page's height, for what the estimate cannot know
_MATRIX_SCALE = 85  # percent: 10.5 pt prints as 9 pt, readable


def put_text(ws: Worksheet, row: int, column: int, value: str, **style) -> Cell:
    """Write a text cell that stays text, whatever it starts with."""
    cell = ws.cell(row=row, column=column)
    text = clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl reads a leading “=” as a formula; this is text
    if text.startswith(FORMULA_STARTS):
        style["quotePrefix"] = True  # and Excel keeps it text when the cell is edited
    _style(cell, style)
    return cell


def put_number(ws: Worksheet, row: int, column: int, value: int, **style) -> Cell:
    cell = ws.cell(row=row, column=column, value=value)
    _style(cell, style)
    return cell


def _style(cell: Cell, style: dict) -> None:
    """Style a cell, copying the style of an earlier cell styled alike.

    openpyxl hashes every style object on each assignment, which dominates a large matrix;
    copying the cell's index array is cheap. The style objects are this module's constants,
    so their ids identify them; the cache lives on the workbook, whose style lists it indexes.
    """
    if not style:
        return
    workbook = cell.parent.parent
    cache = workbook.__dict__.setdefault("_taizhang_styles", {})  # dies with the workbook
    key = tuple(sorted((name, id(value)) for name, value in style.items()))
    known = cache.get(key)
    if known is None:
        for name, value in style.items():
            setattr(cell, name, value)
        cache[key] = copy.copy(cell._style)
    else:
        cell._style = copy.copy(known)


def _column_points(width: float, digit_px: int) -> float:
    """A column `width` characters wide, in points (Excel's rule: whole pixels, 5 of padding)."""
    return math.trunc((256 * width + math.trunc(128 / digit_px)) / 256 * digit_px) * 0.75


def _lines_needed(text: str, width: float, size: float = _CELL_SIZE) -> int:
    """Lines `text` takes in a column `width` characters wide (the narrower measure)."""
    width_em = (_column_points(width, _NARROW_DIGIT_PX) - 6) / size  # 3 pt padding each side
    return cell_lines(text.split("\n"), width_em)


def _row_height(texts_and_widths: list[tuple[str, float]], size: float = _CELL_SIZE) -> float:
    lines = max((_lines_needed(t, w, size) for t, w in texts_and_widths if t), default=1)
    per_line = _POINTS_PER_LINE * size / _CELL_SIZE
    return min(_MAX_ROW_HEIGHT, max(18.0, lines * per_line + 4))


def _fit_scale(widths: list[float]) -> float:
    """The largest scale fitting the columns to the page's width (the narrower measure: the
    program's own scale is this or smaller, so a page holds at least what we count)."""
    total = sum(_column_points(w, _NARROW_DIGIT_PX) for w in widths)
    return min(1.0, math.floor(100 * _PRINT_WIDTH_PT / total) / 100)


def _chunks(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """The text in pieces no longer than `limit`, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    pieces.append(current)
    return pieces


# ---------------------------------------------------------------------------------------
# 台账汇总: the form's layout


@dataclass
class _FormSheet:
    ws: Worksheet
    data: RoundData

    def __post_init__(self) -> None:
        self.columns = FORM_COLUMNS[self.data.plan.layout]
        self.widths = [_FORM_WIDTHS[c.key] for c in self.columns]
        self.row = 1
        # The page as the rows fill it, in the sheet's points (see _start_page).
        self.page_height = _PAGE_SAFETY * _PRINT_HEIGHT_PT / _fit_scale(self.widths)
        self.used = 0.0
        self.header_height = 0.0
        self.breaks: list[int] = []  # rows a page starts with
        self.progress: dict[int, list[str]] = {}  # each task's progress cell, in pieces

    def write(self, generated_at: dt.datetime | None) -> None:
        ws, plan = self.ws, self.data.plan
        if self.data.draft:
            self._banner(f"【{DRAFT_MARK}】", _DRAFT, 24)
        self._banner(plan.title, _TITLE, 30)
        self._banner(f"（{self.data.label}汇总）", _SUBTITLE, 22)
        for line in consolidated_info_lines(self.data, generated_at):
            self._banner(line, _INFO, None, align=_WRAP_LEFT)
        header_row = self.row
        for col, column in enumerate(self.columns, start=1):
            style = {"font": _HEADER, "alignment": _WRAP_CENTER, "border": _BORDER}
            put_text(ws, header_row, col, column.header, **style)
        self.header_height = 24.0
        ws.row_dimensions[header_row].height = self.header_height
        self.used += self.header_height
        self.row += 1
        for index, section in enumerate(plan.sections):
            heading = None
            if section.title:
                heading = f"{section_numeral(index)}、{section.title}"
            for position, item in enumerate(section.items):
                self._item(item, heading if position == 0 else None)
            if heading and not section.items:
                self._banner(heading, _HEADING, 20, align=_WRAP_LEFT, boxed=True)
        for col, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = ws.cell(header_row + 1, 1)
        for row in self.breaks:
            ws.row_breaks.append(Break(id=row - 1))
        _print_setup(ws, title_rows=f"{header_row}:{header_row}", fit_width=True)

    def _banner(
        self, text: str, font: Font, height: float | None, align=None, boxed: bool = False
    ) -> float:
        """A line over the whole table width; `boxed` draws the table's borders round it."""
        last = len(self.columns)
        style = {"font": font, "alignment": align or _WRAP_CENTER}
        if boxed:
            style["border"] = _BORDER
            for col in range(2, last + 1):
                _style(self.ws.cell(self.row, col), {"border": _BORDER})
        put_text(self.ws, self.row, 1, text, **style)
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=last)
        total_width = sum(self.widths)
        height = height or _row_height([(text, total_width)], font.sz or _CELL_SIZE)
        self.ws.row_dimensions[self.row].height = height
        self.used += height
        self.row += 1
        return height

    def _start_page(self, needed: float) -> bool:
        """A page break before the current row when `needed` points do not fit on this page
        (a row taller than a page starts one and runs over, as it must)."""
        if self.used + needed <= self.page_height or self.used <= self.header_height:
            return False
        self.breaks.append(self.row)
        self.used = self.header_height  # the header row, repeated
        return True

    def _item(self, item: Item, heading: str | None) -> None:
        """The item's tasks, with 重点工作 merged over them page by page: where its rows go on
        over a break, the next page's part is merged again with the title and （续）."""
        item_col = self._col("item")
        parts: list[list[int]] = []  # first and last row of each page's part
        for position, task in enumerate(item.tasks):
            heights = self._task_heights(task, item, alone=len(item.tasks) == 1)
            first_part = sum(heights[:1])
            if heading is not None and position == 0:
                heading_height = 20.0
                self._start_page(heading_height + first_part)
                self._banner(heading, _HEADING, heading_height, align=_WRAP_LEFT, boxed=True)
            new_page = self._start_page(sum(heights))
            first_row = self.row
            self._task(task, heights)
            if not parts or new_page:
                parts.append([first_row, self.row - 1])
            else:
                parts[-1][1] = self.row - 1
        style = {"font": _BODY, "alignment": _WRAP_CENTER, "border": _BORDER}
        title_lines = text_lines(item.title)
        for index, (first, last) in enumerate(parts):
            text = "\n".join(title_lines) + (CONTINUED if index else "")
            put_text(self.ws, first, item_col, text, **style)
            _merge_down(self.ws, item_col, first, last)

    def _task_heights(self, task: Task, item: Item, alone: bool) -> list[float]:
        """The height of each row the task takes (more than one: a very long answer)."""
        texts = self._fixed(task)
        if alone:
            texts["item"] = item.title
        heights = []
        for offset, piece in enumerate(self._progress(task)):
            cells = [(piece, self.widths[self._col("progress") - 1])]
            if offset == 0:
                cells += [(texts[k], self.widths[self._col(k) - 1]) for k in texts]
            heights.append(_row_height(cells))
        return heights

    def _progress(self, task: Task) -> list[str]:
        """The task's consolidated progress text, in pieces a cell holds (made once)."""
        if task.number not in self.progress:
            text = consolidated_cell_text(self.data, task.number)
            self.progress[task.number] = _chunks(text)
        return self.progress[task.number]

    def _fixed(self, task: Task) -> dict[str, str]:
        content = "\n".join([*text_lines(task.name), *text_lines(task.content)])
        texts = {
            "content": content,
            "indicator": task.indicator,
            "responsibility": task.responsibility,
            "due": task.due_text,
        }
        return {k: v for k, v in texts.items() if any(c.key == k for c in self.columns)}

    def _task(self, task: Task, heights: list[float]) -> None:
        ws, first_row = self.ws, self.row
        fixed = self._fixed(task)
        progress = self._progress(task)
        for offset, piece in enumerate(progress):
            row = first_row + offset
            for col, column in enumerate(self.columns, start=1):
                align = _WRAP_CENTER if column.centered else _WRAP_TOP
                style = {"font": _BODY, "alignment": align, "border": _BORDER}
                if column.key == "progress":
                    put_text(ws, row, col, piece, **style)
                elif offset == 0 and column.key == "number":
                    put_number(ws, row, col, task.number, **style)
                elif offset == 0 and column.key in fixed:
                    put_text(ws, row, col, fixed[column.key], **style)
                else:
                    _style(ws.cell(row, col), style)
            ws.row_dimensions[row].height = heights[offset]
            self.used += heights[offset]
        self.row = first_row + len(progress)
        for col, column in enumerate(self.columns, start=1):
            if column.key not in ("progress", "item"):  # span the continuation rows
                _merge_down(ws, col, first_row, self.row - 1)

    def _col(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns, start=1) if c.key == key)


def _merge_down(ws: Worksheet, column: int, first_row: int, last_row: int) -> None:
    if last_row > first_row:
        ws.merge_cells(
            start_row=first_row, start_column=column, end_row=last_row, end_column=column
        )


# ---------------------------------------------------------------------------------------
# 状态矩阵: tasks × units


_TOTALS = ("应报", "已填报", "已完成", "未填写", "未报送")


def _tally(states: list[CellState | None], assigned: int) -> list[int]:
    counts = Counter(states)
    answered = sum(counts[s] for s in ANSWERED_STATES)
    done = counts[CellState.DONE]
    return [assigned, answered, done, counts[CellState.LEFT_BLANK], counts[CellState.MISSING]]


def _write_matrix(ws: Worksheet, data: RoundData) -> None:
    units = data.reporting_units()
    tasks = list(data.plan.tasks())
    first_unit_col = 3
    totals_col = first_unit_col + len(units)
    last_col = totals_col + len(_TOTALS) - 1
    fills = _FILLS

    # Within the task columns, which every page across repeats: the title on each page.
    title = f"各单位填报状态\n（{data.label}）"
    put_text(ws, 1, 1, title, font=_SUBTITLE, alignment=_WRAP_LEFT)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)
    ws.row_dimensions[1].height = 42
    put_text(ws, 2, 1, "图例", font=_HEADER, alignment=_WRAP_CENTER)
    put_text(ws, 2, 2, "粗体：牵头单位；空白：不承担该任务", font=_BODY, alignment=_WRAP_LEFT)
    for offset, state in enumerate(CellState):
        style = {"fill": fills[state], "alignment": _WRAP_CENTER, "border": _BORDER}
        put_text(ws, 2, first_unit_col + offset, state.value, font=_BODY, **style)

    header = 3
    headings = ["序号", "任务", *[u.label for u in units], *_TOTALS]
    for col, text in enumerate(headings, start=1):
        put_text(ws, header, col, text, font=_HEADER, alignment=_WRAP_CENTER, border=_BORDER)

    assigned_by_unit: Counter[str] = Counter()
    states_by_unit: dict[str, list[CellState | None]] = {u.name: [] for u in units}
    for row, task in enumerate(tasks, start=header + 1):
        assigned = {name for name, _ in data.assignments.get(task.number, [])}
        leads = {name for name, role in data.assignments.get(task.number, []) if role is Role.LEAD}
        put_number(ws, row, 1, task.number, font=_BODY, alignment=_WRAP_CENTER, border=_BORDER)
        label = task.name or data.plan.item_of(task.number).title
        put_text(ws, row, 2, label, font=_BODY, alignment=_WRAP_LEFT, border=_BORDER)
        states = []
        for col, unit in enumerate(units, start=first_unit_col):
            state = data.cell_state(unit.name, task.number)
            states.append(state)
            states_by_unit[unit.name].append(state)
            assigned_by_unit[unit.name] += unit.name in assigned
            if state is None:
                _style(ws.cell(row, col), {"border": _BORDER})
            else:
                font = _BOLD if unit.name in leads else _BODY
                style = {"fill": fills[state], "alignment": _WRAP_CENTER, "border": _BORDER}
                put_text(ws, row, col, state.value, font=font, **style)
        for offset, count in enumerate(_tally(states, len(assigned))):
            put_number(ws, row, totals_col + offset, count, font=_BODY, border=_BORDER)
    last_task_row = header + len(tasks)

    for offset, title in enumerate(_TOTALS):
        row = last_task_row + 1 + offset
        put_text(ws, row, 2, f"{title}（项）", font=_HEADER, alignment=_WRAP_LEFT, border=_BORDER)
        for col, unit in enumerate(units, start=first_unit_col):
            count = _tally(states_by_unit[unit.name], assigned_by_unit[unit.name])[offset]
            put_number(ws, row, col, count, font=_BODY, border=_BORDER)

    ws.freeze_panes = ws.cell(header + 1, first_unit_col)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(last_col)}{last_task_row}"
    widths = [6.0, 30.0]
    # A unit's name wraps onto two lines of its header cell rather than widen its column.
    widths += [min(10.0, max(8.0, len(u.label) + 2.0)) for u in units]
    widths += [8.0] * len(_TOTALS)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    header_lines = max(
        _lines_needed(text, w, 11) for text, w in zip(headings, widths, strict=True)
    )
    ws.row_dimensions[header].height = max(30.0, header_lines * 16.0 + 4)
    for row in range(header + 1, last_task_row + 1):
        label = ws.cell(row, 2).value or ""
        ws.row_dimensions[row].height = _row_height([(label, widths[1])])
    # Printed at a readable size, across pages: a group of units a page (the totals with the
    # last), 序号 and 任务 repeated on each; the header row repeated on every page down.
    for col in _column_groups(widths, first_unit_col, totals_col)[1:]:
        ws.col_breaks.append(Break(id=col - 1))
    _print_setup(
        ws, title_rows=f"{header}:{header}", title_cols="A:B", scale=_MATRIX_SCALE, down=False
    )


def _column_groups(widths: list[float], first_unit_col: int, totals_col: int) -> list[int]:
    """The first column of each page across: as many units as fit beside the repeated task
    columns at the matrix's scale (the wider measure), balanced over the pages, the totals
    kept together on the last."""
    room = _PRINT_WIDTH_PT * _PAGE_SAFETY / (_MATRIX_SCALE / 100)
    room -= sum(_column_points(w, _WIDE_DIGIT_PX) for w in widths[: first_unit_col - 1])
    unit_widths = [_column_points(w, _WIDE_DIGIT_PX) for w in widths[first_unit_col - 1 :]]
    totals = sum(unit_widths[totals_col - first_unit_col :])
    units = unit_widths[: totals_col - first_unit_col]
    if sum(units) + totals <= room:
        return [first_unit_col]
    per_page = max(1, int(room // max(units)))
    pages = math.ceil((sum(units) + totals) / (per_page * max(units)))
    pages = max(pages, math.ceil(len(units) / per_page))
    size = math.ceil(len(units) / pages)
    starts = [first_unit_col + i for i in range(0, len(units), size)]
    last_group = sum(units[starts[-1] - first_unit_col :])
    if last_group + totals > room:  # the totals on a page of their own
        starts.append(totals_col)
    return starts


# ---------------------------------------------------------------------------------------
# 报送情况: submissions


def _write_submissions(ws: Worksheet, data: RoundData) -> None:
    zone = data.zone
    headings = [
        ("单位", 30),
        ("简称", 14),
        ("联系人", 12),
        ("联系电话", 16),
        (f"报送时间（{zone.key}）", 22),
        ("是否按时", 10),
        ("回执编号", 20),
        ("版本", 6),
    ]
    for col, (text, width) in enumerate(headings, start=1):
        put_text(ws, 1, col, text, font=_HEADER, alignment=_WRAP_CENTER, border=_BORDER)
        ws.column_dimensions[get_column_letter(col)].width = width
    header_lines = max(_lines_needed(text, width, 11) for text, width in headings)
    ws.row_dimensions[1].height = max(24.0, header_lines * 16.0 + 4)
    units = data.reporting_units()
    units += [u for u in data.units if u.name in data.submissions and u not in units]
    for row, unit in enumerate(units, start=2):
        submission = data.submissions.get(unit.name)
        contact = submission.contact if submission and submission.contact else unit.contact
        for col, text in enumerate((unit.name, unit.short_name, contact, unit.phone), start=1):
            put_text(ws, row, col, text, font=_BODY, border=_BORDER)
        if submission is None:
            put_text(ws, row, 6, "未报送", font=_BODY, border=_BORDER)
            for col in (5, 7, 8):
                _style(ws.cell(row, col), {"border": _BORDER})
            continue
        local = data.local_time(submission.submitted_at).replace(tzinfo=None)
        cell = ws.cell(row, 5, value=local)
        _style(cell, {"number_format": _DATE_FORMAT, "font": _BODY, "border": _BORDER})
        put_text(ws, row, 6, "按时" if submission.on_time else "逾期", font=_BODY, border=_BORDER)
        put_text(ws, row, 7, submission.receipt, font=_BODY, border=_BORDER)
        put_number(ws, row, 8, submission.version, font=_BODY, border=_BORDER)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:H{max(1, len(units) + 1)}"
    _print_setup(ws, title_rows="1:1", fit_width=True)


def _print_setup(
    ws: Worksheet,
    *,
    title_rows: str,
    title_cols: str | None = None,
    fit_width: bool = False,
    scale: int = 100,
    down: bool = True,
) -> None:
    """A4 landscape, the rows `title_rows` (and columns `title_cols`) repeated on every page,
    fitted to the page's width or printed at `scale`, the page number in the footer."""
    setup = ws.page_setup
    setup.orientation = "landscape"
    setup.paperSize = ws.PAPERSIZE_A4
    if fit_width:
        setup.fitToWidth, setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        setup.scale = scale
        ws.sheet_properties.pageSetUpPr.fitToPage = False
    setup.pageOrder = "downThenOver" if down else "overThenDown"
    for side, inches in _MARGINS.items():
        setattr(ws.page_margins, side, inches)
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols
    footer = ws.oddFooter.center
    footer.text, footer.font, footer.size = "— &P —", FALLBACK_FONT, 14  # 4号, as in Word


# ---------------------------------------------------------------------------------------
# Public API


def build_consolidated_workbook(
    data: RoundData, *, generated_at: dt.datetime | None = None
) -> Workbook:
    workbook = Workbook()
    workbook._fonts = IndexedList([_DEFAULT])  # Normal: 仿宋_GB2312, not Calibri
    workbook._named_styles["Normal"].font = copy.copy(_DEFAULT)
    form = workbook.active
    form.title = FORM_SHEET
    _FormSheet(form, data).write(generated_at)
    _write_matrix(workbook.create_sheet(MATRIX_SHEET), data)
    _write_submissions(workbook.create_sheet(SUBMISSIONS_SHEET), data)
    if data.draft:
        for ws in workbook.worksheets:  # printed on every page of every sheet
            ws.oddHeader.center.text = DRAFT_MARK
            ws.oddHeader.center.color = _DRAFT_COLOUR
            ws.oddHeader.center.size = 14
    workbook.properties.title = clean_text(data.plan.title)
    workbook.properties.creator = data.plan.issuer or "taizhang"
    return workbook


def consolidated_xlsx_bytes(data: RoundData, *, generated_at: dt.datetime | None = None) -> bytes:
    buffer = io.BytesIO()
    build_consolidated_workbook(data, generated_at=generated_at).save(buffer)
    return buffer.getvalue()


def write_consolidated_xlsx(
    data: RoundData, out: Path | str | BinaryIO, *, generated_at: dt.datetime | None = None
) -> None:
    payload = consolidated_xlsx_bytes(data, generated_at=generated_at)
    if isinstance(out, str | Path):
        Path(out).write_bytes(payload)
    else:
        out.write(payload)
