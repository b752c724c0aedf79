"""Row events: the document as paragraphs, headings, header rows and task rows, in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ledger.errors import LedgerError
from ledger.form_import.grid import Block, GridCell, GridRow, Merge, Para
from ledger.form_import.header import (
    HEADER_HINT,
    Field,
    Header,
    header_candidate,
    missing_columns,
    read_header,
)
from ledger.form_import.text import (
    PUNCTUATION,
    RESPONSIBILITY_LABEL,
    join_long,
    join_short,
    parse_number,
    plain,
    section_title,
    shorten,
)


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


def events(blocks: list[Block], source: str) -> Iterator[Event]:
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
                title = section_title(block.text)
                yield Heading(title, "") if title else block
            continue
        for row in block.rows:
            found = read_header(row)
            if found and header is None:
                yield from _release_held(held)
            if found:
                header = found
                yield header
            elif header is None:
                if candidate is None and header_candidate(row):
                    candidate = row
                held.extend(_row_paragraphs(row))
            else:
                event = _row_event(row, header, source)
                if event:
                    yield event
    if header is None:
        if candidate is not None:
            missing = "、".join(missing_columns(candidate))
            raise LedgerError(f"表格缺少列：{missing}", source=source, place=candidate.place)
        raise LedgerError(f"文件中没有找到台账表格（{HEADER_HINT}）", source=source)


def _release_held(held: list[Para]) -> Iterator[Para | Heading]:
    """The preamble, then the 一、… headings that end it."""
    split = len(held)
    while split > 0 and section_title(held[split - 1].text):
        split -= 1
    yield from held[:split]
    for para in held[split:]:
        yield Heading(section_title(para.text) or para.text, "")


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
    number_text = join_short(c.text for c in number_cells)
    if number_cells and number_cells[0].merge is Merge.CONTINUE:  # hidden text included
        return Continuation(_row_values(row, header, number=0))
    number = parse_number(number_text)
    if number is not None:
        return _row_values(row, header, number)
    if len(texts) == 1:
        title = section_title(texts[0])
        if title:
            return Heading(title, row.place)
        if _is_note_row(row, texts[0]):
            return Skipped(row.place, texts[0])
    if number_text:
        message = f"序号“{number_text}”不是数字"
    else:
        message = f"这一行没有序号（“{shorten(texts[0])}”）"
    raise LedgerError(message, source=source, place=row.place)


def _is_note_row(row: GridRow, text: str) -> bool:
    """A remark across the table (注：…, or one cell spanning most of the row)."""
    widest = max(c.span for c in row.cells if c.text)
    return text.startswith(("注", "备注", "说明")) or widest * 2 > row.width


def _row_values(row: GridRow, header: Header, number: int) -> RowValues:
    item_cells = header.cells(row, Field.ITEM)
    name, content = _name_and_content(header.cells(row, Field.CONTENT))
    named = join_short(c.text for c in header.cells(row, Field.NAME))
    return RowValues(
        place=row.place,
        number=number,
        item=join_short(c.text for c in item_cells),
        item_merge=item_cells[0].merge if item_cells else Merge.NONE,
        section=_section_value(header.cells(row, Field.SECTION)),
        name=named or name,
        content=content,
        indicator=join_long(p for c in header.cells(row, Field.INDICATOR) for p in c.paras),
        responsibility=_responsibility(header, row),
        due=join_short(c.text for c in header.cells(row, Field.DUE)),
        progress=[p for c in header.cells(row, Field.PROGRESS) for p in c.paras],
    )


def _section_value(cells: list[GridCell]) -> str:
    text = join_short(c.text for c in cells)
    return (section_title(text) or text) if text else ""


def _responsibility(header: Header, row: GridRow) -> str:
    """责任单位; where the form has two such columns (牵头单位 | 责任单位), both, labelled."""
    columns = [c for c in header.columns if c.field is Field.RESPONSIBILITY]
    texts = []
    for column in columns:
        cells = [c for c in row.cells if column.first <= c.column <= column.last]
        text = join_short(c.text for c in cells)
        if text and len(columns) > 1 and not RESPONSIBILITY_LABEL.match(text):
            text = f"{plain(column.header)}：{text}"
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
        return join_short(c.text for c in cells[:-1]), join_long(cells[-1].paras)
    paras = cells[0].paras if cells else []
    if len(paras) >= 2:
        first, rest = paras[0], paras[1:]
        if first.bold and not all(p.bold for p in rest):
            return join_short([first.text]), join_long(rest)
        if not any(p.bold for p in paras) and _looks_like_name(first.text):
            return join_short([first.text]), join_long(rest)
    if paras and paras[0].bold_head and len(paras[0].bold_head) <= _NAME_MAX:
        first = paras[0]
        tail = Para(first.plain_tail.lstrip(":： "))
        return first.bold_head, join_long([tail, *paras[1:]] if tail.text else paras[1:])
    return "", join_long(paras)


def _looks_like_name(text: str) -> bool:
    return len(text) <= _NAME_MAX and "\n" not in text and text[-1] not in PUNCTUATION
