"""The grid both file formats become: rows of cells with their grid column, span and merge
state, and the body's paragraphs between tables. One reader walks it (rows.py).

It sits above text.py (clean-up of strings) and below everything else: text.py knows nothing
of paragraphs, and what joins paragraphs (join_long) lives here beside Para."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from ledger.form_import.text import join_short


class Merge(Enum):
    NONE = "none"
    START = "start"  # first cell of a vertical merge
    CONTINUE = "continue"  # covered by the cell above (w:vMerge without val)


@dataclass(frozen=True)
class Para:
    """One non-blank paragraph of a cell or of the body."""

    text: str  # stripped; a line break inside the paragraph stays "\n"
    bold: bool = False  # every run with text is bold
    bold_head: str = ""  # leading bold runs, when plain runs follow in the same paragraph
    plain_tail: str = ""  # the plain rest after bold_head
    centered: bool = False


def join_long(paras: Iterable[Para]) -> str:
    """A long field (主要内容, 量化指标, 进展落实情况): one line per real paragraph."""
    return "\n".join(p.text for p in paras)


@dataclass
class GridCell:
    column: int  # first grid column, 0-based
    span: int
    paras: list[Para]  # what the cell shows: nothing for a cell covered by the one above
    merge: Merge = Merge.NONE
    inherited: list[Para] = field(default_factory=list)  # a covered cell: the merged value

    @property
    def text(self) -> str:
        return join_short(p.text for p in self.paras)

    @property
    def value(self) -> list[Para]:
        """The cell's value: a vertically merged cell's value holds for every row it spans."""
        return self.inherited if self.merge is Merge.CONTINUE else self.paras


@dataclass
class GridRow:
    cells: list[GridCell]
    place: str

    def distinct_texts(self) -> list[str]:
        texts: list[str] = []
        for cell in self.cells:
            if cell.text and cell.text not in texts:
                texts.append(cell.text)
        return texts

    @property
    def width(self) -> int:
        return max((c.column + c.span for c in self.cells), default=0)


@dataclass
class GridTable:
    rows: list[GridRow]
    name: str  # e.g. 第2个表格, 工作表“Sheet1”


Block = Para | GridTable


def fill_vertical_merges(rows: list[GridRow]) -> None:
    """Give every covered cell the value of the merged cell above it (same grid column)."""
    above: dict[int, list[Para]] = {}
    for row in rows:
        for cell in row.cells:
            if cell.merge is Merge.CONTINUE:
                cell.paras = []  # Word hides what a covered cell still holds
                cell.inherited = above.get(cell.column, [])
            else:
                above[cell.column] = cell.paras
