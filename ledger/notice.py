"""The 通报: the notice naming the units that reported a round late or not at all.

Pure: plain data in (`NoticeData`), a Word document out; no database, no Telegram. The wording
comes from a template the office edits (docs/notice.md); the default one is shipped as
`ledger/samples/notice-late.md`. The page follows GB/T 9704—2012 (党政机关公文格式):

- A4 portrait, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm
  type area), 22 lines a page at a fixed 28.95 pt (27 characters a line: see `_set_grid`);
- the masthead (发文机关标志, `版头：`) red 小标宋 centred, sized to fit one line; the document
  number (发文字号, `文号：`) two lines under it; a red rule the width of the type area under
  both, and the title two lines under the rule;
- title 2号 (22 pt) 方正小标宋简体, centred; body 3号 (16 pt) 仿宋_GB2312, first lines
  indented two characters; first-level headings 3号 黑体, second-level 3号 楷体_GB2312;
- the addressee (主送机关) flush left; the issuer's signature centred over the date, the date
  four characters from the right (the layout of a sealed document);
- page numbers `— 1 —` in 4号 (14 pt) 宋体, from a PAGE field: odd pages on the right and
  even pages on the left, one character in from the edge of the type area.

The font table names each official font's common stand-in (仿宋, 楷体, 宋体, SimHei) for
machines without it; `ledger.pdf` maps them to Noto CJK for LibreOffice.

Public API:

- `NoticeData`, `NoticeUnit` — what the notice says;
- `default_template() -> str`, `parse_template(text) -> list[Block]` (checks it: a
  `LedgerError` names the line of a mistake);
- `fill(data, template=None) -> list[Block]` — the template with the round's data in;
- `notice_text(data, template=None) -> str` — the same as plain text;
- `notice_docx_bytes(data, template=None) -> bytes` — the Word document;
- `notice_file_name(data) -> str`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import docx
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor, Twips
from lxml import etree

from ledger.errors import LedgerError
from ledger.samples import SAMPLES_DIR

__all__ = [
    "BLOCK_PLACEHOLDERS",
    "DEFAULT_TEMPLATE",
    "GROUP_LABELS",
    "PLACEHOLDERS",
    "Block",
    "NoticeData",
    "NoticeUnit",
    "default_template",
    "fill",
    "notice_docx_bytes",
    "notice_file_name",
    "notice_text",
    "parse_template",
]

DEFAULT_TEMPLATE = SAMPLES_DIR / "notice-late.md"

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# The stand-in Word takes where an official font is missing (Windows ships these).
_ALT_NAMES = {
    TITLE_FONT: "宋体",
    BODY_FONT: "仿宋",
    SUBHEADING_FONT: "楷体",
    HEADING_FONT: "SimHei",
    PAGE_NUMBER_FONT: "SimSun",
}
_SANS = {HEADING_FONT}

TITLE_PT, BODY_PT, PAGE_NUMBER_PT = 22, 16, 14  # 2号, 3号, 4号
LINE_PT = 28.95  # 225 mm of type area / 22 lines
TITLE_LINE_PT = 35.0  # a 2号 title needs more than the body's line

STYLE_TITLE = "Notice Title"
STYLE_BODY = "Notice Body"
STYLE_ADDRESSEE = "Notice Addressee"
STYLE_HEADING = "Notice Heading 1"
STYLE_SUBHEADING = "Notice Heading 2"
STYLE_SIGNATURE = "Notice Signature"
STYLE_PAGE_NUMBER = "Notice Page Number"
STYLE_MASTHEAD = "Notice Masthead"
STYLE_NUMBER = "Notice Number"
_STYLES = (
    STYLE_MASTHEAD,
    STYLE_NUMBER,
    STYLE_TITLE,
    STYLE_BODY,
    STYLE_ADDRESSEE,
    STYLE_HEADING,
    STYLE_SUBHEADING,
    STYLE_SIGNATURE,
    STYLE_PAGE_NUMBER,
)

TYPE_AREA_PT = 156 / 25.4 * 72  # the type area's width, 156 mm
MASTHEAD_MAX_PT = 42  # 初号; a long issuer's name gets smaller to fit one line
RED = RGBColor(0xFF, 0x00, 0x00)

# Unit kinds as the office groups them: townships and street offices together.
GROUPS = ("department", "town", "section")
GROUP_LABELS = {"department": "政府部门", "town": "乡镇、街道", "section": "科室"}
_GROUP_OF = {
    "department": "department",
    "township": "town",
    "street": "town",
    "section": "section",
}


def kind_group(kind: str) -> str:
    return _GROUP_OF.get(kind, "department")


# ---------------------------------------------------------------------------------------
# The data


@dataclass(frozen=True)
class NoticeUnit:
    name: str
    kind: str  # department | township | street | section
    submitted_at: dt.datetime | None = None  # the first submission, local time; None: none

    @property
    def group(self) -> str:
        return kind_group(self.kind)


@dataclass(frozen=True)
class NoticeData:
    issuer: str  # 发文机关, e.g. 银川市兴庆区人民政府办公室
    plan_title: str
    plan_year: int | None
    round_name: str  # e.g. 2023年8月10日报送
    due_date: dt.date
    issued_on: dt.date  # 成文日期
    unit_count: int  # units that answer for at least one task of the plan
    late: Sequence[NoticeUnit] = ()  # in the units directory's order
    missing: Sequence[NoticeUnit] = ()
    kinds: frozenset[str] = field(default_factory=frozenset)  # of every unit that reports
    number: str = ""  # 发文字号, e.g. 兴政办发〔2023〕12号; empty: none

    @property
    def on_time_count(self) -> int:
        return self.unit_count - len(self.late) - len(self.missing)


# ---------------------------------------------------------------------------------------
# Placeholders


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _quarter(day: dt.date) -> str:
    return "第" + "一二三四"[(day.month - 1) // 3] + "季度"


def _plan_name(data: NoticeData) -> str:
    """The plan's title without the issuer in front: 2023年政务公开工作要点任务落实台账."""
    title = data.plan_title.strip()
    if data.issuer and title.startswith(data.issuer) and len(title) > len(data.issuer):
        return title[len(data.issuer) :]
    return title


def _addressee(kinds: Iterable[str]) -> str:
    """Who the notice is sent to, as the office writes it, from the kinds of units."""
    kinds = set(kinds)
    parts = []
    towns = [
        word
        for kind, word in (("township", "各乡镇人民政府"), ("street", "街道办事处"))
        if kind in kinds
    ]
    if towns == ["街道办事处"]:
        towns = ["各街道办事处"]
    if towns:
        parts.append("、".join(towns))
    if kinds - {"township", "street", "section"}:
        parts.append("政府各部门")
    if "section" in kinds:
        parts.append("各科室")
    return "，".join(parts) or "各有关单位"


def _when(unit: NoticeUnit, due: dt.date) -> str:
    """When a late unit reported: 8月12日10时30分报送，逾期2天."""
    at = unit.submitted_at
    if at is None:
        return ""
    day = f"{at.month}月{at.day}日" if at.year == due.year else _cn_date(at.date())
    late_by = (at.date() - due).days
    after = f"，逾期{late_by}天" if late_by > 0 else ""
    return f"{day}{at.hour}时{at.minute:02d}分报送{after}"


def _names(units: Sequence[NoticeUnit]) -> str:
    return "、".join(u.name for u in units) or "无"


def _list_paragraphs(units: Sequence[NoticeUnit], due: dt.date, with_time: bool) -> list[str]:
    """One paragraph per kind of unit: 政府部门（2个）：A（…）、B（…）。"""
    if not units:
        return ["无。"]
    found = []
    for group in GROUPS:
        members = [u for u in units if u.group == group]
        if not members:
            continue
        names = [f"{u.name}（{_when(u, due)}）" if with_time else u.name for u in members]
        found.append(f"{GROUP_LABELS[group]}（{len(members)}个）：{'、'.join(names)}。")
    return found


def _values(data: NoticeData) -> dict[str, str]:
    year = data.plan_year or data.due_date.year
    return {
        "issuer": data.issuer,
        "number": data.number,
        "plan": data.plan_title,
        "plan_name": _plan_name(data),
        "year": str(year),
        "round": data.round_name,
        "due_date": _cn_date(data.due_date),
        "quarter": _quarter(data.due_date),
        "date": _cn_date(data.issued_on),
        "addressee": _addressee(data.kinds or {u.kind for u in (*data.late, *data.missing)}),
        "unit_count": str(data.unit_count),
        "on_time_count": str(data.on_time_count),
        "late_count": str(len(data.late)),
        "missing_count": str(len(data.missing)),
        "total_count": str(len(data.late) + len(data.missing)),
        "late_names": _names(data.late),
        "missing_names": _names(data.missing),
    }


PLACEHOLDERS = {
    "issuer": "发文机关（--issuer，默认为台账的印发单位），如 银川市兴庆区人民政府办公室",
    "number": "发文字号（--number），如 兴政办发〔2023〕12号；没有时所在行不出现",
    "plan": "台账（计划）的完整标题",
    "plan_name": "台账标题去掉前面的发文机关，如 2023年政务公开工作要点任务落实台账",
    "year": "台账年度，如 2023",
    "round": "本轮报送的名称，如 2023年8月10日报送",
    "due_date": "本轮截止日期，如 2023年8月10日",
    "quarter": "截止日期所在季度，如 第三季度",
    "date": "成文日期（--date，默认今天），如 2023年8月15日",
    "addressee": "主送机关，按单位类别生成，如 各乡镇人民政府、街道办事处，政府各部门",
    "unit_count": "应报送的单位数",
    "on_time_count": "按时报送的单位数",
    "late_count": "逾期报送的单位数",
    "missing_count": "未报送的单位数",
    "total_count": "逾期报送和未报送的单位数之和",
    "late_names": "逾期报送单位的名称，以顿号分隔（没有时为“无”）",
    "missing_names": "未报送单位的名称，以顿号分隔（没有时为“无”）",
}
BLOCK_PLACEHOLDERS = {
    "late_list": "逾期报送单位，按类别每类一段，注明报送时间和逾期天数（须单独成行）",
    "missing_list": "未报送单位，按类别每类一段（须单独成行）",
}


# ---------------------------------------------------------------------------------------
# The template


MASTHEAD, NUMBER, TITLE, HEADING, SUBHEADING, ADDRESSEE, PARAGRAPH, SIGNATURE, DATE = (
    "masthead",
    "number",
    "title",
    "heading",
    "subheading",
    "addressee",
    "paragraph",
    "signature",
    "date",
)
_PREFIXES = (  # longest first
    ("### ", SUBHEADING),
    ("## ", HEADING),
    ("# ", TITLE),
    ("版头：", MASTHEAD),
    ("文号：", NUMBER),
    ("主送：", ADDRESSEE),
    ("落款：", SIGNATURE),
    ("日期：", DATE),
)
_SINGLE_LINE = {MASTHEAD, NUMBER, TITLE, HEADING, SUBHEADING, ADDRESSEE, SIGNATURE, DATE}
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class Block:
    """One paragraph of the notice: its kind (title, heading, …), text, and template line."""

    kind: str
    text: str
    line: int = 0


def default_template() -> str:
    return DEFAULT_TEMPLATE.read_text(encoding="utf-8")


def _strip_comments(text: str) -> str:
    """Comments become blank, keeping the line numbers of what follows."""
    return _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def parse_template(text: str) -> list[Block]:
    """The template's paragraphs, checked: a LedgerError names the line of a mistake."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if "<!--" in _strip_comments(text):
        line = _strip_comments(text)[: _strip_comments(text).index("<!--")].count("\n") + 1
        raise LedgerError(f"通报模板第{line}行：注释“<!--”没有以“-->”结束")
    blocks: list[Block] = []
    pending: list[str] = []
    start = 0

    def flush() -> None:
        if pending:
            blocks.append(Block(PARAGRAPH, "".join(pending), start))
            pending.clear()

    for number, raw in enumerate(_strip_comments(text).split("\n"), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        kind = next((k for prefix, k in _PREFIXES if line.startswith(prefix)), None)
        if kind is None and line.startswith("#"):
            raise LedgerError(
                f"通报模板第{number}行：“#”后须有一个空格（# 标题、## 一级标题、### 二级标题）"
            )
        _check_placeholders(line, number)
        if kind is not None:
            flush()
            prefix = next(p for p, k in _PREFIXES if k == kind)
            blocks.append(Block(kind, line[len(prefix) :].strip(), number))
            continue
        block_name = _block_placeholder(line)
        if block_name:
            flush()
            blocks.append(Block(block_name, "", number))
            continue
        if not pending:
            start = number
        pending.append(line)
    flush()
    if not any(b.kind == TITLE for b in blocks):
        raise LedgerError("通报模板没有标题：以“# ”开头的一行是标题")
    return blocks


def _block_placeholder(line: str) -> str | None:
    """`late_list` for a line that is `{late_list}` (or `{ late_list }`), else None."""
    match = _PLACEHOLDER.fullmatch(line)
    name = (match.group(1) or "").strip() if match else ""
    return name if name in BLOCK_PLACEHOLDERS else None


def _check_placeholders(line: str, number: int) -> None:
    for match in _PLACEHOLDER.finditer(line):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            raise LedgerError(
                f"通报模板第{number}行：单独的“{token}”；要写花括号本身，请写成“{token * 2}”"
            )
        if name.strip() in BLOCK_PLACEHOLDERS:
            if _block_placeholder(line) is None:
                raise LedgerError(f"通报模板第{number}行：{token} 须单独成行")
            continue
        if name.strip() not in PLACEHOLDERS:
            known = "、".join("{" + n + "}" for n in (*PLACEHOLDERS, *BLOCK_PLACEHOLDERS))
            raise LedgerError(f"通报模板第{number}行：未知的占位符 {token}（可用：{known}）")


def _substitute(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values[match.group(1).strip()]

    return _PLACEHOLDER.sub(one, text)


def fill(data: NoticeData, template: str | None = None) -> list[Block]:
    """The template's paragraphs with the round's data in (the unit lists expanded)."""
    blocks = parse_template(default_template() if template is None else template)
    values = _values(data)
    filled: list[Block] = []
    for block in blocks:
        if block.kind in BLOCK_PLACEHOLDERS:
            late = block.kind == "late_list"
            units = data.late if late else data.missing
            for text in _list_paragraphs(units, data.due_date, with_time=late):
                filled.append(Block(PARAGRAPH, text, block.line))
            continue
        text = _substitute(block.text, values).strip()
        if block.kind in _SINGLE_LINE and block.kind != TITLE and not text:
            continue  # e.g. 文号：{number} without a number: no line at all
        filled.append(replace(block, text=text))
    return filled


def notice_text(data: NoticeData, template: str | None = None) -> str:
    """The notice as plain text, a paragraph a line."""
    return "\n".join(block.text for block in fill(data, template))


def notice_file_name(data: NoticeData) -> str:
    from ledger.archive import safe_filename

    return safe_filename(f"通报-{data.round_name}", "通报") + ".docx"


# ---------------------------------------------------------------------------------------
# The document


def _em(text: str) -> float:
    """The width of a text in characters of its size: Chinese 1, Latin letters and digits ½."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


def _set_fonts(rpr, east_asian: str, latin: str = LATIN_FONT) -> None:
    """Name the font of every script; a theme font would otherwise win."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    rfonts.attrib.clear()
    for key in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{key}"), latin)
    rfonts.set(qn("w:eastAsia"), east_asian)
    rfonts.set(qn("w:hint"), "eastAsia")  # “”、— and … take the Chinese font


def _add_style(
    document: Document,
    name: str,
    *,
    font: str,
    size: float,
    latin: str = LATIN_FONT,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY,
    line: float = LINE_PT,
    indent_chars: int = 0,
    keep_next: bool = False,
    grid: bool = True,
    color: RGBColor | None = None,
):
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(size)
    _set_fonts(style.element.get_or_add_rPr(), font, latin)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(line)
    fmt.keep_with_next = keep_next
    fmt.widow_control = False  # Chinese documents fill every line of the page
    if indent_chars:  # in characters (Word), and in twips for readers without them
        ind = style.element.get_or_add_pPr().get_or_add_ind()
        ind.set(qn("w:firstLine"), str(round(indent_chars * size * 20)))
        ind.set(qn("w:firstLineChars"), str(indent_chars * 100))
    if color is not None:
        style.font.color.rgb = color
    if not grid:  # off the line grid: the title and the masthead keep their own pitch
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        _insert_in_order(style.element.get_or_add_pPr(), snap)
    return style


# The order of a paragraph's and a run's properties (ECMA-376 17.3.1.26, 17.3.2.28).
_PPR_TAGS = (
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers"
    " pBdr shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE"
    " autoSpaceDN bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents"
    " suppressOverlap jc textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle"
    " rPr sectPr pPrChange"
)
_RPR_TAGS = (
    "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint"
    " noProof snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u"
    " effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
)
_SEQUENCES = {
    qn("w:pPr"): tuple(f"w:{tag}" for tag in _PPR_TAGS.split()),
    qn("w:rPr"): tuple(f"w:{tag}" for tag in _RPR_TAGS.split()),
}


def _insert_in_order(parent, child) -> None:
    """Put `child` into a run's or paragraph's properties where the schema wants it (Word is
    strict about the order), in place of one of its kind."""
    existing = parent.find(child.tag)
    if existing is not None:
        parent.remove(existing)
    sequence = _SEQUENCES[parent.tag]
    tag = next(t for t in sequence if qn(t) == child.tag)
    parent.insert_element_before(child, *sequence[sequence.index(tag) + 1 :])


def _new_document(title: str, author: str, created: dt.datetime) -> Document:
    document = docx.Document()
    _trim_package(document)
    _set_defaults(document)
    _add_styles(document)
    _prune_styles(document)
    _add_font_table(document)
    _set_page(document)
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.comments = "taizhang"
    props.created = props.modified = created
    props.revision = 1
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return document


def _trim_package(document: Document) -> None:
    """Drop the parts of python-docx's template a notice does not use."""
    unused = ("/stylesWithEffects", "/customXml", "/webSettings", "/thumbnail")
    for rels in (document.part.rels, document.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(unused):
                del rels[rid]
                rels.related_parts.pop(rid, None)


def _set_defaults(document: Document) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONT)
    rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.attrib.clear()
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)


def _add_styles(document: Document) -> None:
    center, left, right = (
        WD_ALIGN_PARAGRAPH.CENTER,
        WD_ALIGN_PARAGRAPH.LEFT,
        WD_ALIGN_PARAGRAPH.RIGHT,
    )
    _add_style(
        document,
        STYLE_MASTHEAD,
        font=TITLE_FONT,
        latin=TITLE_FONT,
        size=MASTHEAD_MAX_PT,
        align=center,
        line=MASTHEAD_MAX_PT * 1.25,
        keep_next=True,
        grid=False,
        color=RED,
    )
    _add_style(document, STYLE_NUMBER, font=BODY_FONT, size=BODY_PT, align=center, keep_next=True)
    _add_style(
        document,
        STYLE_TITLE,
        font=TITLE_FONT,
        latin=TITLE_FONT,
        size=TITLE_PT,
        align=center,
        line=TITLE_LINE_PT,
        keep_next=True,
        grid=False,
    )
    body = {"size": BODY_PT}
    _add_style(document, STYLE_BODY, font=BODY_FONT, indent_chars=2, **body)
    _add_style(document, STYLE_ADDRESSEE, font=BODY_FONT, align=left, **body)
    heading = {**body, "indent_chars": 2, "keep_next": True}
    _add_style(document, STYLE_HEADING, font=HEADING_FONT, latin=HEADING_FONT, **heading)
    _add_style(document, STYLE_SUBHEADING, font=SUBHEADING_FONT, **heading)
    _add_style(document, STYLE_SIGNATURE, font=BODY_FONT, align=right, **body)
    _add_style(
        document,
        STYLE_PAGE_NUMBER,
        font=PAGE_NUMBER_FONT,
        latin=PAGE_NUMBER_FONT,
        size=PAGE_NUMBER_PT,
        line=20,
        grid=False,
    )


def _prune_styles(document: Document) -> None:
    """Keep the default styles and ours: python-docx's template carries hundreds."""
    styles = document.styles.element
    ours = {document.styles[name].style_id for name in _STYLES}
    for child in list(styles):
        unused_style = (
            child.tag == qn("w:style")
            and child.get(qn("w:default")) != "1"
            and child.get(qn("w:styleId")) not in ours
        )
        if unused_style or child.tag == qn("w:latentStyles"):
            styles.remove(child)


def _add_font_table(document: Document) -> None:
    """Each official font with the stand-in a machine without it should take."""
    part = document.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable"
    )
    root = etree.fromstring(part.blob)
    for name, alt in _ALT_NAMES.items():
        font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
        etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt})
        etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
        family = "swiss" if name in _SANS else "roman"
        etree.SubElement(font, qn("w:family"), {qn("w:val"): family})
        etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _set_page(document: Document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(21)  # the number's dashes sit about 7 mm under the type area
    section.gutter = Mm(0)
    _set_grid(section)
    document.settings.odd_and_even_pages_header_footer = True
    one_char = Twips(PAGE_NUMBER_PT * 20)
    _page_number(document, section.footer, WD_ALIGN_PARAGRAPH.RIGHT, right=one_char)
    _page_number(document, section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, left=one_char)


def _set_grid(section) -> None:
    """22 lines a page: a line grid of 28.95 pt, as Word's 文档网格 sets it.

    No character grid, so a line holds 27 characters of 3号 (156 mm / 5.64 mm), not the
    standard's 28: LibreOffice spreads a character grid's characters two cells apart, and
    condensing the characters by 0.25 pt instead makes it drop a 、 that falls at a line's
    end (both tried, LibreOffice 7.4)."""
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.attrib.clear()
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))


def _page_number(document: Document, footer, align, *, left=0, right=0) -> None:
    """`— N —` with N a PAGE field."""
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.style = document.styles[STYLE_PAGE_NUMBER]
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.left_indent, fmt.right_indent = Twips(left), Twips(right)
    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, instruction in (("begin", None), (None, " PAGE "), ("separate", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        else:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = instruction
            run._r.append(instr)
    paragraph.add_run("1")
    end = paragraph.add_run()._r
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), "end")
    end.append(char)
    paragraph.add_run(" —")


_STYLE_OF = {
    MASTHEAD: STYLE_MASTHEAD,
    NUMBER: STYLE_NUMBER,
    TITLE: STYLE_TITLE,
    HEADING: STYLE_HEADING,
    SUBHEADING: STYLE_SUBHEADING,
    ADDRESSEE: STYLE_ADDRESSEE,
    PARAGRAPH: STYLE_BODY,
    SIGNATURE: STYLE_SIGNATURE,
    DATE: STYLE_SIGNATURE,
}


def _signature_indents(blocks: Sequence[Block]) -> dict[int, float]:
    """Right indents, in characters, of the signature and date lines: the date four
    characters from the right, each signature line centred over it (GB/T 9704 7.3.5.1)."""
    dates = [i for i, b in enumerate(blocks) if b.kind == DATE]
    date_em = _em(blocks[dates[-1]].text) if dates else 0.0
    indents = {}
    for index, block in enumerate(blocks):
        if block.kind == DATE:
            indents[index] = 4.0
        elif block.kind == SIGNATURE:
            centred = 4.0 + (date_em - _em(block.text)) / 2 if dates else 2.0
            indents[index] = max(0.0, centred)
    return indents


def _red_rule(paragraph) -> None:
    """The red line under the masthead, the width of the type area, 4 mm below the text."""
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "12"), ("space", "8"), ("color", "FF0000")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    _insert_in_order(ppr, border)


def notice_docx_bytes(
    data: NoticeData, template: str | None = None, *, created: dt.datetime | None = None
) -> bytes:
    """The 通报 as a Word document."""
    blocks = fill(data, template)
    title = "".join(b.text for b in blocks if b.kind == TITLE)
    moment = created or dt.datetime.combine(data.issued_on, dt.time())
    document = _new_document(title, data.issuer or "taizhang", moment.replace(tzinfo=None))
    indents = _signature_indents(blocks)
    heads = [i for i, b in enumerate(blocks) if b.kind in (MASTHEAD, NUMBER)]
    previous = None
    for index, block in enumerate(blocks):
        paragraph = document.add_paragraph(block.text, style=_STYLE_OF[block.kind])
        fmt = paragraph.paragraph_format
        if block.kind == MASTHEAD:
            size = min(MASTHEAD_MAX_PT, int(TYPE_AREA_PT / max(_em(block.text), 1)))
            paragraph.runs[0].font.size = Pt(size)
            fmt.line_spacing = Pt(size * 1.25)
        if block.kind == NUMBER and previous == MASTHEAD:
            fmt.space_before = Pt(LINE_PT * 2)  # 发文机关标志下空二行
        if heads and index == heads[-1]:
            _red_rule(paragraph)
        if previous in (MASTHEAD, NUMBER) and block.kind not in (MASTHEAD, NUMBER):
            fmt.space_before = Pt(LINE_PT * 2)  # 红色分隔线下空二行
        if previous == TITLE and block.kind != TITLE:
            fmt.space_before = Pt(LINE_PT)  # a line between the title and the addressee
        if block.kind in (SIGNATURE, DATE) and previous not in (SIGNATURE, DATE):
            fmt.space_before = Pt(LINE_PT * 2)  # room for the seal
            fmt.keep_with_next = True
        if block.kind == SIGNATURE:
            fmt.keep_with_next = True
        if index in indents:
            fmt.right_indent = Pt(indents[index] * BODY_PT)
        previous = block.kind
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
