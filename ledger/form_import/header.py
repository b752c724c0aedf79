"""Header rows: which column of a ledger table holds what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.form_import.grid import GridCell, GridRow
from ledger.form_import.text import plain
from ledger.model import Layout


class Field(StrEnum):
    NUMBER = "序号"
    SECTION = "板块"
    ITEM = "重点工作"
    NAME = "任务名称"
    CONTENT = "主要内容"
    INDICATOR = "量化指标"
    RESPONSIBILITY = "责任单位"
    DUE = "完成时限"
    PROGRESS = "进展落实情况"


# The words a header cell may use for each column; the first is the fill-form word.
_HEADER_WORDS: dict[Field, tuple[str, ...]] = {
    Field.NUMBER: ("序号", "编号"),
    Field.SECTION: ("板块", "工作板块"),
    Field.ITEM: ("重点工作", "重点任务", "工作任务", "大项", "工作要点"),
    Field.NAME: ("任务名称", "名称", "重点任务名称"),
    Field.CONTENT: ("主要内容", "具体措施", "工作措施", "具体内容", "任务内容", "主要措施"),
    Field.INDICATOR: ("量化指标", "考核指标", "指标"),
    Field.RESPONSIBILITY: ("责任单位", "责任科室", "责任部门", "牵头单位", "牵头部门", "责任主体"),
    Field.DUE: ("完成时限", "完成时间", "时限", "完成期限", "时间节点"),
    Field.PROGRESS: ("进展落实情况", "进展情况", "落实情况", "完成情况", "落实进展情况"),
}
_HEADER_WORDS_LONGEST_FIRST = sorted(
    ((fld, word) for fld, words in _HEADER_WORDS.items() for word in words),
    key=lambda pair: -len(pair[1]),
)
_DIVISION_WORDS = {"重点任务", "具体措施", "责任科室", "进展情况"}
_FILL_FORM_WORDS = {"重点工作", "主要内容", "量化指标", "进展落实情况"}
_REQUIRED = (Field.NUMBER, Field.ITEM, Field.CONTENT)
HEADER_HINT = "表头应有“序号”“重点工作/重点任务”“主要内容/具体措施”等列"


def header_field(text: str) -> tuple[Field, str] | None:
    """The column a header cell names, and the word that named it."""
    words = plain(text)
    if not words:
        return None
    for fld, synonyms in _HEADER_WORDS.items():
        if words in synonyms:
            return fld, words
    for fld, word in _HEADER_WORDS_LONGEST_FIRST:
        if words.startswith(word) and len(words) <= len(word) + 4:  # 责任单位/科室
            return fld, word
    return None


@dataclass(frozen=True)
class Column:
    field: Field
    first: int  # grid columns it covers, inclusive
    last: int
    header: str


@dataclass
class Header:
    columns: list[Column]
    layout: Layout

    def has(self, fld: Field) -> bool:
        return any(c.field is fld for c in self.columns)

    def cells(self, row: GridRow, fld: Field) -> list[GridCell]:
        """The row's cells under the column(s) of that field, left to right."""
        return [
            cell
            for column in self.columns
            if column.field is fld
            for cell in row.cells
            if column.first <= cell.column <= column.last
        ]


def header_candidate(row: GridRow) -> bool:
    """A row naming 序号 and at least one more column: a header, perhaps with columns missing."""
    fields = {hit[0] for hit in (header_field(c.text) for c in row.cells) if hit}
    return Field.NUMBER in fields and len(fields) >= 2


def read_header(row: GridRow) -> Header | None:
    """The columns of a header row, or None when the row is not a complete header."""
    if not header_candidate(row):
        return None
    columns: list[Column] = []
    blanks: list[GridCell] = []
    words: set[str] = set()
    for cell in row.cells:
        hit = header_field(cell.text)
        if hit:
            columns.append(Column(hit[0], cell.column, cell.column + cell.span - 1, cell.text))
            words.add(hit[1])
        elif not cell.text:
            blanks.append(cell)
    columns = _adopt_blank_columns(columns, blanks, row.width)
    if any(not any(c.field is f for c in columns) for f in _REQUIRED):
        return None
    division = bool(words & _DIVISION_WORDS) and not words & _FILL_FORM_WORDS
    return Header(columns, Layout.DIVISION if division else Layout.FILL_FORM)


def _adopt_blank_columns(
    columns: list[Column], blanks: list[GridCell], width: int
) -> list[Column]:
    """Give header cells left blank the column the form means.

    A blank header cell right before 主要内容 is its task-name half (the header merged by eye, not
    by gridSpan); a blank last header cell where no progress column is named is the
    进展落实情况 column (seed 000's fourth table prints its header so).
    """
    result = list(columns)
    has_progress = any(c.field is Field.PROGRESS for c in columns)
    for blank in blanks:
        last = blank.column + blank.span - 1
        content = next((c for c in result if c.field is Field.CONTENT), None)
        if content and last == content.first - 1:
            result[result.index(content)] = Column(Field.CONTENT, blank.column, content.last, "")
        elif not has_progress and last == width - 1:
            result.append(Column(Field.PROGRESS, blank.column, last, ""))
            has_progress = True
    return sorted(result, key=lambda c: c.first)


def missing_columns(row: GridRow) -> list[str]:
    named = {hit[0] for hit in (header_field(c.text) for c in row.cells) if hit}
    names = {
        Field.NUMBER: "序号",
        Field.ITEM: "重点工作（或重点任务）",
        Field.CONTENT: "主要内容（或具体措施）",
    }
    return [names[f] for f in _REQUIRED if f not in named]
