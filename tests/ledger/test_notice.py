"""The 通报: the template filled with a round's late and unreported units, its mistakes named by
line, and the Word document laid out as GB/T 9704 asks."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from docx.oxml.ns import qn

from ledger.errors import LedgerError
from ledger.notice import (
    NoticeData,
    NoticeUnit,
    default_template,
    fill,
    notice_docx_bytes,
    notice_file_name,
    notice_text,
    parse_template,
)

ISSUER = "银川市兴庆区人民政府办公室"


def at(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2023, 12, day, hour, minute)


DATA = NoticeData(
    issuer=ISSUER,
    plan_title=f"{ISSUER}2023年政务公开工作要点任务落实台账",
    plan_year=2023,
    round_name="2023年12月1日报送",
    due_date=dt.date(2023, 12, 1),
    issued_on=dt.date(2023, 12, 8),
    unit_count=6,
    late=[
        NoticeUnit("兴庆区民政局", "department", at(2, 9, 30)),
        NoticeUnit("掌政镇人民政府", "township", at(4, 15, 5)),
    ],
    missing=[
        NoticeUnit("兴庆区司法局", "department"),
        NoticeUnit("凤凰北街街道办事处", "street"),
        NoticeUnit("大新镇人民政府", "township"),
    ],
    kinds=frozenset({"department", "township", "street"}),
    number="兴政办发〔2023〕12号",
)


def test_the_default_template_names_the_units_by_kind_with_when_the_late_ones_came():
    text = notice_text(DATA)
    lines = text.split("\n")
    assert lines[:3] == [
        ISSUER,
        "兴政办发〔2023〕12号",
        "关于2023年政务公开工作要点任务落实台账第四季度报送情况的通报",
    ]
    assert "各乡镇人民政府、街道办事处，政府各部门：" in lines
    assert "应报送的6个单位中，按时报送1个，逾期报送2个，未报送3个" in text
    assert "政府部门（1个）：兴庆区司法局。" in lines
    assert "乡镇、街道（2个）：凤凰北街街道办事处、大新镇人民政府。" in lines  # directory order
    assert "政府部门（1个）：兴庆区民政局（12月2日9时30分报送，逾期1天）。" in lines
    assert "乡镇、街道（1个）：掌政镇人民政府（12月4日15时05分报送，逾期3天）。" in lines
    assert lines[-2:] == [ISSUER, "2023年12月8日"]
    assert notice_file_name(DATA) == "通报-2023年12月1日报送.docx"


def test_an_empty_placeholder_line_disappears_and_an_empty_list_says_none():
    blocks = fill(
        NoticeData(**{**DATA.__dict__, "number": "", "late": []}),
        "文号：{number}\n# 通报\n\n{late_list}\n\n逾期：{late_names}；{{原样}}\n",
    )
    assert [(b.kind, b.text) for b in blocks] == [
        ("title", "通报"),
        ("paragraph", "无。"),
        ("paragraph", "逾期：无；{原样}"),
    ]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("# 标题\n\n正文{unknown}\n", ["第3行", "{unknown}", "{issuer}"]),
        ("# 标题\n<!-- 说明\n\n正文\n", ["第2行", "<!--"]),
        ("<!-- x -->\n\n正文\n", ["没有标题"]),
        ("# 标题\n正文 {late_list}\n", ["第2行", "须单独成行"]),
        ("#标题\n", ["第1行", "空格"]),
        ("# 标题\n\n\n一个 { 花括号\n", ["第4行", "{{"]),
    ],
)
def test_a_mistake_in_the_template_names_its_line(template, words):
    with pytest.raises(LedgerError) as caught:
        parse_template(template)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_the_shipped_template_parses_and_uses_both_lists():
    kinds = [block.kind for block in parse_template(default_template())]
    assert kinds[:3] == ["masthead", "number", "title"]
    assert "missing_list" in kinds and "late_list" in kinds
    assert kinds[-2:] == ["signature", "date"]


def _fonts(style) -> str:
    return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_the_document_is_a4_with_the_standard_margins_fonts_and_page_numbers():
    document = Document(io.BytesIO(notice_docx_bytes(DATA)))
    section = document.sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin)
    sizes += (section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(size.mm, 1) for size in sizes] == [210, 297, 37, 35, 28, 26]

    paragraphs = {p.text: p for p in document.paragraphs}
    title = paragraphs["关于2023年政务公开工作要点任务落实台账第四季度报送情况的通报"]
    assert _fonts(title.style) == "方正小标宋简体" and title.style.font.size.pt == 22
    body = paragraphs["乡镇、街道（2个）：凤凰北街街道办事处、大新镇人民政府。"]
    assert _fonts(body.style) == "仿宋_GB2312" and body.style.font.size.pt == 16
    heading = next(p for p in document.paragraphs if p.text.startswith("一、"))
    assert _fonts(heading.style) == "黑体"
    masthead = document.paragraphs[0]
    assert masthead.style.font.color.rgb == (0xFF, 0x00, 0x00)
    number = paragraphs["兴政办发〔2023〕12号"]
    assert number._p.pPr.find(qn("w:pBdr")) is not None  # the red line under it

    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        [paragraph] = footer.paragraphs
        xml = paragraph._p.xml
        assert "PAGE" in "".join(t.text for t in paragraph._p.iter(qn("w:instrText")))
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        assert paragraph.text == "— 1 —"
        assert paragraph.style.font.size.pt == 14 and _fonts(paragraph.style) == "宋体"
        assert paragraph.paragraph_format.alignment.name.lower() == align
