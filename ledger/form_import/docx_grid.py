"""DOCX → blocks: the body's paragraphs and tables, merged cells read from the XML (w:gridSpan,
w:vMerge, legacy w:hMerge and w:gridBefore), through content controls and revisions."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from ledger.errors import LedgerError
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
from ledger.form_import.text import clean_lines

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_W_P, _W_TBL, _W_TR, _W_TC, _W_R = (f"{_W}{t}" for t in ("p", "tbl", "tr", "tc", "r"))
_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML = (f"{_W}{t}" for t in ("sdt", "sdtContent", "customXml"))
# Containers whose children stand in for their own: content controls and custom XML.
_TRANSPARENT = {_W_SDT, _W_SDT_CONTENT, _W_CUSTOM_XML}
# Not shown as text: deleted revisions and the fallback copy of alternate content.
_HIDDEN = {f"{_W}del", f"{_W}moveFrom", _MC_FALLBACK, _W_P, _W_TBL}
_MAX_SPAN = 64


def docx_blocks(data: bytes, source: str) -> list[Block]:
    check_zip(data, source, "Word", ".docx")
    try:
        import docx  # python-docx

        body = docx.Document(io.BytesIO(data)).element.body
    except Exception as err:  # python-docx and lxml raise many types on damaged packages
        raise open_failure("Word", ".docx", source, err) from None
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
    fill_vertical_merges(rows)
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
    text = clean_lines("".join(t for t, _ in runs))
    if not text:
        return None
    plain_at = next((i for i, (t, bold) in enumerate(runs) if not bold and t.strip()), None)
    head = tail = ""
    if plain_at is not None:
        head = clean_lines("".join(t for t, _ in runs[:plain_at]))
        tail = clean_lines("".join(t for t, _ in runs[plain_at:])) if head else ""
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
