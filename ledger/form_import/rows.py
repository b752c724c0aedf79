"""Row events: the document as paragraphs, headings, header rows and task rows, in order."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ledger.errors import LedgerError
from ledger.form_import.grid import (
    Block,
    GridCell,
    GridRow,
    GridTable,
    Merge,
    Para,
    join_long,
)
from ledger.form_import.header import HEADER_HINT, Column, Field, Header, Recogniser
from ledger.form_import.text import (
    PUNCTUATION,
    RESPONSIBILITY_LABEL,
    deadlines_in_text,
    heading,
    join_short,
    join_units,
    leading_number,
    numeral_level,
    parse_number,
    plain,
    section_title,
    shorten,
)


@dataclass
class RowValues:
    """What one task row says, column by column."""

    place: str
    number: int | None  # None: the table gives none; the builder numbers in order
    number_from: str = "column"  # column | text (1.… opening the text) | "" (none)
    item: str = ""
    item_merge: Merge = Merge.NONE
    item_is_task_text: bool = False  # the item column is a 工作任务 column: per-task text
    section: str = ""
    name: str = ""
    content: str = ""
    indicator: str = ""
    responsibility: str = ""
    due: str = ""
    due_from_text: bool = False  # no 完成时限 column: the deadlines named in the text
    progress: list[Para] = field(default_factory=list)


@dataclass
class Heading:
    title: str
    place: str
    level: int = 1  # 1: 一、… (板块); 2: （一）… (a group of tasks)


@dataclass
class Continuation:
    """A row under a task whose 序号 cell is merged down over it: more of the same task."""

    values: RowValues


@dataclass
class Skipped:
    place: str
    text: str


Event = Para | Heading | RowValues | Continuation | Skipped | Header


class FormNotRecognised(LedgerError):
    """No ledger table in the file; `tables` says what the reader saw in each table."""

    def __init__(self, message: str, *, source: str, place: str | None = None, tables: list[dict]):
        super().__init__(message, source=source, place=place)
        self.tables = tables

    def located(self, source: str) -> LedgerError:
        return FormNotRecognised(self.message, source=source, place=self.place, tables=self.tables)


_SAMPLE_ROWS = 8


def events(
    blocks: list[Block], source: str, recogniser: Recogniser | None = None
) -> Iterator[Event]:
    """Paragraphs, headings, header rows and task rows of the document, in order.

    Until the first header row, paragraphs and table rows are held back: the 一、… and （一）…
    headings just before it (as paragraphs or full-width rows) open sections, the rest is
    preamble (a notice, title, intro, the 填报单位 line, perhaps in a layout table). A table
    without a header row after one was seen continues with the columns last seen.
    """
    recogniser = recogniser or Recogniser()
    header: Header | None = None
    candidates: list[GridRow] = []
    held: list[Para] = []
    for block in blocks:
        if isinstance(block, Para):
            if header is None:
                held.append(block)
            else:
                found = heading(block.text)
                yield Heading(found[1], "", found[0]) if found else block
            continue
        rows = block.rows
        index = 0
        while index < len(rows):
            row = rows[index]
            found_header = recogniser.read(row, rows[index + 1 : index + 1 + _SAMPLE_ROWS])
            if found_header:
                found_header.table = block.name
                if index + 1 < len(rows):
                    refined = recogniser.refine(found_header, rows[index + 1])
                    if refined:
                        found_header, index = refined, index + 1
                if header is None:
                    yield from _release_held(held)
                header = found_header
                yield header
            elif header is None:
                if recogniser.candidate(row):
                    candidates.append(row)
                held.extend(_row_paragraphs(row))
            else:
                event = _row_event(row, header, source)
                if event:
                    yield event
            index += 1
    if header is None:
        raise _not_found(blocks, candidates, source, recogniser)


def _not_found(
    blocks: list[Block], candidates: list[GridRow], source: str, recogniser: Recogniser
) -> FormNotRecognised:
    tables = [_table_summary(b, recogniser) for b in blocks if isinstance(b, GridTable)]
    seen = "；".join(
        f"{t['table']}（{t['rows']}行）{'表头' if t['header_like'] else '首行'}："
        f"{' | '.join(shorten(c, 12) for c in t['cells']) or '（空）'}"
        for t in tables[:6]
    )
    if candidates:
        row = candidates[0]
        missing = "、".join(recogniser.missing(row))
        summary = _table_summary_of_row(row, recogniser)
        named = "，".join(f"{h}={r}" for h, r in summary["recognised"].items()) or "无"
        message = (
            f"表格缺少列：{missing}（表头：{' | '.join(summary['cells'])}；认出：{named}）"
            "；可用 --columns 表头=角色 指定"
        )
        return FormNotRecognised(message, source=source, place=row.place, tables=tables)
    message = f"文件中没有找到台账表格（{HEADER_HINT}）"
    if tables:
        message += (
            f"；文件中的表格：{seen}；没有一行能认作表头（缺少任务内容列，或认出的列不足两列）"
        )
        message += "；表头用词不同时可用 --columns 表头=角色 指定，如 --columns 事由=content"
    else:
        message += "；文件中没有表格"
    return FormNotRecognised(message, source=source, tables=tables)


def _table_summary(table: GridTable, recogniser: Recogniser) -> dict:
    rows = [r for r in table.rows if r.distinct_texts()]
    shown = next((r for r in rows[:20] if recogniser.candidate(r)), rows[0] if rows else None)
    summary = (
        _table_summary_of_row(shown, recogniser)
        if shown
        else {"cells": [], "recognised": {}, "row": ""}
    )
    missing = recogniser.missing(shown) if shown is not None else []
    return {
        "table": table.name,
        "rows": len(table.rows),
        "header_like": bool(shown is not None and recogniser.candidate(shown)),
        "missing": missing,
        **summary,
    }


def _table_summary_of_row(row: GridRow, recogniser: Recogniser) -> dict:
    cells = [c.text for c in row.cells if c.text]
    recognised = {}
    for index, cell in enumerate(row.cells, start=1):
        match = recogniser._match(cell, index)
        if cell.text and match:
            recognised[cell.text] = match.field.value
    return {"cells": cells, "recognised": recognised, "row": row.place}


def _release_held(held: list[Para]) -> Iterator[Para | Heading]:
    """The preamble, then the 一、… / （一）… headings that end it."""
    split = len(held)
    while split > 0 and heading(held[split - 1].text):
        split -= 1
    yield from held[:split]
    for para in held[split:]:
        level, title = heading(para.text) or (1, para.text)
        yield Heading(title, "", level)


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
    if number_cells and number_cells[0].merge is Merge.CONTINUE:
        return Continuation(_row_values(row, header, None, inherit=False))
    number_text = join_short(c.text for c in number_cells)
    number = parse_number(number_text)
    if number is None and number_text:
        level = numeral_level(number_text)
        others = [t for t in texts if t != number_text]
        if level and len(others) == 1:  # 一 | 推进决策公开 (the title across the rest of the row)
            return Heading(join_short([others[0]]), row.place, level)
    if number is None and len(texts) == 1:
        found = heading(texts[0])
        if found:
            return Heading(found[1], row.place, found[0])
        if _is_note_row(row, texts[0], header):
            return Skipped(row.place, texts[0])
    values = _row_values(row, header, number, inherit=True)
    if values.number is None:
        if number_text:
            message = f"序号“{number_text}”不是数字"
            raise LedgerError(message, source=source, place=row.place)
        if header.has(Field.NUMBER):
            message = f"这一行没有序号（“{shorten(texts[0])}”）"
            raise LedgerError(message, source=source, place=row.place)
        if not values.content:
            return Skipped(row.place, texts[0])
    return values


def _is_note_row(row: GridRow, text: str, header: Header) -> bool:
    """A remark across the table (注：…, or one cell spanning most of the row)."""
    if text.startswith(("注", "备注", "说明")):
        return True
    widest = max(c.span for c in row.cells if c.text)
    if widest * 2 > row.width:
        return True
    if header.has(Field.NUMBER):
        return False  # in a numbered table, a lone text is a task without its 序号
    content = header.cells(row, Field.CONTENT) + header.cells(row, Field.ITEM)
    return not any(c.text == text for c in content)


Pick = Callable[[GridCell], list[Para]]


def _row_values(row: GridRow, header: Header, number: int | None, *, inherit: bool) -> RowValues:
    """The row's values; with `inherit`, a vertically merged cell gives each row its value."""

    def pick(cell: GridCell) -> list[Para]:
        return cell.value if inherit else cell.paras

    def short(fld: Field) -> str:
        return join_short(p.text for c in header.cells(row, fld) for p in pick(c))

    number_from = "column" if number is not None else ""
    content_cells = header.cells(row, Field.CONTENT)
    item_cells = header.cells(row, Field.ITEM)
    if number is None:  # 工作任务 over a number column and a text column
        for cells in (item_cells, content_cells):
            spanned = _spanned_number(cells, pick)
            if spanned is not None:
                number, number_from = spanned, "column"
                cells.pop(0)
                break
    name, content = _name_and_content(content_cells, pick)
    item = join_short(p.text for c in item_cells for p in pick(c))
    item_is_task_text = any(c.task_word for c in header.of(Field.ITEM))
    name = short(Field.NAME) or name
    if number is None:
        number, item, name, content = _number_from_text(item, name, content, item_is_task_text)
        number_from = "text" if number is not None else ""
    if not content and name:
        name, content = "", name
    if not content and item and item_is_task_text:
        content = item  # 工作任务 | 工作要求 with the requirement left empty
    due = short(Field.DUE)
    due_from_text = False
    if not header.has(Field.DUE):
        due = deadlines_in_text(item if item_is_task_text else "", name, content)
        due_from_text = bool(due)
    return RowValues(
        place=row.place,
        number=number,
        number_from=number_from,
        item=item,
        item_merge=item_cells[0].merge if item_cells else Merge.NONE,
        item_is_task_text=item_is_task_text,
        section=_section_value(short(Field.SECTION)),
        name=name,
        content=content,
        indicator=join_long(p for c in header.cells(row, Field.INDICATOR) for p in pick(c)),
        responsibility=_responsibility(header, row, pick),
        due=due,
        due_from_text=due_from_text,
        progress=[p for c in header.cells(row, Field.PROGRESS) for p in pick(c)],
    )


def _spanned_number(cells: list[GridCell], pick: Pick) -> int | None:
    if len(cells) < 2:
        return None
    first = join_short(p.text for p in pick(cells[0]))
    return parse_number(first) if first else None


def _number_from_text(
    item: str, name: str, content: str, item_is_task_text: bool
) -> tuple[int | None, str, str, str]:
    """1.主动公开… : the number the task's text opens with, taken off the text."""
    if item_is_task_text and (found := leading_number(item)):
        return found[0], found[1], name, content
    if found := leading_number(name):
        return found[0], item, found[1], content
    if found := leading_number(content):
        return found[0], item, name, found[1]
    return None, item, name, content


def _section_value(text: str) -> str:
    if not text:
        return ""
    found = heading(text)
    return found[1] if found else (section_title(text) or text)


_PARSER_LABEL = re.compile(r"^(?:牵头|责任|配合|协办|协助)(?:单位|部门|科室)$")


def _responsibility(header: Header, row: GridRow, pick: Pick) -> str:
    """牵头单位 and 责任单位: one column as written; several (or a 牵头 one), each labelled
    so that ledger.responsibility reads who leads: `牵头单位：…，配合单位：…`."""
    columns = sorted(header.of(Field.LEAD) + header.of(Field.RESPONSIBLE), key=lambda c: c.first)
    texts = []
    for column in columns:
        cells = header.cells_of(row, column)
        text = join_units(p.text for c in cells for p in pick(c))
        labelled = len(columns) > 1 or column.field is Field.LEAD
        if text and labelled and not RESPONSIBILITY_LABEL.match(text):
            text = f"{_label(column)}：{text}"
        if text:
            texts.append(text)
    return "，".join(texts)


def _label(column: Column) -> str:
    words = plain(column.header)
    if _PARSER_LABEL.match(words) and (words.startswith("牵头") == (column.field is Field.LEAD)):
        return words
    return "牵头单位" if column.field is Field.LEAD else "责任单位"


_NAME_MAX = 40


def _name_and_content(cells: Sequence[GridCell], pick: Pick) -> tuple[str, str]:
    """A task's short name and its content, from the cell(s) under 主要内容.

    Under a 主要内容 header spanning two grid columns the name has a cell of its own (seed
    000); otherwise the name, when there is one, is the content cell's first paragraph: bold
    above plain text, or short and without final punctuation above more text; or a bold
    beginning of the first paragraph.
    """
    cells = [c for c in cells if c.merge is not Merge.CONTINUE or pick(c)]
    if len(cells) > 1:
        name = join_short(p.text for c in cells[:-1] for p in pick(c))
        return name, join_long(pick(cells[-1]))
    paras = pick(cells[0]) if cells else []
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
