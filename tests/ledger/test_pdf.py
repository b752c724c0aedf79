"""PDF through LibreOffice: landscape pages where it is installed, a clear message where not."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from ledger import pdf
from ledger.docx_forms import write_unit_form
from ledger.errors import LedgerError
from ledger.plan_yaml import load_plan
from ledger.report import load_report
from ledger.rounddata import RoundData, UnitInfo
from ledger.samples import sample_path

REQUIRED = (
    os.environ.get("TAIZHANG_REQUIRE_SERVICES") == "1"
    and os.environ.get("TAIZHANG_REQUIRE_OFFICE") == "1"
)


def page_sizes(payload: bytes) -> list[tuple[float, float]]:
    """Width and height of every page's MediaBox, in points."""
    boxes = re.findall(
        rb"/MediaBox\s*\[\s*([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)\s+([\d.\-]+)", payload
    )
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def test_the_filled_form_converts_to_landscape_pages(tmp_path):
    if not pdf.office_available():
        if REQUIRED:
            pytest.fail("LibreOffice (soffice) is required here but not installed")
        pytest.skip("LibreOffice (soffice) not installed")
    plan = load_plan(sample_path("xingqing-2023"))
    report = load_report(sample_path("xingqing-2023-yibao-report"))
    data = RoundData.for_report(
        plan, report, UnitInfo("兴庆区医疗保障局", "医保局", "周琪", "8616234")
    )
    source = tmp_path / "医保局.docx"
    write_unit_form(data, "医保局", source)
    result = pdf.docx_to_pdf(source, tmp_path / "out")
    assert result == tmp_path / "out" / "医保局.pdf"
    sizes = page_sizes(result.read_bytes())
    assert len(sizes) > 2
    for width, height in sizes:
        assert width > height
        assert (round(width), round(height)) == (842, 595)  # A4


def test_without_libreoffice_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    source = tmp_path / "form.docx"
    source.write_bytes(b"PK")
    with pytest.raises(LedgerError, match="未安装 LibreOffice") as caught:
        pdf.docx_to_pdf(source)
    assert "apt-get install" in str(caught.value)
    assert not list(tmp_path.glob("*.pdf"))


def test_a_missing_source_is_named(tmp_path):
    with pytest.raises(LedgerError, match="找不到要转换的文件"):
        pdf.docx_to_pdf(tmp_path / "nothing.docx")


def test_a_failed_conversion_is_a_ledger_error(tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "find_office", lambda: str(fake))
    source = tmp_path / "broken.docx"
    source.write_bytes(b"not a docx")
    message = re.escape("未能把“broken.docx”转换为 PDF：Error: source file")
    with pytest.raises(LedgerError, match=message):
        pdf.docx_to_pdf(source)


def test_a_conversion_that_hangs_times_out(tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")  # a child that outlives a plain kill
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "find_office", lambda: str(fake))
    source = tmp_path / "slow.docx"
    source.write_bytes(b"PK")
    started = time.monotonic()
    with pytest.raises(LedgerError, match="超时"):
        pdf.docx_to_pdf(source, timeout=0.5)
    assert time.monotonic() - started < 10  # the whole process group was ended
