"""XLSX → blocks: the first sheet with a ledger header, its merged ranges read as one cell."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from typing import Any

from ledger.form_import.files import check_zip, open_failure
from ledger.form_import.grid import (
    Block,
    GridCell,
    GridRow,
    GridTable,
    Merge,
    Para,
    fill_vertical_merges,
)
from ledger.form_import.header import Recogniser

# A sheet claiming more (a stray cell at XFD1048576) is read only this far, so that it
# cannot make the reader build millions of empty cells. Real ledgers are far smaller.
_MAX_XLSX_ROWS = 5000
_MAX_XLSX_COLUMNS = 30


def xlsx_blocks(data: bytes, source: str, recogniser: Recogniser | None = None) -> list[Block]:
    """The first sheet with a ledger header (or, failing that, one with a header-like row);
    every sheet when none has one, so that the reader can say what it saw."""
    recogniser = recogniser or Recogniser()
    check_zip(data, source, "Excel", ".xlsx")
    try:
        import openpyxl

        with warnings.catch_warnings():  # openpyxl's notes on unsupported extensions
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        sheets = [_sheet_table(ws) for ws in workbook.worksheets]
    except Exception as err:  # openpyxl and its XML parser raise many types on damaged files
        raise open_failure("Excel", ".xlsx", source, err) from None
    probe = Recogniser(recogniser.mapping)  # looking must not count as reading
    for table in sheets:
        rows = table.rows[:_HEADER_SEARCH_ROWS]
        if any(probe.read(row, rows[i + 1 : i + 9]) for i, row in enumerate(rows)):
            return [table]
    for table in sheets:
        if any(probe.candidate(row) for row in table.rows[:_HEADER_SEARCH_ROWS]):
            return [table]  # the reader names the missing columns
    return list(sheets)


_HEADER_SEARCH_ROWS = 50


def _sheet_table(ws: Any) -> GridTable:
    name = f"工作表“{ws.title}”"
    last_row = min(ws.max_row or 0, _MAX_XLSX_ROWS)
    last_column = min(ws.max_column or 0, _MAX_XLSX_COLUMNS)
    covering = _merged_cover(ws, last_row, last_column)
    rows = []
    for r in range(1, last_row + 1):
        cells = []
        for c in range(1, last_column + 1):
            merged = covering.get((r, c))
            if merged is None:
                cells.append(GridCell(c - 1, 1, _xlsx_paras(ws.cell(r, c))))
                continue
            top, left, bottom, right = merged
            if c != left:
                continue  # covered by the merged cell on its left
            if r == top:
                merge = Merge.START if bottom > top else Merge.NONE
                cells.append(GridCell(c - 1, right - left + 1, _xlsx_paras(ws.cell(r, c)), merge))
            else:
                cells.append(GridCell(c - 1, right - left + 1, [], Merge.CONTINUE))
        rows.append(GridRow(cells, f"{name}第{r}行"))
    fill_vertical_merges(rows)
    return GridTable(rows, name)


def _merged_cover(
    ws: Any, last_row: int, last_column: int
) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(row, column) → (top, left, bottom, right) of the merged range covering it."""
    covering = {}
    for rng in ws.merged_cells.ranges:
        top, left = rng.min_row, rng.min_col
        bottom, right = min(rng.max_row, last_row), min(rng.max_col, last_column)
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                covering[(r, c)] = (top, left, bottom, right)
    return covering


def _xlsx_paras(cell: Any) -> list[Para]:
    text = _xlsx_text(cell.value)
    bold = bool(cell.font and cell.font.b)
    centered = bool(cell.alignment and cell.alignment.horizontal in ("center", "centerContinuous"))
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [Para(line, bold=bold, centered=centered) for line in lines if line]


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"{value.year}年{value.month}月{value.day}日"  # as the forms write dates
    return str(value)
