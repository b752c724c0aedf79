"""Import hygiene (issue 13, part 5): a size limit, units CSV from Chinese Excel, and files
that are not what their suffix says, each refused in plain words naming the file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from ledger.errors import LedgerError
from ledger.form_import import FileTooLarge, read_plan_docx, read_plan_file, read_report_file
from ledger.plan_yaml import load_plan
from ledger.samples import sample_path
from ledger.units import load_units

UNITS_CSV = """名称,简称,别名,类型
兴庆区医疗保障局,医保局,医疗保障局|区医保局,部门
掌政镇人民政府,掌政镇,掌政镇政府,乡镇
凤凰北街街道办事处,凤凰北街,,街道
"""
UNITS = [
    ("兴庆区医疗保障局", "医保局"),
    ("掌政镇人民政府", "掌政镇"),
    ("凤凰北街街道办事处", "凤凰北街"),
]


def docx_bytes() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- size


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    form = write(tmp_path, "plan.docx", docx_bytes())
    with pytest.raises(FileTooLarge) as caught:
        read_plan_file(form, max_bytes=1024)
    assert str(caught.value).startswith(f"{form}: 文件太大（")
    assert str(caught.value).endswith("超过导入上限 1 KB")
    assert caught.value.limit == 1024 and caught.value.size == form.stat().st_size

    with pytest.raises(FileTooLarge, match="超过导入上限 20 MB"):
        read_plan_docx(io.BytesIO(bytes(20 * 1024 * 1024 + 1)), source="big.docx")
    for path, read in (
        (sample_path("xingqing-2023.yaml"), lambda p: read_plan_file(p, max_bytes=100)),
        (sample_path("xingqing-units.yaml"), lambda p: load_units(p, max_bytes=100)),
        (form, lambda p: read_report_file(p, None, max_bytes=100)),
    ):
        with pytest.raises(FileTooLarge):
            read(path)
    assert read_plan_file(sample_path("xingqing-2023.yaml")).plan.key == "xingqing-2023"


# -- units CSV encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_a_units_csv_from_chinese_excel_is_read(tmp_path: Path, encoding: str) -> None:
    text = UNITS_CSV.replace(",", "\t") if encoding == "utf-16" else UNITS_CSV  # Unicode text
    path = write(tmp_path, "units.csv", text.encode(encoding))
    directory = load_units(path)
    assert [(u.name, u.short_name) for u in directory] == UNITS
    assert directory.get("区医保局").name == "兴庆区医疗保障局"


def test_an_undecodable_units_file_says_how_to_save_it(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "名称,类型\n".encode() + b"\x81\x20\xff\xfe\x00")
    with pytest.raises(LedgerError) as caught:
        load_units(path)
    assert str(caught.value).startswith(f"{path}: 无法识别文件的文字编码")
    assert "CSV UTF-8" in str(caught.value)


# -- files that are not what they say


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


def damaged_member(data: bytes) -> bytes:
    """A zip whose central directory is intact but one member's data is overwritten."""
    package = zipfile.ZipFile(io.BytesIO(data))
    info = package.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    broken = bytearray(data)
    broken[start : start + 40] = b"\x00" * 40
    return bytes(broken)


NOT_WHAT_THEY_SAY = {
    "renamed text": ("plan.docx", lambda: "序号,重点工作\n1,政务公开\n".encode(), "文本文件"),
    "renamed GBK text": ("plan.xlsx", lambda: "序号,重点工作\n".encode("gbk"), "文本文件"),
    "empty": ("plan.docx", lambda: b"", "文件是空的"),
    "pdf": ("plan.docx", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "这是 PDF 文件"),
    "html saved as .doc": ("plan.xlsx", lambda: b"<html><body><table>", "网页"),
    "truncated": ("plan.docx", lambda: docx_bytes()[:3000], "文件不完整"),
    "truncated xlsx": ("plan.xlsx", lambda: xlsx_bytes()[:2000], "文件不完整"),
    "xlsx named .docx": ("plan.docx", xlsx_bytes, "请把文件名改为 .xlsx"),
    "docx named .xlsx": ("plan.xlsx", docx_bytes, "请把文件名改为 .docx"),
    "plain zip": ("plan.docx", lambda: zip_of({"a.txt": b"x"}), "普通的压缩包"),
    "odt": (
        "plan.docx",
        lambda: zip_of({"mimetype": b"application/vnd.oasis.opendocument.text"}),
        "OpenDocument文本",
    ),
    "docx without its document": (
        "plan.docx",
        lambda: _without(docx_bytes(), "word/document.xml"),
        "文件不完整（缺少文档的必需部分）",
    ),
    "damaged member": ("plan.docx", lambda: damaged_member(docx_bytes()), "文件已损坏"),
}


def _without(data: bytes, name: str) -> bytes:
    package = zipfile.ZipFile(io.BytesIO(data))
    return zip_of({n: package.read(n) for n in package.namelist() if n != name})


@pytest.mark.parametrize("case", list(NOT_WHAT_THEY_SAY))
def test_a_file_that_is_not_a_form_says_so_in_plain_words(tmp_path: Path, case: str) -> None:
    name, make, expected = NOT_WHAT_THEY_SAY[case]
    path = write(tmp_path, name, make())
    with pytest.raises(LedgerError) as caught:
        read_plan_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    for technical in ("KeyError", "BadZipFile", "XMLSyntaxError", "Error", "zlib"):
        assert technical not in message


def test_a_filled_form_that_is_not_a_docx_says_so(tmp_path: Path) -> None:
    plan = load_plan(sample_path("yibao-2023.yaml"))
    path = write(tmp_path, "医保局.docx", xlsx_bytes())
    with pytest.raises(LedgerError, match=r"这是Excel工作簿（\.xlsx），只是后缀为 \.docx"):
        read_report_file(path, plan)
