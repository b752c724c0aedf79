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
from openpyxl.worksheet.worksheet import Worksheet

from ledger.docx_forms import FORM_COLUMNS, consolidated_cell_text, consolidated_info_lines
from ledger.model import Item, Role, Task, section_numeral
from ledger.rounddata import DRAFT_MARK, CellState, RoundData, clean_text, text_lines

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

FONT_NAME = "宋体"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_WRAP_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_WRAP_LEFT = Alignment(wrap_text=True, vertical="center", horizontal="left")
_BODY = Font(name=FONT_NAME, size=11)
_BOLD = Font(name=FONT_NAME, size=11, bold=True)  # also marks a lead unit in the matrix
_TITLE = Font(name=FONT_NAME, size=16, bold=True)
_DRAFT_COLOUR = "C00000"
_DRAFT = Font(name=FONT_NAME, size=14, bold=True, color=_DRAFT_COLOUR)

# Widths (in Excel's character units) of the form sheet's columns, by column key.
_FORM_WIDTHS = {
    "number": 6,
    "item": 16,
    "content": 44,
    "indicator": 26,
    "responsibility": 18,
    "due": 12,
    "progress": 64,
}
_POINTS_PER_LINE = 14.5
_MAX_ROW_HEIGHT = 409  # Excel's limit, in points


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


def _lines_needed(text: str, width: float) -> int:
    per_line = max(1, int(width / 2.1))  # a CJK character is about two width units
    return sum(max(1, math.ceil(len(line) / per_line)) for line in text.split("\n")) or 1


def _row_height(texts_and_widths: list[tuple[str, float]]) -> float:
    lines = max((_lines_needed(t, w) for t, w in texts_and_widths if t), default=1)
    return min(_MAX_ROW_HEIGHT, max(18.0, lines * _POINTS_PER_LINE + 4))


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

    def write(self, generated_at: dt.datetime | None) -> None:
        ws, plan = self.ws, self.data.plan
        if self.data.draft:
            self._banner(f"【{DRAFT_MARK}】", _DRAFT, 24)
        self._banner(plan.title, _TITLE, 28)
        self._banner(f"（{self.data.label}汇总）", _BOLD, 20)
        for line in consolidated_info_lines(self.data, generated_at):
            self._banner(line, _BODY, None, align=_WRAP_LEFT)
        header_row = self.row
        for col, column in enumerate(self.columns, start=1):
            style = {"font": _BOLD, "alignment": _WRAP_CENTER, "border": _BORDER}
            put_text(ws, header_row, col, column.header, **style)
        self.row += 1
        for index, section in enumerate(plan.sections):
            if section.title:
                heading = f"{section_numeral(index)}、{section.title}"
                self._banner(heading, _BOLD, 20, align=_WRAP_LEFT, boxed=True)
            for item in section.items:
                self._item(item)
        for col, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = ws.cell(header_row + 1, 1)
        ws.print_title_rows = f"{header_row}:{header_row}"
        _print_landscape(ws)

    def _banner(
        self, text: str, font: Font, height: float | None, align=None, boxed: bool = False
    ) -> None:
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
        self.ws.row_dimensions[self.row].height = height or _row_height([(text, total_width)])
        self.row += 1

    def _item(self, item: Item) -> None:
        first_row = self.row
        for task in item.tasks:
            self._task(task)
        item_col = self._col("item")
        style = {"font": _BODY, "alignment": _WRAP_CENTER, "border": _BORDER}
        put_text(self.ws, first_row, item_col, item.title, **style)
        if self.row - 1 > first_row:
            self.ws.merge_cells(
                start_row=first_row,
                start_column=item_col,
                end_row=self.row - 1,
                end_column=item_col,
            )

    def _task(self, task: Task) -> None:
        ws, first_row = self.ws, self.row
        content = "\n".join([*text_lines(task.name), *text_lines(task.content)])
        fixed = {
            "content": content,
            "indicator": task.indicator,
            "responsibility": task.responsibility,
            "due": task.due_text,
        }
        progress = _chunks(consolidated_cell_text(self.data, task.number))
        for offset, piece in enumerate(progress):
            row = first_row + offset
            texts = [(piece, self.widths[self._col("progress") - 1])]
            for col, column in enumerate(self.columns, start=1):
                align = _WRAP_CENTER if column.centered else _WRAP_TOP
                style = {"font": _BODY, "alignment": align, "border": _BORDER}
                if column.key == "progress":
                    put_text(ws, row, col, piece, **style)
                elif offset == 0 and column.key == "number":
                    put_number(ws, row, col, task.number, **style)
                elif offset == 0 and column.key in fixed:
                    put_text(ws, row, col, fixed[column.key], **style)
                    texts.append((fixed[column.key], self.widths[col - 1]))
                else:
                    _style(ws.cell(row, col), style)
            ws.row_dimensions[row].height = _row_height(texts)
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

    put_text(ws, 1, 1, f"各单位填报状态（{data.label}）", font=_TITLE)
    put_text(ws, 2, 1, "图例", font=_BOLD, alignment=_WRAP_CENTER)
    put_text(ws, 2, 2, "粗体：牵头单位；空白：不承担该任务", font=_BODY, alignment=_WRAP_LEFT)
    for offset, state in enumerate(CellState):
        style = {"fill": fills[state], "alignment": _WRAP_CENTER, "border": _BORDER}
        put_text(ws, 2, first_unit_col + offset, state.value, font=_BODY, **style)

    header = 3
    headings = ["序号", "任务", *[u.label for u in units], *_TOTALS]
    for col, text in enumerate(headings, start=1):
        put_text(ws, header, col, text, font=_BOLD, alignment=_WRAP_CENTER, border=_BORDER)

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
        put_text(ws, row, 2, f"{title}（项）", font=_BOLD, alignment=_WRAP_LEFT, border=_BORDER)
        for col, unit in enumerate(units, start=first_unit_col):
            count = _tally(states_by_unit[unit.name], assigned_by_unit[unit.name])[offset]
            put_number(ws, row, col, count, font=_BODY, border=_BORDER)

    ws.freeze_panes = ws.cell(header + 1, first_unit_col)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(last_col)}{last_task_row}"
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 30
    for col, unit in enumerate(units, start=first_unit_col):
        width = min(18, max(9, 2 * len(unit.label) + 2))
        ws.column_dimensions[get_column_letter(col)].width = width
    for col in range(totals_col, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 8
    ws.row_dimensions[header].height = 32
    _print_landscape(ws)


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
        put_text(ws, 1, col, text, font=_BOLD, alignment=_WRAP_CENTER, border=_BORDER)
        ws.column_dimensions[get_column_letter(col)].width = width
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


def _print_landscape(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# ---------------------------------------------------------------------------------------
# Public API


def build_consolidated_workbook(
    data: RoundData, *, generated_at: dt.datetime | None = None
) -> Workbook:
    workbook = Workbook()
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
