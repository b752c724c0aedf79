"""web.uploads.sniff: what a file is, read from its own bytes, and what is not taken."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pytest

from web import uploads

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_office_files_as_word_and_excel_save_them() -> None:
    assert uploads.sniff(saved(docx.Document()), "") == uploads.DOCX
    assert uploads.sniff(saved(openpyxl.Workbook()), "x.bin") == uploads.XLSX


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("[Content_Types].xml", "ppt/presentation.xml"), uploads.PPTX),
        (("OFD.xml", "Doc_0/Document.xml"), uploads.OFD),
        # the parts may come in any order: the first one does not decide
        (("docProps/app.xml", "[Content_Types].xml", "word/document.xml"), uploads.DOCX),
    ],
)
def test_zipped_documents_by_the_parts_they_hold(parts, expected) -> None:
    assert uploads.sniff(zipped(*parts), "whatever.zip") == expected


@pytest.mark.parametrize(
    "parts",
    [
        ("现场1.jpg", "现场2.jpg"),  # an archive: it could hold anything
        ("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),  # a .docm
        ("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"),  # an .xlsm
        ("word/document.xml",),  # a name inside, but not an Office package
    ],
)
def test_archives_and_documents_with_macros_are_not_taken(parts) -> None:
    assert uploads.sniff(zipped(*parts), "报告.docx") is None


def test_a_broken_zip_is_not_taken() -> None:
    assert uploads.sniff(zipped("[Content_Types].xml", "word/document.xml")[:60], "a.docx") is None


@pytest.mark.parametrize(
    ("name", "extension", "mime"),
    [
        ("旧表.XLS", ".xls", "application/vnd.ms-excel"),
        ("汇报.ppt", ".ppt", "application/vnd.ms-powerpoint"),
        ("材料.wps", ".wps", "application/kswps"),
        ("统计.et", ".et", "application/kset"),
        ("演示.dps", ".dps", "application/ksdps"),
        ("无名", ".doc", "application/msword"),
        ("改了名.exe", ".doc", "application/msword"),
    ],
)
def test_office_97_and_wps_files_are_told_apart_by_their_name(name, extension, mime) -> None:
    found = uploads.sniff(OLE2, name)
    assert (found.kind, found.extension, found.mime) == ("document", extension, mime)
    assert uploads.safe_name(name, found, "f").lower().endswith(extension)


def test_the_file_pickers_accept_list_names_each_kind() -> None:
    offered = uploads.ACCEPTED.split(",")
    for extension in (".ofd", ".pptx", ".ppt", ".wps", ".et", ".dps", ".docx", ".heic"):
        assert extension in offered
    assert ".zip" not in offered
