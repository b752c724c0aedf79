"""The Word forms: a unit's form for a round, the blank form, and the consolidated ledger.

Every document is laid out as the office files it (docs/forms.md): A4 landscape, the plan's
title in two lines, the intro, the `填报单位：…  联系人：…  联系电话：…` line, then per 板块 a
heading (一、二、…) and its table. The columns follow the plan's layout (`FORM_COLUMNS`):

- fill-form (填报版): 序号 | 重点工作 | 主要内容 | 量化指标 | 责任单位 | 完成时限 | 进展落实情况
- division (任务分工): 序号 | 重点任务 | 具体措施 | 责任科室 | 完成时限 | 进展情况

Public API (`unit` is a unit's name or short name in `RoundData.units`; `out` is a path or a
writable binary stream):

- `unit_form_bytes(data, unit, *, only_own_tasks=False) -> bytes` — the unit's form (.docx),
  the whole plan by default as the seed prints it, or only the unit's tasks;
- `build_unit_form(...) -> docx.Document`, `write_unit_form(data, unit, out, ...)` — the same;
- `UnitFormWriter(data, *, only_own_tasks=False).render(unit) -> bytes` — for many units:
  the plan's rows are built once and each unit's answers spliced in;
- `blank_form_bytes(plan)`, `build_blank_form(plan)`, `write_blank_form(plan, out)` — the
  form with nothing filled, as the office sends it out;
- `consolidated_docx_bytes(data, *, generated_at=None)`, `build_consolidated_docx(...)`,
  `write_consolidated_docx(data, out, ...)` — the office's ledger for the round: every task
  once, its progress cell holding each answering unit's answer led by the unit's short name
  (lead units first), then the units that have not answered (未报送 / 未填写);
  `consolidated_cell_text(data, task)` gives that cell as plain text (the workbook uses it).

Text is cleaned of what Word cannot hold (`ledger.rounddata.clean_text`); every line of an
answer becomes a paragraph of its cell; nothing is shortened.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import oxml_parser
from docx.shared import Pt, RGBColor, Twips
from lxml import etree

from ledger.errors import LedgerError
from ledger.model import Item, Layout, Plan, Role, Task, section_numeral
from ledger.rounddata import (
    DRAFT_MARK,
    RoundData,
    UnitInfo,
    answer_lines,
    clean_text,
    text_lines,
)
from ledger.textfit import cell_lines, paragraph_lines

__all__ = [
    "FORM_COLUMNS",
    "FormColumn",
    "UnitFormWriter",
    "blank_form_bytes",
    "build_blank_form",
    "build_consolidated_docx",
    "build_unit_form",
    "column_widths",
    "consolidated_cell_text",
    "consolidated_docx_bytes",
    "consolidated_info_lines",
    "consolidated_paragraphs",
    "unit_form_bytes",
    "unit_line_text",
    "write_blank_form",
    "write_consolidated_docx",
    "write_unit_form",
]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
FALLBACK_FONT = "宋体"  # named as the alternative of the two official fonts in the font table
LATIN_FONT = "Times New Roman"

# A4 landscape with 2 cm margins, in twentieths of a point (twips).
PAGE_WIDTH, PAGE_HEIGHT = 16838, 11906
MARGIN = 1134
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CELL_MARGIN = 85  # left and right padding of a cell

CELL_SIZE_PT = 10.5  # 五号
LINE_HEIGHT_PT = 14.0  # cells use this exact line spacing (固定值)
BODY_HEIGHT_PT = (PAGE_HEIGHT - 2 * MARGIN) / 20  # the text area's height
# The height a row may take and still fit a page under the repeated header row.
ROW_LIMIT_PT = BODY_HEIGHT_PT - 60
# What a table row adds to its lines: the cell's top and bottom padding (28 twips each) and
# the border between rows.
ROW_PADDING_PT = 2 * 28 / 20 + 0.5
CONTINUED = "（续）"  # after a 重点工作 whose rows go on from the page before

UNIT_LINE_GAP = " " * 8

STYLE_TITLE = "Ledger Title"
STYLE_SUBTITLE = "Ledger Subtitle"
STYLE_INTRO = "Ledger Intro"
STYLE_UNIT_LINE = "Ledger Unit Line"
STYLE_INFO = "Ledger Info"
STYLE_SECTION = "Ledger Section"
STYLE_HEADER_CELL = "Ledger Header Cell"
STYLE_CELL = "Ledger Cell"
STYLE_CELL_CENTER = "Ledger Cell Center"
STYLE_FOOTER = "Ledger Footer"
STYLE_DRAFT = "Ledger Draft Mark"
DRAFT_COLOUR = "C00000"
FOOTER_SIZE_PT = 14  # 4号, as 公文 number their pages


@dataclass(frozen=True)
class _Metrics:
    """A paragraph style's size and its exact line spacing (固定值), in points: every body
    style has one, so that a page's height does not depend on which fonts are installed and
    the forms can tell where Word and LibreOffice will break the pages."""

    size: float
    line: float
    before: float = 0
    after: float = 0
    indent_chars: int = 0

    def height(self, text: str, width_twips: int = TEXT_WIDTH) -> float:
        width_em = width_twips / 20 / self.size
        lines = paragraph_lines(text, width_em, self.indent_chars)
        return self.before + lines * self.line + self.after


_METRICS = {
    STYLE_TITLE: _Metrics(22, 32),
    STYLE_SUBTITLE: _Metrics(16, 26, after=12),
    STYLE_INTRO: _Metrics(14, 24, indent_chars=2),
    STYLE_UNIT_LINE: _Metrics(14, 24, before=12, after=6),
    STYLE_INFO: _Metrics(12, 20, after=3),
    STYLE_SECTION: _Metrics(14, 24, before=9, after=6),
    STYLE_HEADER_CELL: _Metrics(11, 16),
    STYLE_CELL: _Metrics(CELL_SIZE_PT, LINE_HEIGHT_PT),
}


@dataclass(frozen=True)
class FormColumn:
    key: str  # number | item | content | indicator | responsibility | due | progress
    header: str
    weight: float  # share of the table width
    centered: bool = False


FORM_COLUMNS: dict[Layout, tuple[FormColumn, ...]] = {
    Layout.FILL_FORM: (
        FormColumn("number", "序号", 1.2, centered=True),
        FormColumn("item", "重点工作", 2.4, centered=True),
        FormColumn("content", "主要内容", 6.8),
        FormColumn("indicator", "量化指标", 3.4),
        FormColumn("responsibility", "责任单位", 2.6),
        FormColumn("due", "完成时限", 1.9, centered=True),
        FormColumn("progress", "进展落实情况", 7.4),
    ),
    Layout.DIVISION: (
        FormColumn("number", "序号", 1.2, centered=True),
        FormColumn("item", "重点任务", 3.0, centered=True),
        FormColumn("content", "具体措施", 7.2),
        FormColumn("responsibility", "责任科室", 2.5, centered=True),
        # 2023年11月底 on one line, also where LibreOffice prints digits in DejaVu (wide).
        FormColumn("due", "完成时限", 3.4, centered=True),
        FormColumn("progress", "进展情况", 8.3),
    ),
}

_LONG_TEXT_COLUMNS = frozenset({"content", "indicator", "progress"})

# A paragraph as a list of (text, bold) runs.
Segments = list[tuple[str, bool]]


def column_widths(layout: Layout) -> list[int]:
    """The width of each column of the layout in twips, summing to the text width."""
    columns = FORM_COLUMNS[layout]
    total = sum(c.weight for c in columns)
    widths = [round(TEXT_WIDTH * c.weight / total) for c in columns]
    widths[-1] += TEXT_WIDTH - sum(widths)
    return widths


def unit_line_text(unit: UnitInfo | None) -> str:
    """`填报单位：…  联系人：…  联系电话：…`; blanks for a form nobody has filled."""
    blank = " " * 12
    name = clean_text(unit.name) if unit else blank
    contact = clean_text(unit.contact) if unit and unit.contact else blank
    phone = clean_text(unit.phone) if unit and unit.phone else blank
    gap = UNIT_LINE_GAP
    return f"填报单位：{name}{gap}联系人：{contact}{gap}联系电话：{phone}"


# ---------------------------------------------------------------------------------------
# XML pieces


_W_NSMAP = {"w": nsmap["w"]}


@functools.cache
def _clark(name: str) -> str:
    return qn(name)


def _el(tag: str, **attrs: str):
    """A w: element (of python-docx's classes), made quickly: forms hold thousands."""
    attrib = {_clark(f"w:{k}"): v for k, v in attrs.items()}
    return oxml_parser.makeelement(_clark(tag), attrib=attrib, nsmap=_W_NSMAP)


def _run(text: str, bold: bool = False):
    run = _el("w:r")
    if bold:
        rpr = _el("w:rPr")
        rpr.append(_el("w:b"))
        rpr.append(_el("w:bCs"))
        run.append(rpr)
    for i, part in enumerate(text.split("\t")):
        if i:
            run.append(_el("w:tab"))
        if part:
            t = _el("w:t")
            t.text = part
            if part != part.strip():
                t.set(_clark("xml:space"), "preserve")
            run.append(t)
    return run


def _paragraph(style_id: str, segments: Segments = ()):
    p = _el("w:p")
    ppr = _el("w:pPr")
    ppr.append(_el("w:pStyle", val=style_id))
    p.append(ppr)
    for text, bold in segments:
        if text:
            p.append(_run(text, bold))
    return p


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run_xml(text: str, bold: bool) -> str:
    """The XML of `_run`, as a string (filling a unit's cells is the hot path)."""
    pieces = []
    for part in text.split("\t"):
        space = ' xml:space="preserve"' if part != part.strip() else ""
        pieces.append(f"<w:t{space}>{_xml_text(part)}</w:t>" if part else "")
    props = "<w:rPr><w:b/><w:bCs/></w:rPr>" if bold else ""
    return f"<w:r>{props}{'<w:tab/>'.join(pieces)}</w:r>"


def _paragraph_xml(style_id: str, segments: Segments) -> str:
    """The XML of `_paragraph`, as a string."""
    runs = "".join(_run_xml(text, bold) for text, bold in segments if text)
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{runs}</w:p>'


def _cell(width: int, paragraphs: Sequence, vmerge: str | None = None, middle: bool = True):
    """A cell; long texts sit at the top (`middle=False`) so a row split over pages reads on."""
    tc = _el("w:tc")
    tcpr = _el("w:tcPr")
    tcpr.append(_el("w:tcW", w=str(width), type="dxa"))
    if vmerge == "restart":
        tcpr.append(_el("w:vMerge", val="restart"))
    elif vmerge == "continue":
        tcpr.append(_el("w:vMerge"))
    tcpr.append(_el("w:vAlign", val="center" if middle else "top"))
    tc.append(tcpr)
    tc.extend(paragraphs or [_el("w:p")])
    return tc


def _row(cells: Iterable, header: bool = False, split_marker: int | None = None):
    """A row; with `split_marker` (a task number) whether it may split is decided per unit."""
    tr = _el("w:tr")
    trpr = _el("w:trPr")
    if split_marker is None:
        trpr.append(_el("w:cantSplit"))
    else:
        trpr.append(etree.Comment(f"tz:split:{split_marker}"))
    if header:
        trpr.append(_el("w:tblHeader"))
    tr.append(trpr)
    tr.extend(cells)
    return tr


def _table_element(widths: list[int]):
    tbl = _el("w:tbl")
    tblpr = _el("w:tblPr")
    tblpr.append(_el("w:tblW", w=str(sum(widths)), type="dxa"))
    tblpr.append(_el("w:jc", val="center"))
    borders = _el("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_el(f"w:{side}", val="single", sz="4", space="0", color="000000"))
    tblpr.append(borders)
    tblpr.append(_el("w:tblLayout", type="fixed"))
    margins = _el("w:tblCellMar")
    margins.append(_el("w:top", w="28", type="dxa"))
    margins.append(_el("w:left", w=str(CELL_MARGIN), type="dxa"))
    margins.append(_el("w:bottom", w="28", type="dxa"))
    margins.append(_el("w:right", w=str(CELL_MARGIN), type="dxa"))
    tblpr.append(margins)
    tblpr.append(_el("w:tblLook", val="0000", firstRow="0", lastRow="0", noHBand="1", noVBand="1"))
    tbl.append(tblpr)
    grid = _el("w:tblGrid")
    for width in widths:
        grid.append(_el("w:gridCol", w=str(width)))
    tbl.append(grid)
    return tbl


def _estimated_lines(paragraphs: Sequence[str], width: int, size: float = CELL_SIZE_PT) -> int:
    """The lines a cell `width` twips wide needs for these paragraphs (ledger.textfit)."""
    return cell_lines(paragraphs, (width - 2 * CELL_MARGIN) / 20 / size)


def _fits_page(lines: int) -> bool:
    return lines * LINE_HEIGHT_PT <= ROW_LIMIT_PT


# ---------------------------------------------------------------------------------------
# The document: page, styles, fonts


def _set_fonts(rpr, east_asian: str, latin: str = LATIN_FONT) -> None:
    """Name the fonts on every script; theme fonts would otherwise win over them."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = _el("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in list(rfonts.attrib):
        rfonts.attrib.pop(attr)
    for key in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{key}"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)
    rfonts.set(qn("w:hint"), "eastAsia")  # “” and … take the East-Asian font


def _add_style(
    document: Document,
    name: str,
    *,
    font: str,
    size: float,
    align: WD_ALIGN_PARAGRAPH | None = None,
    before: float = 0,
    after: float = 0,
    keep_next: bool = False,
    first_line_chars: int = 0,
    exact_line: float = 0,
    latin: str = LATIN_FONT,
) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(size)
    _set_fonts(style.element.get_or_add_rPr(), font, latin)
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.keep_with_next = keep_next
    if exact_line:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(exact_line)
    if align is not None:
        fmt.alignment = align
    if first_line_chars:  # in characters (Word), and in twips for readers without them
        ind = style.element.get_or_add_pPr().get_or_add_ind()
        ind.set(qn("w:firstLine"), str(round(first_line_chars * size * 20)))
        ind.set(qn("w:firstLineChars"), str(first_line_chars * 100))


def _style_id(document: Document, name: str) -> str:
    return document.styles[name].style_id


def _new_document(title: str, author: str) -> Document:
    document = docx.Document()
    _trim_package(document)
    _set_defaults(document)
    _add_styles(document)
    _prune_styles(document)
    _add_font_fallbacks(document)
    _set_language(document)
    _set_page(document)
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.comments = "taizhang"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    props.created = props.modified = now
    props.revision = 1
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return document


def _trim_package(document: Document) -> None:
    """Drop the parts of python-docx's template no form uses (they triple every file)."""
    unused = ("/stylesWithEffects", "/customXml", "/webSettings", "/thumbnail")
    for rels in (document.part.rels, document.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(unused):
                del rels[rid]
                rels.related_parts.pop(rid, None)


def _set_defaults(document: Document) -> None:
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    spacing.attrib.clear()
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)


def _metrics(name: str) -> dict:
    m = _METRICS[name]
    return {
        "size": m.size,
        "exact_line": m.line,
        "before": m.before,
        "after": m.after,
        "first_line_chars": m.indent_chars,
    }


def _add_styles(document: Document) -> None:
    center, justify = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY
    title = {"font": TITLE_FONT, "latin": TITLE_FONT, "align": center, "keep_next": True}
    _add_style(document, STYLE_TITLE, **title, **_metrics(STYLE_TITLE))
    _add_style(document, STYLE_SUBTITLE, **title, **_metrics(STYLE_SUBTITLE))
    _add_style(document, STYLE_INTRO, font=BODY_FONT, align=justify, **_metrics(STYLE_INTRO))
    _add_style(document, STYLE_UNIT_LINE, font=BODY_FONT, **_metrics(STYLE_UNIT_LINE))
    _add_style(document, STYLE_INFO, font=BODY_FONT, **_metrics(STYLE_INFO))
    section = _metrics(STYLE_SECTION)
    _add_style(document, STYLE_SECTION, font=HEADING_FONT, keep_next=True, **section)
    header = _metrics(STYLE_HEADER_CELL)
    _add_style(document, STYLE_HEADER_CELL, font=HEADING_FONT, align=center, **header)
    cell = {"font": BODY_FONT, **_metrics(STYLE_CELL)}
    _add_style(document, STYLE_CELL, align=justify, **cell)
    _add_style(document, STYLE_CELL_CENTER, align=center, **cell)
    _add_style(document, STYLE_FOOTER, font=FALLBACK_FONT, size=FOOTER_SIZE_PT, align=center)
    _add_style(document, STYLE_DRAFT, font=HEADING_FONT, size=14, align=center)
    draft = document.styles[STYLE_DRAFT].font
    draft.bold = True
    draft.color.rgb = RGBColor.from_string(DRAFT_COLOUR)


def _prune_styles(document: Document) -> None:
    """Keep the default styles and ours: python-docx's template carries hundreds."""
    styles = document.styles.element
    ours = {
        _style_id(document, n)
        for n in (
            STYLE_TITLE,
            STYLE_SUBTITLE,
            STYLE_INTRO,
            STYLE_UNIT_LINE,
            STYLE_INFO,
            STYLE_SECTION,
            STYLE_HEADER_CELL,
            STYLE_CELL,
            STYLE_CELL_CENTER,
            STYLE_FOOTER,
            STYLE_DRAFT,
        )
    }
    for child in list(styles):
        if child.tag == qn("w:latentStyles"):
            styles.remove(child)
        elif child.tag == qn("w:style"):
            keep = child.get(qn("w:default")) == "1" or child.get(qn("w:styleId")) in ours
            if not keep:
                styles.remove(child)


def _set_language(document: Document) -> None:
    """The document's settings say zh-CN (python-docx's template says ja-JP)."""
    settings = document.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is None:
        lang = _el("w:themeFontLang")
        settings.append(lang)
    for attr in list(lang.attrib):
        lang.attrib.pop(attr)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _add_font_fallbacks(document: Document) -> None:
    """The font table lists the fonts the forms use, 宋体 as the alternative of the official
    ones for machines without them; the template's others (ＭＳ 明朝, Calibri …) are dropped."""
    font_table = document.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable"
    )
    root = etree.fromstring(font_table.blob)
    for font in list(root):
        if font.get(qn("w:name")) != LATIN_FONT:
            root.remove(font)
    for name in (TITLE_FONT, BODY_FONT, HEADING_FONT, FALLBACK_FONT):
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        if name != FALLBACK_FONT:
            etree.SubElement(font, qn("w:altName"), {qn("w:val"): FALLBACK_FONT})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
        etree.SubElement(font, qn("w:family"), {qn("w:val"): "auto"})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
    font_table._blob = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", standalone=True
    )


def _set_page(document: Document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Twips(MARGIN))
    section.header_distance = section.footer_distance = Twips(567)
    footer = section.footer
    footer.is_linked_to_previous = False
    p = _styled_paragraph(footer.paragraphs[0]._p, _style_id(document, STYLE_FOOTER))
    p.append(_run("— "))
    field_ = _el("w:fldSimple", instr=" PAGE ")
    field_.append(_run("1"))
    p.append(field_)
    p.append(_run(" —"))


def _styled_paragraph(p, style_id: str):
    """The template's header or footer paragraph emptied and given our style alone (its own
    names a style the forms do not keep, which would win)."""
    for child in list(p):
        p.remove(child)
    ppr = _el("w:pPr")
    ppr.append(_el("w:pStyle", val=style_id))
    p.append(ppr)
    return p


def _mark_as_draft(document: Document) -> None:
    """草稿，未提交 in the header of every section, so that every page says it."""
    style = _style_id(document, STYLE_DRAFT)
    for section in document.sections:
        header = section.header
        header.is_linked_to_previous = False
        p = _styled_paragraph(header.paragraphs[0]._p, style)
        p.append(_run(f"【{DRAFT_MARK}】"))


# ---------------------------------------------------------------------------------------
# The skeleton: a form built once, filled per unit


_MARKER = re.compile(r"<!--tz:(unit|progress|split|item):(\d+)-->")


@dataclass
class _ItemRow:
    """A task row of a 重点工作 merged over several tasks: its cell is decided per render."""

    item: int  # the item's index in the document
    position: int  # the task's place in the item (0: the cell holding the title)
    last: bool


@dataclass
class _Layout:
    """What the pages hold, in order, to tell where they break (see _Skeleton.page_tops):
    paragraphs of known height, the unit line, tables (their header row's height) and rows."""

    blocks: list[tuple]  # ("para", height, keep_with_next) | ("unit",) | ("table", h) | ("row", n)
    static_lines: dict[int, int]  # a row's lines without its progress cell (and merged item)
    item_rows: dict[int, _ItemRow]
    item_titles: dict[int, list[str]]
    item_width: int
    progress_width: int


@dataclass
class _Skeleton:
    """A form rendered once: the package parts, and document.xml cut at the places a unit's
    data goes — the unit line, each task's progress cell, whether its row may split, and the
    重点工作 cell of an item merged over several rows — so that rendering a unit joins strings
    instead of rebuilding XML."""

    members: list[tuple[zipfile.ZipInfo, bytes]]
    document_name: str
    pieces: list[str | tuple[str, int]]  # literal XML, or (marker, task number)
    layout: _Layout
    cell_style: str
    center_style: str
    unit_line_style: str

    @classmethod
    def cut(cls, document_xml: str, **fields) -> _Skeleton:
        parts = _MARKER.split(document_xml)
        pieces: list[str | tuple[str, int]] = []
        for index in range(0, len(parts), 3):
            pieces.append(parts[index])
            if index + 2 < len(parts):
                pieces.append((parts[index + 1], int(parts[index + 2])))
        return cls(pieces=pieces, **fields)

    def render(self, unit_line: str | None, progress: dict[int, list[Segments]]) -> bytes:
        line = unit_line if unit_line is not None else unit_line_text(None)
        lines = {n: self._progress_lines(p) for n, p in progress.items() if p}
        continued = self.page_tops(line, lines)
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            marker, number = piece
            if marker == "unit":
                out.append(_paragraph_xml(self.unit_line_style, [(line, False)]))
            elif marker == "progress":
                paragraphs = progress.get(number) or [[]]
                out.extend(_paragraph_xml(self.cell_style, p) for p in paragraphs)
            elif marker == "item":
                out.append(self._item_cell(number, number in continued))
            elif _fits_page(max(self.layout.static_lines.get(number, 1), lines.get(number, 1))):
                out.append("<w:cantSplit/>")
        return self._package("".join(out).encode("utf-8"))

    def _progress_lines(self, paragraphs: list[Segments]) -> int:
        texts = ["".join(text for text, _ in segments) for segments in paragraphs]
        return _estimated_lines(texts, self.layout.progress_width)

    def page_tops(self, unit_line: str, progress_lines: dict[int, int]) -> set[int]:
        """The tasks of a merged 重点工作 whose row is the first of its item on a page, other
        than the item's first: their cell starts again, with the title and （续）.

        The pages are laid out as Word and LibreOffice lay them: paragraphs of exact line
        spacing, rows that do not split (unless taller than a page) under the header row
        repeated on every page, a heading kept with its table's first row. Text is measured
        by ledger.textfit; a merged cell's title makes its item's last row taller when the
        rows are shorter than the title.
        """
        layout = self.layout
        height = BODY_HEIGHT_PT
        y = 0.0
        tops: set[int] = set()
        kept = 0.0  # headings waiting to go with the next table's first row
        header = 0.0
        first_row = False
        mid_row = False  # a page began inside a row taller than a page
        segment = 0.0  # height of the item's rows since its cell (re)started
        for block in layout.blocks:
            kind = block[0]
            if kind in ("para", "unit"):
                if kind == "unit":
                    h, keep = _METRICS[STYLE_UNIT_LINE].height(unit_line), False
                else:
                    h, keep = block[1], block[2]
                if keep:
                    kept += h
                    continue
                if y + h > height and y > 0:
                    y = 0.0
                y += h
                continue
            if kind == "table":
                header, first_row = block[1], True
                continue
            number = block[1]
            lines = max(layout.static_lines.get(number, 1), progress_lines.get(number, 1))
            h = lines * LINE_HEIGHT_PT + ROW_PADDING_PT
            item = layout.item_rows.get(number)
            starts_cell = item is None or item.position == 0
            if item is not None and item.last:
                title = self._item_lines(item, continued=False) * LINE_HEIGHT_PT
                h = max(h, title + ROW_PADDING_PT - segment)
            if first_row:
                need = kept + header + min(h, LINE_HEIGHT_PT * 2)
                if y + need > height and y > 0:
                    y = 0.0
                y += kept + header
                kept, first_row = 0.0, False
            new_page = False
            splits = h > height - header  # taller than a page: it starts where it is
            if y + h > height and (not splits or y + LINE_HEIGHT_PT + ROW_PADDING_PT > height):
                y, new_page = header, True
            if (new_page or mid_row) and item is not None and item.position > 0:
                tops.add(number)
                starts_cell = True
            mid_row = False
            if starts_cell:
                segment = 0.0
            y += h
            segment += h
            while y > height:  # a row taller than what is left splits onto the next page
                y = header + (y - height)
                mid_row = True
        return tops

    def _item_lines(self, item: _ItemRow, continued: bool) -> int:
        lines = list(self.layout.item_titles[item.item])
        if continued and lines:
            lines[-1] += CONTINUED
        return _estimated_lines(lines, self.layout.item_width)

    def _item_cell(self, number: int, continued: bool) -> str:
        """The 重点工作 cell of a row of a merged item: the title where the merge starts (the
        item's first row, or its first row on a page, with （续）), else covered."""
        item = self.layout.item_rows[number]
        width = self.layout.item_width
        if item.position > 0 and not continued:
            props = f'<w:tcW w:w="{width}" w:type="dxa"/><w:vMerge/><w:vAlign w:val="center"/>'
            return f"<w:tc><w:tcPr>{props}</w:tcPr><w:p/></w:tc>"
        lines = list(self.layout.item_titles[item.item]) or [""]
        if continued:
            lines[-1] += CONTINUED
        paragraphs = "".join(_paragraph_xml(self.center_style, [(t, False)]) for t in lines)
        # Where the item's last row starts a page, its cell stands alone.
        restart = "" if item.last and item.position > 0 else '<w:vMerge w:val="restart"/>'
        props = f'<w:tcW w:w="{width}" w:type="dxa"/>{restart}<w:vAlign w:val="center"/>'
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{paragraphs}</w:tc>"

    def _package(self, document_xml: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
            for info, data in self.members:
                if info.filename == self.document_name:
                    data = document_xml
                package.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        return buffer.getvalue()


@dataclass
class _FormSpec:
    title: str
    subtitle: str
    intro: str
    info_lines: list[str]  # static lines under the title (the consolidated ledger's)
    has_unit_line: bool
    tasks: set[int] | None  # None: every task
    author: str
    draft: bool = False  # every page marked 草稿，未提交


def _build_skeleton(plan: Plan, spec: _FormSpec) -> _Skeleton:
    document = _new_document(spec.title, spec.author)
    if spec.draft:
        _mark_as_draft(document)
    body = document.element.body
    sect_pr = body.find(qn("w:sectPr"))
    blocks: list[tuple] = []

    def add(element, style: str | None = None, text: str = ""):
        sect_pr.addprevious(element)
        if style is not None:  # a paragraph: its height on the page
            keep = style == STYLE_SECTION
            blocks.append(("para", _METRICS[style].height(text), keep))
        return element

    def para(style: str, text: str = ""):
        segments = [(text, False)] if text else []
        return add(_paragraph(_style_id(document, style), segments), style, text)

    para(STYLE_TITLE, clean_text(spec.title))
    # Without a subtitle its paragraph stays, empty: the title style has no space after.
    para(STYLE_SUBTITLE, clean_text(spec.subtitle))
    for line in text_lines(spec.intro):
        para(STYLE_INTRO, line)
    unit_style = _style_id(document, STYLE_UNIT_LINE)
    if spec.has_unit_line:
        add(etree.Comment("tz:unit:0"))
        blocks.append(("unit",))
    for line in spec.info_lines:
        para(STYLE_INFO, clean_text(line))
    if spec.info_lines:  # room before the first heading
        para(STYLE_INFO)

    builder = _TableBuilder(document, plan.layout)
    for index, section in enumerate(plan.sections):
        items = _selected_items(section.items, spec.tasks)
        if not items:
            continue
        if section.title:
            para(STYLE_SECTION, f"{section_numeral(index)}、{clean_text(section.title)}")
        add(builder.table(items, blocks))

    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as package:
        members = [(info, package.read(info)) for info in package.infolist()]
    return _Skeleton.cut(
        _xml_bytes(document.element).decode("utf-8"),
        members=members,
        document_name=document.part.partname.lstrip("/"),
        layout=_Layout(
            blocks=blocks,
            static_lines=builder.static_lines,
            item_rows=builder.item_rows,
            item_titles=builder.item_titles,
            item_width=builder.widths[builder.item_column],
            progress_width=builder.widths[-1],
        ),
        cell_style=builder.cell_style,
        center_style=builder.center_style,
        unit_line_style=unit_style,
    )


def _selected_items(items: list[Item], tasks: set[int] | None) -> list[tuple[Item, list[Task]]]:
    chosen = []
    for item in items:
        kept = [t for t in item.tasks if tasks is None or t.number in tasks]
        if kept:
            chosen.append((item, kept))
    return chosen


class _TableBuilder:
    """Builds one 板块's table: the header row, then a row per task, 重点工作 merged.

    The 重点工作 cell of an item with several tasks is left to each render (a marker): where
    the item's rows go on over a page break, the page's first row starts the cell again with
    the title and （续）, since Word repeats the header row but not a merged cell's text.
    """

    def __init__(self, document: Document, layout: Layout):
        self.columns = FORM_COLUMNS[layout]
        self.widths = column_widths(layout)
        self.item_column = next(i for i, c in enumerate(self.columns) if c.key == "item")
        self.cell_style = _style_id(document, STYLE_CELL)
        self.center_style = _style_id(document, STYLE_CELL_CENTER)
        self.header_style = _style_id(document, STYLE_HEADER_CELL)
        self.static_lines: dict[int, int] = {}
        self.item_rows: dict[int, _ItemRow] = {}
        self.item_titles: dict[int, list[str]] = {}

    def table(self, items: list[tuple[Item, list[Task]]], blocks: list[tuple]):
        """The table element, its progress cells, row splitting and merged 重点工作 cells left
        to each unit; `blocks` gets the table's header height and its rows."""
        tbl = _table_element(self.widths)
        header = [
            _cell(w, [_paragraph(self.header_style, [(c.header, False)])])
            for c, w in zip(self.columns, self.widths, strict=True)
        ]
        tbl.append(_row(header, header=True))
        metrics = _METRICS[STYLE_HEADER_CELL]
        header_lines = max(
            _estimated_lines([c.header], w, metrics.size)
            for c, w in zip(self.columns, self.widths, strict=True)
        )
        blocks.append(("table", header_lines * metrics.line + ROW_PADDING_PT))
        for item, tasks in items:
            key = len(self.item_titles)
            self.item_titles[key] = text_lines(item.title)
            for position, task in enumerate(tasks):
                if len(tasks) > 1:
                    last = position == len(tasks) - 1
                    self.item_rows[task.number] = _ItemRow(key, position, last)
                tbl.append(self._task_row(item, task, merged=len(tasks) > 1))
                blocks.append(("row", task.number))
        return tbl

    def _task_row(self, item: Item, task: Task, merged: bool):
        cells = []
        lines = 1
        for column, width in zip(self.columns, self.widths, strict=True):
            if column.key == "progress":
                marker = etree.Comment(f"tz:progress:{task.number}")
                cells.append(_cell(width, [marker], middle=False))
                continue
            if column.key == "item" and merged:
                cells.append(etree.Comment(f"tz:item:{task.number}"))
                continue
            paragraphs = self._cell_paragraphs(column.key, item, task)
            texts = ["".join(t for t, _ in segments) for segments in paragraphs]
            lines = max(lines, _estimated_lines(texts, width))
            style = self.center_style if column.centered else self.cell_style
            elements = [_paragraph(style, segments) for segments in paragraphs]
            middle = column.key not in _LONG_TEXT_COLUMNS
            cells.append(_cell(width, elements, None, middle))
        self.static_lines[task.number] = lines
        return _row(cells, split_marker=task.number)

    @staticmethod
    def _cell_paragraphs(key: str, item: Item, task: Task) -> list[Segments]:
        if key == "number":
            return [[(str(task.number), False)]]
        if key == "item":
            return [[(line, False)] for line in text_lines(item.title)]
        if key == "content":
            name = [[(line, True)] for line in text_lines(task.name)]
            return name + [[(line, False)] for line in text_lines(task.content)]
        text = {"indicator": task.indicator, "responsibility": task.responsibility}.get(
            key, task.due_text
        )
        return [[(line, False)] for line in text_lines(text)]


# ---------------------------------------------------------------------------------------
# Public API


def _unit_form_spec(plan: Plan, tasks: set[int] | None, draft: bool = False) -> _FormSpec:
    return _FormSpec(
        title=plan.title,
        subtitle=plan.subtitle,
        intro=plan.intro,
        info_lines=[],
        has_unit_line=True,
        tasks=tasks,
        author=plan.issuer or "taizhang",
        draft=draft,
    )


class UnitFormWriter:
    """Renders the forms of many units of one round, building the plan's rows once.

    With `only_own_tasks` every unit's form holds only the tasks it answers for (and is built
    per unit, since the rows differ).
    """

    def __init__(self, data: RoundData, *, only_own_tasks: bool = False):
        self.data = data
        self.only_own_tasks = only_own_tasks
        self._whole_plan: _Skeleton | None = None

    def render(self, unit_name: str) -> bytes:
        unit = self.data.unit(unit_name)
        if self.only_own_tasks:
            tasks = self.data.tasks_of(unit.name)
            if not tasks:
                raise LedgerError(f"“{unit.label}”在本计划中没有任务")
            spec = _unit_form_spec(self.data.plan, tasks, self.data.draft)
            skeleton = _build_skeleton(self.data.plan, spec)
        else:
            if self._whole_plan is None:
                self._whole_plan = _build_skeleton(
                    self.data.plan, _unit_form_spec(self.data.plan, None, self.data.draft)
                )
            skeleton = self._whole_plan
        progress = {}
        for number in self.data.task_numbers():
            answer = self.data.answer(unit.name, number)
            if answer is not None:
                progress[number] = [[(line, False)] for line in answer_lines(answer)]
        return skeleton.render(unit_line_text(unit), progress)


def unit_form_bytes(data: RoundData, unit: str, *, only_own_tasks: bool = False) -> bytes:
    """The unit's form for the round, as .docx bytes."""
    return UnitFormWriter(data, only_own_tasks=only_own_tasks).render(unit)


def build_unit_form(data: RoundData, unit: str, *, only_own_tasks: bool = False) -> Document:
    return docx.Document(io.BytesIO(unit_form_bytes(data, unit, only_own_tasks=only_own_tasks)))


def write_unit_form(
    data: RoundData, unit: str, out: Path | str | BinaryIO, *, only_own_tasks: bool = False
) -> None:
    _write(unit_form_bytes(data, unit, only_own_tasks=only_own_tasks), out)


def blank_form_bytes(plan: Plan) -> bytes:
    """The plan's form with nothing filled in (填报单位 left blank)."""
    return _build_skeleton(plan, _unit_form_spec(plan, None)).render(None, {})


def build_blank_form(plan: Plan) -> Document:
    return docx.Document(io.BytesIO(blank_form_bytes(plan)))


def write_blank_form(plan: Plan, out: Path | str | BinaryIO) -> None:
    _write(blank_form_bytes(plan), out)


def consolidated_docx_bytes(data: RoundData, *, generated_at: dt.datetime | None = None) -> bytes:
    """The office's consolidated ledger of the round, as .docx bytes."""
    plan = data.plan
    spec = _FormSpec(
        title=plan.title,
        subtitle=f"（{data.label}汇总）",
        intro="",
        info_lines=consolidated_info_lines(data, generated_at),
        has_unit_line=False,
        tasks=None,
        author=plan.issuer or "taizhang",
        draft=data.draft,
    )
    skeleton = _build_skeleton(plan, spec)
    progress = {n: consolidated_paragraphs(data, n) for n in data.task_numbers()}
    return skeleton.render(None, progress)


def build_consolidated_docx(
    data: RoundData, *, generated_at: dt.datetime | None = None
) -> Document:
    return docx.Document(io.BytesIO(consolidated_docx_bytes(data, generated_at=generated_at)))


def write_consolidated_docx(
    data: RoundData, out: Path | str | BinaryIO, *, generated_at: dt.datetime | None = None
) -> None:
    _write(consolidated_docx_bytes(data, generated_at=generated_at), out)


def consolidated_info_lines(data: RoundData, generated_at: dt.datetime | None = None) -> list[str]:
    """The lines under the consolidated ledger's title: round, counts, who is missing."""
    reporting = data.reporting_units()
    submitted = [u for u in reporting if data.has_submitted(u.name)]
    missing = [u for u in reporting if not data.has_submitted(u.name)]
    due = data.round_due
    round_text = data.label
    if data.round_name.strip():
        round_text += f"（截止{due.year}年{due.month}月{due.day}日）"
    moment = data.local_time(generated_at or dt.datetime.now(dt.UTC))
    gap = " " * 4
    counts = gap.join(
        [
            f"应报送单位：{len(reporting)}个",
            f"已报送：{len(submitted)}个",
            f"未报送：{len(missing)}个",
        ]
    )
    if missing:
        counts += "（" + "、".join(clean_text(u.label) for u in missing) + "）"
    return [f"报送轮次：{round_text}{gap}汇总时间：{moment:%Y-%m-%d %H:%M}", counts]


def consolidated_paragraphs(data: RoundData, task: int) -> list[Segments]:
    """The paragraphs of a task's progress cell in the consolidated ledger."""
    progress = data.task_progress(task)
    paragraphs: list[Segments] = []
    for entry in progress.answered:
        lead = "（牵头）" if entry.role is Role.LEAD else ""
        label = f"{clean_text(entry.unit.label)}{lead}："
        lines = answer_lines(entry.answer) or [""]
        paragraphs.append([(label, True), (lines[0], False)])
        paragraphs.extend([(line, False)] for line in lines[1:])
    for word, units in (("未填写：", progress.left_blank), ("未报送：", progress.missing)):
        if units:
            names = "、".join(clean_text(u.label) for u in units)
            paragraphs.append([(word, True), (names, False)])
    return paragraphs


def consolidated_cell_text(data: RoundData, task: int) -> str:
    """The consolidated progress cell as plain text, one paragraph a line."""
    return "\n".join("".join(t for t, _ in p) for p in consolidated_paragraphs(data, task))


def _xml_bytes(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


def _write(payload: bytes, out: Path | str | BinaryIO) -> None:
    if isinstance(out, str | Path):
        Path(out).write_bytes(payload)
    else:
        out.write(payload)
