"""Damaged Word and Excel files make the readers raise LedgerError, never anything else.

Each example takes a small valid file and damages it one of three ways: bytes of the package
changed or cut off; one XML part of the package edited as text (tokens that matter to the
reader, such as w:vMerge, w:gridSpan, mergeCell, inserted at tag boundaries, or slices
deleted); or the XML tree of the main part rearranged (elements deleted, duplicated, moved,
attributes and texts replaced), which keeps the XML well-formed so the damage reaches the
reader's own table logic rather than stopping in the parser. Derandomized, so a run is
repeatable and a failure comes back on every run.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ledger.errors import LedgerError
from ledger.form_import import read_filled_form_docx, read_plan_docx, read_plan_xlsx
from ledger.model import Plan
from ledger.plan_yaml import load_plan
from ledger.report import load_report
from ledger.samples import sample_path
from tests.ledger.shapes import district_docx, district_xlsx
from tests.ledger.test_form_import import sample_xlsx, seed_like_docx

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def first_section_plan() -> Plan:
    """The 兴庆区 plan cut to its first 板块: tasks 1–8, merged items, named tasks."""
    plan = load_plan(sample_path("xingqing-2023"))
    plan.sections = plan.sections[:1]
    return plan


BASE_PLAN = first_section_plan()
BASE_DOCX = seed_like_docx(BASE_PLAN, load_report(sample_path("xingqing-2023-yibao-report")))
BASE_XLSX = sample_xlsx()
DOCX_MAIN = "word/document.xml"
XLSX_MAIN = "xl/worksheets/sheet2.xml"  # the 台账 sheet; sheet1 is the 说明 sheet

DOCX_TOKENS = [
    b"<w:vMerge/>",
    b'<w:vMerge w:val="restart"/>',
    b'<w:gridSpan w:val="3"/>',
    b'<w:gridSpan w:val="x"/>',
    b'<w:gridSpan w:val="99999999999999"/>',
    b'<w:gridBefore w:val="2"/>',
    b"<w:hMerge/>",
    b"<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>",
    b"<w:tr><w:tc><w:p/></w:tc></w:tr>",
    b"</w:tc>",
    b"</w:tr>",
    b"<w:tbl>",
    b"<w:b/>",
    b"<w:br/>",
    "<w:t>序号</w:t>".encode(),
    "<w:t>一、板块</w:t>".encode(),
    "<w:t>填报单位：某局</w:t>".encode(),
    b"\x00",
    b"&bogus;",
    b"<!-- c -->",
    b"<?pi x?>",
]
XLSX_TOKENS = [
    b'<mergeCell ref="A1:XFD1048576"/>',
    b'<mergeCell ref="B2:B9"/>',
    b'<mergeCells count="1"><mergeCell ref="A3:Z3"/></mergeCells>',
    b'<c r="XFD1048576"><v>1</v></c>',
    b'<c r="A3" t="s"><v>9999</v></c>',
    b'<c r="B4" t="e"><v>#N/A</v></c>',
    b'<c r="C4" t="b"><v>1</v></c>',
    b'<c r="D4"><v>45000.5</v></c>',
    b'<c r="A0"><v>1</v></c>',
    b't="inlineStr"',
    b'<row r="0">',
    b"</row>",
    "<si><t>序号</t></si>".encode(),
    b"\x00",
    b"&bogus;",
]
ATTRIBUTE_VALUES = ["0", "-1", "2", "restart", "continue", "x", "99999", "", "A1:C3", "true"]
TEXT_VALUES = ["序号", "一、标题", "1", "", "重点工作", "主要内容", "进展落实情况", "填报单位："]


def package_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


def repack(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members:
            package.writestr(name, content)
    return buffer.getvalue()


def byte_damage(base: bytes) -> st.SearchStrategy[bytes]:
    """Bytes overwritten, inserted or the file cut short."""
    edits = st.lists(
        st.tuples(st.integers(0, len(base) - 1), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=6,
    )

    def overwrite(changes: list[tuple[int, bytes]]) -> bytes:
        data = bytearray(base)
        for at, chunk in changes:
            data[at : at + len(chunk)] = chunk
        return bytes(data)

    cut = st.integers(0, len(base) - 1).map(lambda at: base[:at])
    return st.one_of(edits.map(overwrite), cut)


@st.composite
def part_text_damage(draw: st.DrawFn, base: bytes, tokens: list[bytes]) -> bytes:
    """One XML part of the package edited as text, or dropped."""
    members = package_members(base)
    index = draw(st.integers(0, len(members) - 1))
    name, content = members[index]
    if draw(st.integers(0, 9)) == 0:
        return repack(members[:index] + members[index + 1 :])
    boundaries = [i for i, byte in enumerate(content) if byte == ord("<")] or [0]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.sampled_from(boundaries))
        at = min(at, len(content))
        removed = draw(st.integers(0, 40))
        inserted = draw(st.sampled_from([b"", *tokens]))
        content = content[:at] + inserted + content[at + removed :]
    members[index] = (name, content)
    return repack(members)


@st.composite
def tree_damage(draw: st.DrawFn, base: bytes, part: str) -> bytes:
    """The main part's XML tree rearranged; it stays well-formed."""
    members = package_members(base)
    index = next(i for i, (name, _) in enumerate(members) if name == part)
    root = etree.fromstring(members[index][1])
    for _ in range(draw(st.integers(1, 5))):
        elements = list(root.iter())
        target = elements[draw(st.integers(0, len(elements) - 1))]
        other = elements[draw(st.integers(0, len(elements) - 1))]
        operation = draw(st.sampled_from(["delete", "duplicate", "move", "attribute", "text"]))
        apply_tree_edit(draw, root, target, other, operation)
    members[index] = (part, etree.tostring(root))
    return repack(members)


def apply_tree_edit(draw: st.DrawFn, root, target, other, operation: str) -> None:
    parent = target.getparent()
    if operation == "delete" and parent is not None:
        parent.remove(target)
    elif operation == "duplicate" and parent is not None:
        target.addnext(etree.fromstring(etree.tostring(target)))
    elif operation == "move" and parent is not None and target not in other.iterancestors():
        if other is not target:
            other.append(target)
    elif operation == "attribute":
        names = list(target.attrib) or [
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val"
        ]
        target.set(draw(st.sampled_from(names)), draw(st.sampled_from(ATTRIBUTE_VALUES)))
    elif operation == "text":
        target.text = draw(st.sampled_from(TEXT_VALUES))


def damaged(base: bytes, tokens: list[bytes], main_part: str) -> st.SearchStrategy[bytes]:
    tree = tree_damage(base, main_part)  # twice as likely: it reaches the table logic
    return st.one_of(byte_damage(base), part_text_damage(base, tokens), tree, tree)


def only_ledger_errors(read: Callable[[], object]) -> None:
    try:
        read()
    except LedgerError as err:
        assert err.source, "the error names the file"


def test_the_undamaged_files_read() -> None:
    """The fuzzing starts from files the readers accept, so damage is what it tests."""
    plan = read_plan_docx(io.BytesIO(BASE_DOCX)).plan
    assert [t.number for t in plan.tasks()] == list(range(1, 9))
    assert [a.task for a in read_filled_form_docx(io.BytesIO(BASE_DOCX), plan).answers] == [
        1,
        3,
        6,
    ]
    assert len(list(read_plan_xlsx(io.BytesIO(BASE_XLSX)).plan.tasks())) == 4


@FUZZ
@given(data=damaged(BASE_DOCX, DOCX_TOKENS, DOCX_MAIN))
def test_plan_docx_reader_raises_only_ledger_error(data: bytes) -> None:
    only_ledger_errors(lambda: read_plan_docx(io.BytesIO(data), source="fuzz.docx"))


@FUZZ
@given(data=damaged(BASE_DOCX, DOCX_TOKENS, DOCX_MAIN))
def test_filled_form_reader_raises_only_ledger_error(data: bytes) -> None:
    only_ledger_errors(
        lambda: read_filled_form_docx(io.BytesIO(data), BASE_PLAN, source="fuzz.docx")
    )


@FUZZ
@given(data=damaged(BASE_XLSX, XLSX_TOKENS, XLSX_MAIN))
def test_plan_xlsx_reader_raises_only_ledger_error(data: bytes) -> None:
    only_ledger_errors(lambda: read_plan_xlsx(io.BytesIO(data), source="fuzz.xlsx"))


SHAPES_FUZZ = settings(FUZZ, max_examples=50)
SHAPE_DOCX = district_docx()
SHAPE_XLSX = district_xlsx()


@SHAPES_FUZZ
@given(data=damaged(SHAPE_DOCX, DOCX_TOKENS, DOCX_MAIN))
def test_other_offices_docx_damaged_raises_only_ledger_error(data: bytes) -> None:
    """A notice, headings of two levels, no 序号, merged unit cells (tests/ledger/shapes.py)."""
    only_ledger_errors(lambda: read_plan_docx(io.BytesIO(data), source="fuzz.docx"))


@SHAPES_FUZZ
@given(data=damaged(SHAPE_XLSX, XLSX_TOKENS, "xl/worksheets/sheet1.xml"))
def test_other_offices_xlsx_damaged_raises_only_ledger_error(data: bytes) -> None:
    only_ledger_errors(lambda: read_plan_xlsx(io.BytesIO(data), source="fuzz.xlsx"))
