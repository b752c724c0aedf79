"""Plans and filled forms read from the office's Word and Excel ledgers (docs/import.md).

A ledger table is found by its header row (序号 | 重点工作 | 主要内容 | …, in either official
layout), never by its position. Merged cells are read from the XML (w:gridSpan, w:vMerge)
or from the sheet's merged ranges rather than guessed from repeated text, so a 重点工作 cell
merged over its tasks and a 主要内容 header spanning a separate task-name column both read
as the form means them. Section headings (一、…) may stand between tables or in a full-width
row. Anything a person can fix is a LedgerError naming the file and the place; anything
worth knowing that is not an error (a skipped row, a deadline kept only as text) is an
FormWarning of the PlanImport.

Both file formats are first turned into the same grid (rows of cells with their grid column,
span and merge state), and one reader walks that grid.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, Any

from ledger.deadlines import parse_deadline
from ledger.errors import LedgerError
from ledger.model import Item, Layout, Plan, RoundSpec, Section, Status, Task
from ledger.plan_yaml import load_plan
from ledger.report import Answer, UnitReport, load_report

# python-docx and openpyxl are imported where a file is opened: they are slow to import and
# most users of ledger/ never read a form.

__all__ = [
    "FormWarning",
    "PlanImport",
    "read_filled_form_docx",
    "read_plan_docx",
    "read_plan_file",
    "read_plan_xlsx",
    "read_report_file",
]

FileInput = Path | str | IO[bytes]


@dataclass(frozen=True)
class FormWarning:
    """Something the reader did that a person should know of; not an error."""

    message: str
    place: str = ""

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


@dataclass
class PlanImport:
    """A plan read from a form, with what the reader had to skip or could not interpret."""

    plan: Plan
    warnings: list[FormWarning] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Public readers


def read_plan_docx(
    path_or_stream: FileInput, *, key: str | None = None, source: str | None = None
) -> PlanImport:
    """The plan in a .docx whose tables are in the fill-form or the division layout."""
    source = _source_name(path_or_stream, source, "<docx>")
    blocks = _docx_blocks(_read_bytes(path_or_stream, source), source)
    return _PlanBuilder(source, key).build(blocks)


def read_plan_xlsx(
    path_or_stream: FileInput, *, key: str | None = None, source: str | None = None
) -> PlanImport:
    """The plan in the first sheet of an .xlsx that has a recognisable header row."""
    source = _source_name(path_or_stream, source, "<xlsx>")
    blocks = _xlsx_blocks(_read_bytes(path_or_stream, source), source)
    return _PlanBuilder(source, key).build(blocks)


def read_filled_form_docx(
    path_or_stream: FileInput, plan: Plan, *, source: str | None = None
) -> UnitReport:
    """A unit's filled 填报版: the 填报单位 line and every non-blank 进展落实情况 cell."""
    source = _source_name(path_or_stream, source, "<docx>")
    blocks = _docx_blocks(_read_bytes(path_or_stream, source), source)
    return _ReportReader(source, plan).read(blocks)


def read_plan_file(path: Path | str) -> PlanImport:
    """A plan from .yaml/.yml, .docx or .xlsx, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return PlanImport(load_plan(path))
    if suffix == ".docx":
        return read_plan_docx(path)
    if suffix == ".xlsx":
        return read_plan_xlsx(path)
    raise LedgerError(
        f"不支持的文件类型“{path.suffix or '（无后缀）'}”：计划可以是 .yaml、.docx 或 .xlsx",
        source=str(path),
    )


def read_report_file(path: Path | str, plan: Plan) -> UnitReport:
    """A unit's report from .yaml/.yml (the report format) or a filled .docx form."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_report(path)
    if suffix == ".docx":
        return read_filled_form_docx(path, plan)
    raise LedgerError(
        f"不支持的文件类型“{path.suffix or '（无后缀）'}”：填报可以是 .yaml 或 .docx",
        source=str(path),
    )


# ---------------------------------------------------------------------------------------------
# Opening files


def _source_name(path_or_stream: FileInput, source: str | None, default: str) -> str:
    if source:
        return source
    if isinstance(path_or_stream, str | Path):
        return str(path_or_stream)
    return str(getattr(path_or_stream, "name", "") or default)


def _read_bytes(path_or_stream: FileInput, source: str) -> bytes:
    try:
        if isinstance(path_or_stream, str | Path):
            return Path(path_or_stream).read_bytes()
        data = path_or_stream.read()
    except FileNotFoundError:
        raise LedgerError("找不到文件", source=source) from None
    except OSError as err:
        raise LedgerError(f"无法读取文件（{err.strerror or err}）", source=source) from None
    if not isinstance(data, bytes | bytearray):
        raise LedgerError("应以二进制方式打开文件", source=source)
    return bytes(data)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls, and encrypted Office files


def _check_zip(data: bytes, source: str, kind: str, suffix: str) -> None:
    if data.startswith(_OLE_MAGIC):
        raise LedgerError(
            f"这是旧版{kind}文件或加密的文件：请在{kind}中另存为不加密的 {suffix} 后再导入",
            source=source,
        )
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise LedgerError(
            f"不是有效的 {suffix} 文件（文件已损坏，或不是{kind}文档）", source=source
        )


# ---------------------------------------------------------------------------------------------
# The grid both formats become


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


@dataclass
class GridCell:
    column: int  # first grid column, 0-based
    span: int
    paras: list[Para]
    merge: Merge = Merge.NONE

    @property
    def text(self) -> str:
        return _join_short(p.text for p in self.paras)


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

# ---------------------------------------------------------------------------------------------
# DOCX → blocks

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_W_P, _W_TBL, _W_TR, _W_TC, _W_R = (f"{_W}{t}" for t in ("p", "tbl", "tr", "tc", "r"))
_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML = (f"{_W}{t}" for t in ("sdt", "sdtContent", "customXml"))
# Containers whose children stand in for their own: content controls and custom XML.
_TRANSPARENT = {_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML}
# Not shown as text: deleted revisions and the fallback copy of alternate content.
_HIDDEN = {f"{_W}del", f"{_W}moveFrom", _MC_FALLBACK, _W_P, _W_TBL}
_MAX_SPAN = 64


def _docx_blocks(data: bytes, source: str) -> list[Block]:
    _check_zip(data, source, "Word", ".docx")
    try:
        import docx  # python-docx

        body = docx.Document(io.BytesIO(data)).element.body
    except Exception as err:  # python-docx and lxml raise many types on damaged packages
        raise LedgerError(
            f"无法打开 Word 文件（文件已损坏或不是 .docx）：{type(err).__name__}", source=source
        ) from None
    if body is None:
        raise LedgerError("文件中没有找到台账表格", source=source)
    blocks: list[Block] = []
    tables = 0
    for element in _children(body):
        if element.tag == _W_P:
            para = _paragraph(element)
            if para:
                blocks.append(para)
        elif element.tag == _W_TBL:
            tables += 1
            name = f"第{tables}个表格"
            blocks.append(GridTable(_table_rows(element, name), name))
    return blocks


def _children(element: Any) -> Iterator[Any]:
    """Child elements, looking through content controls and custom XML wrappers."""
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        if child.tag in _TRANSPARENT:
            yield from _children(child)
        else:
            yield child


def _table_rows(tbl: Any, name: str) -> list[GridRow]:
    rows = []
    for number, tr in enumerate((c for c in _children(tbl) if c.tag == _W_TR), start=1):
        rows.append(GridRow(_row_cells(tr), f"{name}第{number}行"))
    return rows


def _row_cells(tr: Any) -> list[GridCell]:
    column = _int_val(tr.find(f"{_W}trPr/{_W}gridBefore"), default=0, high=_MAX_SPAN)
    cells: list[GridCell] = []
    for tc in (c for c in _children(tr) if c.tag == _W_TC):
        props = tc.find(f"{_W}tcPr")
        span = _int_val(_find(props, "gridSpan"), default=1, high=_MAX_SPAN) or 1
        h_merge = _find(props, "hMerge")
        if h_merge is not None and h_merge.get(f"{_W}val") != "restart" and cells:
            cells[-1].span += span  # legacy horizontal merge: this cell belongs to the left one
        else:
            paras = [p for p in (_paragraph(e) for e in _cell_paragraphs(tc)) if p]
            cells.append(GridCell(column, span, paras, _v_merge(_find(props, "vMerge"))))
        column += span
    return cells


def _find(props: Any, tag: str) -> Any:
    return None if props is None else props.find(f"{_W}{tag}")


def _int_val(element: Any, default: int, high: int) -> int:
    if element is None:
        return default
    try:
        return max(0, min(int(element.get(f"{_W}val", default)), high))
    except (TypeError, ValueError):
        return default


def _v_merge(element: Any) -> Merge:
    if element is None:
        return Merge.NONE
    return Merge.START if element.get(f"{_W}val") == "restart" else Merge.CONTINUE


def _cell_paragraphs(tc: Any) -> Iterator[Any]:
    """The cell's paragraphs in order, those of nested tables included."""
    for child in _children(tc):
        if child.tag == _W_P:
            yield child
        elif child.tag == _W_TBL:
            for tr in (c for c in _children(child) if c.tag == _W_TR):
                for inner in (c for c in _children(tr) if c.tag == _W_TC):
                    yield from _cell_paragraphs(inner)


def _paragraph(p: Any) -> Para | None:
    """The paragraph's visible text and boldness, or None when it is blank."""
    runs = [(text, bold) for text, bold in _runs(p) if text]
    text = _clean_lines("".join(t for t, _ in runs))
    if not text:
        return None
    plain_at = next((i for i, (t, bold) in enumerate(runs) if not bold and t.strip()), None)
    head = tail = ""
    if plain_at is not None:
        head = _clean_lines("".join(t for t, _ in runs[:plain_at]))
        tail = _clean_lines("".join(t for t, _ in runs[plain_at:])) if head else ""
    jc = p.find(f"{_W}pPr/{_W}jc")
    return Para(
        text=text,
        bold=plain_at is None,
        bold_head=head,
        plain_tail=tail,
        centered=jc is not None and jc.get(f"{_W}val") == "center",
    )


def _runs(p: Any) -> Iterator[tuple[str, bool]]:
    """(text, bold) of every run of the paragraph, through hyperlinks, insertions and fields."""
    stack = [iter(p)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif not isinstance(child.tag, str) or child.tag in _HIDDEN:
            continue
        elif child.tag == _W_R:
            yield _run_text(child), _is_bold(child)
        else:
            stack.append(iter(child))


def _run_text(run: Any) -> str:
    parts = []
    for child in run:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


def _is_bold(run: Any) -> bool:
    bold = run.find(f"{_W}rPr/{_W}b")
    return bold is not None and bold.get(f"{_W}val", "true") not in ("0", "false", "off")


# ---------------------------------------------------------------------------------------------
# XLSX → blocks

# A sheet claiming more (a stray cell at XFD1048576) is read only this far, so that it
# cannot make the reader build millions of empty cells. Real ledgers are far smaller.
_MAX_XLSX_ROWS = 5000
_MAX_XLSX_COLUMNS = 30


def _xlsx_blocks(data: bytes, source: str) -> list[Block]:
    _check_zip(data, source, "Excel", ".xlsx")
    try:
        import openpyxl

        with warnings.catch_warnings():  # openpyxl's notes on unsupported extensions
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        sheets = [_sheet_table(ws) for ws in workbook.worksheets]
    except Exception as err:  # openpyxl and its XML parser raise many types on damaged files
        raise LedgerError(
            f"无法打开 Excel 文件（文件已损坏或不是 .xlsx）：{type(err).__name__}", source=source
        ) from None
    for table in sheets:
        if any(_read_header(row) for row in table.rows[:_HEADER_SEARCH_ROWS]):
            return [table]
    for table in sheets:
        if any(_header_candidate(row) for row in table.rows[:_HEADER_SEARCH_ROWS]):
            return [table]  # the reader names the missing columns
    raise LedgerError(f"文件中没有找到台账表格（{_HEADER_HINT}）", source=source)


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


# ---------------------------------------------------------------------------------------------
# Text helpers

_PUNCTUATION = "。；;！!？?：:，,、…．."
_SECTION_HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．,，]|第[一二三四五六七八九十百]+(?:部分|板块|方面)[、：:.．\s]?)"
    r"\s*(?P<title>\S.*)$",
    re.DOTALL,
)
_RESPONSIBILITY_LABEL = re.compile(r"^(?:牵头|责任|配合|协办|参与)(?:单位|部门|科室)[:：]")


def _clean_lines(text: str) -> str:
    """Lines stripped (full-width spaces too), blank lines dropped."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _join_short(pieces: Iterable[str]) -> str:
    """A short field (序号, 重点工作, 责任单位, 完成时限 …) whose cell wrapped its text.

    Lines are joined with nothing between (Chinese needs no space), with a space between two
    Latin letters or digits, and with a comma before a 责任部门：… label that starts a new line
    after no punctuation.
    """
    joined = ""
    for piece in pieces:
        for line in piece.split("\n"):
            line = line.strip()
            if not line:
                continue
            if (
                joined
                and joined[-1].isascii()
                and joined[-1].isalnum()
                and line[0].isascii()
                and line[0].isalnum()
            ):
                joined += " "
            elif joined and joined[-1] not in _PUNCTUATION and _RESPONSIBILITY_LABEL.match(line):
                joined += "，"
            joined += line
    return joined


def _join_long(paras: Iterable[Para]) -> str:
    """A long field (主要内容, 量化指标, 进展落实情况): one line per real paragraph."""
    return "\n".join(p.text for p in paras)


def _section_title(text: str) -> str | None:
    """The title of a 板块 heading such as 一、全环节推进信息公开, without its numeral."""
    match = _SECTION_HEADING.match(text)
    if not match or len(text) > 80:
        return None
    return _join_short([match["title"]])


def _parse_number(text: str) -> int | None:
    folded = unicodedata.normalize("NFKC", text).strip()
    match = re.fullmatch(r"[(（]?\s*(\d{1,6})\s*[)）.、．]?", folded)
    return int(match.group(1)) if match else None


def _plain(text: str) -> str:
    """A header cell's words, without spaces or a trailing remark in brackets."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"\s+", "", folded)
    return re.sub(r"\([^)]*\)$", "", folded)


# ---------------------------------------------------------------------------------------------
# Header rows


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
_HEADER_HINT = "表头应有“序号”“重点工作/重点任务”“主要内容/具体措施”等列"


def _header_field(text: str) -> tuple[Field, str] | None:
    """The column a header cell names, and the word that named it."""
    words = _plain(text)
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


def _header_candidate(row: GridRow) -> bool:
    """A row naming 序号 and at least one more column: a header, perhaps with columns missing."""
    fields = {hit[0] for hit in (_header_field(c.text) for c in row.cells) if hit}
    return Field.NUMBER in fields and len(fields) >= 2


def _read_header(row: GridRow) -> Header | None:
    """The columns of a header row, or None when the row is not a complete header."""
    if not _header_candidate(row):
        return None
    columns: list[Column] = []
    blanks: list[GridCell] = []
    words: set[str] = set()
    for cell in row.cells:
        hit = _header_field(cell.text)
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


def _missing_columns(row: GridRow) -> list[str]:
    named = {hit[0] for hit in (_header_field(c.text) for c in row.cells) if hit}
    names = {
        Field.NUMBER: "序号",
        Field.ITEM: "重点工作（或重点任务）",
        Field.CONTENT: "主要内容（或具体措施）",
    }
    return [names[f] for f in _REQUIRED if f not in named]


# ---------------------------------------------------------------------------------------------
# Rows of a ledger table


@dataclass
class RowValues:
    """What one task row says, column by column."""

    place: str
    number: int
    item: str = ""
    item_merge: Merge = Merge.NONE
    section: str = ""
    name: str = ""
    content: str = ""
    indicator: str = ""
    responsibility: str = ""
    due: str = ""
    progress: list[Para] = field(default_factory=list)


@dataclass
class Heading:
    title: str
    place: str


@dataclass
class Continuation:
    """A row under a task whose 序号 cell is merged down over it: more of the same task."""

    values: RowValues


@dataclass
class Skipped:
    place: str
    text: str


Event = Para | Heading | RowValues | Continuation | Skipped | Header


def _events(blocks: list[Block], source: str) -> Iterator[Event]:
    """Paragraphs, headings, header rows and task rows of the document, in order.

    Until the first header row, paragraphs and table rows are held back: the 一、… headings
    just before it (as paragraphs or full-width rows) open sections, the rest is preamble
    (title, intro, the 填报单位 line, perhaps in a layout table). A table without a header row
    after one was seen continues with the columns last seen.
    """
    header: Header | None = None
    candidate: GridRow | None = None
    held: list[Para] = []
    for block in blocks:
        if isinstance(block, Para):
            if header is None:
                held.append(block)
            else:
                title = _section_title(block.text)
                yield Heading(title, "") if title else block
            continue
        for row in block.rows:
            found = _read_header(row)
            if found and header is None:
                yield from _release_held(held)
            if found:
                header = found
                yield header
            elif header is None:
                if candidate is None and _header_candidate(row):
                    candidate = row
                held.extend(_row_paragraphs(row))
            else:
                event = _row_event(row, header, source)
                if event:
                    yield event
    if header is None:
        if candidate is not None:
            missing = "、".join(_missing_columns(candidate))
            raise LedgerError(f"表格缺少列：{missing}", source=source, place=candidate.place)
        raise LedgerError(f"文件中没有找到台账表格（{_HEADER_HINT}）", source=source)


def _release_held(held: list[Para]) -> Iterator[Para | Heading]:
    """The preamble, then the 一、… headings that end it."""
    split = len(held)
    while split > 0 and _section_title(held[split - 1].text):
        split -= 1
    yield from held[:split]
    for para in held[split:]:
        yield Heading(_section_title(para.text) or para.text, "")


def _row_paragraphs(row: GridRow) -> Iterator[Para]:
    seen: set[str] = set()
    for cell in row.cells:
        for para in cell.paras:
            if para.text not in seen:
                seen.add(para.text)
                yield para


def _row_event(row: GridRow, header: Header, source: str) -> Event | None:
    texts = row.distinct_texts()
    if not texts:
        return None
    number_cells = header.cells(row, Field.NUMBER)
    number_text = _join_short(c.text for c in number_cells)
    if number_cells and number_cells[0].merge is Merge.CONTINUE:  # hidden text included
        return Continuation(_row_values(row, header, number=0))
    number = _parse_number(number_text)
    if number is not None:
        return _row_values(row, header, number)
    if len(texts) == 1:
        title = _section_title(texts[0])
        if title:
            return Heading(title, row.place)
        if _is_note_row(row, texts[0]):
            return Skipped(row.place, texts[0])
    if number_text:
        message = f"序号“{number_text}”不是数字"
    else:
        message = f"这一行没有序号（“{_shorten(texts[0])}”）"
    raise LedgerError(message, source=source, place=row.place)


def _is_note_row(row: GridRow, text: str) -> bool:
    """A remark across the table (注：…, or one cell spanning most of the row)."""
    widest = max(c.span for c in row.cells if c.text)
    return text.startswith(("注", "备注", "说明")) or widest * 2 > row.width


def _row_values(row: GridRow, header: Header, number: int) -> RowValues:
    item_cells = header.cells(row, Field.ITEM)
    name, content = _name_and_content(header.cells(row, Field.CONTENT))
    named = _join_short(c.text for c in header.cells(row, Field.NAME))
    return RowValues(
        place=row.place,
        number=number,
        item=_join_short(c.text for c in item_cells),
        item_merge=item_cells[0].merge if item_cells else Merge.NONE,
        section=_section_value(header.cells(row, Field.SECTION)),
        name=named or name,
        content=content,
        indicator=_join_long(p for c in header.cells(row, Field.INDICATOR) for p in c.paras),
        responsibility=_responsibility(header, row),
        due=_join_short(c.text for c in header.cells(row, Field.DUE)),
        progress=[p for c in header.cells(row, Field.PROGRESS) for p in c.paras],
    )


def _section_value(cells: list[GridCell]) -> str:
    text = _join_short(c.text for c in cells)
    return (_section_title(text) or text) if text else ""


def _responsibility(header: Header, row: GridRow) -> str:
    """责任单位; where the form has two such columns (牵头单位 | 责任单位), both, labelled."""
    columns = [c for c in header.columns if c.field is Field.RESPONSIBILITY]
    texts = []
    for column in columns:
        cells = [c for c in row.cells if column.first <= c.column <= column.last]
        text = _join_short(c.text for c in cells)
        if text and len(columns) > 1 and not _RESPONSIBILITY_LABEL.match(text):
            text = f"{_plain(column.header)}：{text}"
        if text:
            texts.append(text)
    return "，".join(texts)


_NAME_MAX = 40


def _name_and_content(cells: list[GridCell]) -> tuple[str, str]:
    """A task's short name and its content, from the cell(s) under 主要内容.

    Under a 主要内容 header spanning two grid columns the name has a cell of its own (seed
    000); otherwise the name, when there is one, is the content cell's first paragraph: bold
    above plain text, or short and without final punctuation above more text; or a bold
    beginning of the first paragraph.
    """
    cells = [c for c in cells if c.merge is not Merge.CONTINUE or c.paras]
    if len(cells) > 1:
        return _join_short(c.text for c in cells[:-1]), _join_long(cells[-1].paras)
    paras = cells[0].paras if cells else []
    if len(paras) >= 2:
        first, rest = paras[0], paras[1:]
        if first.bold and not all(p.bold for p in rest):
            return _join_short([first.text]), _join_long(rest)
        if not any(p.bold for p in paras) and _looks_like_name(first.text):
            return _join_short([first.text]), _join_long(rest)
    if paras and paras[0].bold_head and len(paras[0].bold_head) <= _NAME_MAX:
        first = paras[0]
        tail = Para(first.plain_tail.lstrip(":： "))
        return first.bold_head, _join_long([tail, *paras[1:]] if tail.text else paras[1:])
    return "", _join_long(paras)


def _looks_like_name(text: str) -> bool:
    return len(text) <= _NAME_MAX and "\n" not in text and text[-1] not in _PUNCTUATION


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------------------------------------
# The preamble: title, subtitle, intro and the 填报单位 line

_CONTACT_LABEL = re.compile(
    r"(?P<label>填报单位|联系人|联系电话|电话)\s*(?:[（(][^）)\n]{0,10}[）)])?\s*[:：]"
)
_CONTACT_FIELDS = {"填报单位": "unit", "联系人": "contact", "联系电话": "phone", "电话": "phone"}


@dataclass
class Preamble:
    title: str = ""
    subtitle: str = ""
    intro: str = ""
    unit: str = ""
    contact: str = ""
    phone: str = ""
    has_contact_line: bool = False


def _read_preamble(paras: list[Para]) -> Preamble:
    preamble = Preamble()
    intro: list[str] = []
    for para in paras:
        if _CONTACT_LABEL.search(para.text):
            preamble.has_contact_line = True
            _read_contact_line(para.text, preamble)
        elif not preamble.title:
            lines = para.text.split("\n")
            while len(lines) > 1 and _is_bracketed(lines[-1]):
                preamble.subtitle = lines.pop()
            preamble.title = _join_short(lines)
        elif _is_bracketed(para.text) and not preamble.subtitle and not intro:
            preamble.subtitle = para.text
        elif para.centered and not preamble.subtitle and not intro:
            preamble.title = _join_short([preamble.title, para.text])  # a title on two lines
        else:
            intro.append(para.text)
    preamble.intro = "\n".join(intro)
    return preamble


def _is_bracketed(text: str) -> bool:
    text = text.strip()
    return len(text) >= 2 and text[0] in "（(" and text[-1] in "）)"


def _read_contact_line(text: str, preamble: Preamble) -> None:
    """填报单位：…  联系人：…  联系电话：… with any colons and spacing; blanks stay blank."""
    matches = list(_CONTACT_LABEL.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].split("\n")[0]
        value = value.strip().strip("_＿").strip()
        attribute = _CONTACT_FIELDS[match["label"]]
        if value and not getattr(preamble, attribute):
            setattr(preamble, attribute, value)


_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ROUNDS = re.compile(r"于((?:\d{4}\s*年)?\s*\d{1,2}\s*月[^，。；;]{1,40}?)前?报送")


def _guess_year(*texts: str) -> int | None:
    for text in texts:
        match = _YEAR.search(text)
        if match:
            return int(match.group(1))
    return None


def _guess_issuer(title: str) -> str:
    """The office named before the year in a title such as 银川市…办公室2023年…台账."""
    match = _YEAR.search(title)
    return title[: match.start()].strip() if match else ""


def _guess_rounds(intro: str, year: int | None) -> list[RoundSpec]:
    """Reporting days announced in the intro (…分别于2023年8月10日、12月1日前报送…)."""
    match = _ROUNDS.search(intro)
    if not match:
        return []
    try:
        deadline = parse_deadline(match.group(1), default_year=year)
    except LedgerError:
        return []
    return [RoundSpec(due=day.isoformat()) for day in deadline.dates]


def _slug(source: str, year: int | None) -> str:
    """A plan key from the file name: its Latin letters and digits; plan-YEAR without any."""
    stem = Path(source).stem if not source.startswith("<") else ""
    folded = unicodedata.normalize("NFKC", stem).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode()).strip("-")
    if slug and not slug.isdigit():
        return slug[:48].strip("-")
    return f"plan-{year}" if year else "plan"


# ---------------------------------------------------------------------------------------------
# Building a plan


class _PlanBuilder:
    def __init__(self, source: str, key: str | None):
        self.source = source
        self.key = key
        self.warnings: list[FormWarning] = []
        self.sections: list[Section] = []
        self.section: Section | None = None
        self.item: Item | None = None
        self.places: dict[int, str] = {}
        self.last_task: Task | None = None
        self.layout: Layout | None = None
        self.answered: list[int] = []

    def fail(self, message: str, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place)

    def warn(self, message: str, place: str = "") -> None:
        self.warnings.append(FormWarning(message, place))

    def build(self, blocks: list[Block]) -> PlanImport:
        preamble_paras: list[Para] = []
        for event in _events(blocks, self.source):
            if isinstance(event, Header):
                self.layout = self.layout or event.layout
            elif isinstance(event, Para):
                if not self.places:
                    preamble_paras.append(event)
            elif isinstance(event, Heading):
                self._start_section(event.title)
            elif isinstance(event, RowValues):
                self._add_task(event)
            elif isinstance(event, Continuation):
                self._continue_task(event.values)
            elif isinstance(event, Skipped):
                self.warn(f"跳过了表格中的一行：“{_shorten(event.text)}”", event.place)
        return self._finish(_read_preamble(preamble_paras))

    def _start_section(self, title: str | None) -> None:
        self.section = Section(title=title)
        self.sections.append(self.section)
        self.item = None

    def _add_task(self, row: RowValues) -> None:
        if row.section and (self.section is None or row.section != self.section.title):
            self._start_section(row.section)
        if self.section is None:
            self._start_section(None)
        self._place_item(row)
        if row.number in self.places:
            message = f"序号 {row.number} 重复（前一次在{self.places[row.number]}）"
            raise self.fail(message, row.place)
        if row.number <= 0:
            raise self.fail(f"序号应为正整数，而不是 {row.number}", row.place)
        self.places[row.number] = row.place
        task = Task(
            number=row.number,
            content=row.content,
            name=row.name,
            indicator=row.indicator,
            responsibility=row.responsibility,
            due_text=row.due,
        )
        assert self.item is not None
        self.item.tasks.append(task)
        self.last_task = task
        if row.progress:
            self.answered.append(row.number)

    def _place_item(self, row: RowValues) -> None:
        """The item a task row belongs to: a merged or blank 重点工作 cell continues the last."""
        assert self.section is not None
        same = self.item is not None and (
            row.item_merge is Merge.CONTINUE or not row.item or row.item == self.item.title
        )
        if same:
            return
        if not row.item:
            message = f"序号 {row.number} 的“重点工作”是空的，上面也没有可以接续的大项"
            raise self.fail(message, row.place)
        self.item = Item(title=row.item)
        self.section.items.append(self.item)

    def _continue_task(self, row: RowValues) -> None:
        task = self.last_task
        if task is None:
            raise self.fail("这一行接续上一行的序号，但上面没有任务", row.place)
        task.content = "\n".join(t for t in (task.content, row.content) if t)
        task.indicator = "\n".join(t for t in (task.indicator, row.indicator) if t)
        task.name = _join_short([task.name, row.name])
        task.responsibility = _join_short([task.responsibility, row.responsibility])
        task.due_text = _join_short([task.due_text, row.due])
        if row.progress and task.number not in self.answered:
            self.answered.append(task.number)

    def _finish(self, preamble: Preamble) -> PlanImport:
        sections = self._kept_sections()
        tasks = [t for s in sections for i in s.items for t in i.tasks]
        if not tasks:
            raise self.fail("表格中没有任何任务（没有带序号的行）")
        for task in tasks:
            if not task.content:
                raise self.fail(f"序号 {task.number} 没有主要内容", self.places[task.number])
        title = preamble.title or (Path(self.source).stem if self.source[:1] != "<" else "")
        if not preamble.title:
            title = title or "未命名台账"
            self.warn("表格前没有标题，以文件名作标题")
        year = _guess_year(title, preamble.subtitle, preamble.intro)
        plan = Plan(
            key=self.key or _slug(self.source, year),
            title=title,
            subtitle=preamble.subtitle,
            layout=self.layout or Layout.FILL_FORM,
            sections=sections,
            year=year,
            issuer=_guess_issuer(title),
            intro=preamble.intro,
            rounds=_guess_rounds(preamble.intro, year),
        )
        self._check_plan(plan)
        return PlanImport(plan, self.warnings)

    def _kept_sections(self) -> list[Section]:
        kept = []
        for section in self.sections:
            if section.items:
                kept.append(section)
            elif section.title:
                self.warn(f"板块“{section.title}”下没有任务，已略去")
        if len(kept) > 1 and kept[0].title is None:
            first = kept[0].items[0].tasks[0].number
            message = "第一个板块标题之前有任务，它们归入一个无标题的板块"
            self.warn(message, self.places.get(first, ""))
        return kept

    def _check_plan(self, plan: Plan) -> None:
        if plan.year is None:
            self.warn("标题中没有年份（如“2023年”），没有年份的完成时限将无法识别")
        for task in plan.tasks():
            try:
                task.deadline(plan.year)
            except LedgerError as err:
                place = self.places[task.number]
                self.warn(f"序号 {task.number} 的完成时限按原文保留：{err.message}", place)
        if self.answered:
            numbers = "、".join(map(str, self.answered[:10])) + (
                "…" if len(self.answered) > 10 else ""
            )
            self.warn(
                f"有 {len(self.answered)} 个任务填了进展落实情况（序号 {numbers}）；导入计划不读取"
                "它们，导入填报内容请用 report import"
            )


# ---------------------------------------------------------------------------------------------
# Reading a filled form


_STATUS_WORDS: dict[str, Status] = {
    "已完成": Status.DONE,
    "完成": Status.DONE,
    "推进中": Status.IN_PROGRESS,
    "进行中": Status.IN_PROGRESS,
    "正在推进": Status.IN_PROGRESS,
    "未开始": Status.NOT_STARTED,
    "未启动": Status.NOT_STARTED,
    "不涉及": Status.NOT_APPLICABLE,
    "不适用": Status.NOT_APPLICABLE,
}
_STATUS_ALTERNATIVES = "|".join(sorted(_STATUS_WORDS, key=len, reverse=True))
_STATUS_MARK = re.compile(
    rf"^(?:[【\[]\s*(?P<bracketed>{_STATUS_ALTERNATIVES})\s*[】\]]\s*[:：]?"
    rf"|(?P<word>{_STATUS_ALTERNATIVES})\s*(?:[:：]|$))\s*"
)


def _answer(number: int, paras: list[Para]) -> Answer | None:
    """The answer in a 进展落实情况 cell; a leading 【已完成】 or 已完成： is read as a status.

    As the export writes it (ledger.rounddata.answer_lines), a 【不涉及】 first line carries
    the reason and any following lines the text.
    """
    lines = [p.text for p in paras]
    if not lines:
        return None
    match = _STATUS_MARK.match(lines[0])
    if not match:
        return Answer(task=number, text="\n".join(lines))
    status = _STATUS_WORDS[match["bracketed"] or match["word"]]
    rest = lines[0][match.end() :].strip()
    if status is Status.NOT_APPLICABLE:
        return Answer(task=number, status=status, reason=rest, text="\n".join(lines[1:]))
    return Answer(task=number, status=status, text="\n".join(t for t in [rest, *lines[1:]] if t))


class _ReportReader:
    def __init__(self, source: str, plan: Plan):
        self.source = source
        self.plan = plan
        self.numbers = {t.number for t in plan.tasks()}

    def fail(self, message: str, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place)

    def read(self, blocks: list[Block]) -> UnitReport:
        preamble: list[Para] = []
        cells: dict[int, list[Para]] = {}
        places: dict[int, str] = {}
        last: int | None = None
        progress_column = False
        for event in _events(blocks, self.source):
            if isinstance(event, Header):
                progress_column = progress_column or event.has(Field.PROGRESS)
            elif isinstance(event, Para) and not places:
                preamble.append(event)
            elif isinstance(event, RowValues):
                self._check_number(event, places)
                places[event.number] = event.place
                cells[event.number] = list(event.progress)
                last = event.number
            elif isinstance(event, Continuation):
                if last is None:
                    raise self.fail("这一行接续上一行的序号，但上面没有任务", event.values.place)
                cells[last].extend(event.values.progress)
        if not progress_column:
            raise self.fail("表格中没有“进展落实情况”（或“进展情况”）列，读不出填报内容")
        if not places:
            raise self.fail("表格中没有任何任务（没有带序号的行）")
        header = _read_preamble(preamble)
        answers = [a for n, paras in cells.items() if (a := _answer(n, paras))]
        return UnitReport(
            unit=header.unit,
            answers=answers,
            plan=self.plan.key,
            contact=header.contact,
            phone=header.phone,
        )

    def _check_number(self, row: RowValues, places: dict[int, str]) -> None:
        if row.number not in self.numbers:
            raise self.fail(
                f"序号 {row.number} 不在计划“{self.plan.title}”中（这份表是否属于另一个台账？）",
                row.place,
            )
        if row.number in places:
            raise self.fail(f"序号 {row.number} 重复（前一次在{places[row.number]}）", row.place)
