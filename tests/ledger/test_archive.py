"""The round archive: members, manifest hashes, evidence names, progress, streaming."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tracemalloc
import zipfile

import docx
import pytest

from ledger.archive import (
    CONSOLIDATED_DOCX,
    CONSOLIDATED_XLSX,
    MANIFEST,
    safe_filename,
    write_round_archive,
)
from ledger.model import Item, Layout, Plan, Role, Section, Task
from ledger.report import Answer
from ledger.rounddata import EvidenceFile, RoundData, UnitInfo

MOMENT = dt.datetime(2023, 12, 2, 2, 30, tzinfo=dt.UTC)


def plan() -> Plan:
    tasks = [Task(1, "内容一", name="任务甲"), Task(2, "内容二"), Task(3, "内容三")]
    return Plan("small", "测试计划", Layout.FILL_FORM, [Section("板块", [Item("重点", tasks)])])


def round_data(tmp_path, units: int = 3) -> RoundData:
    infos = [UnitInfo(f"测试单位{i}", f"单位{i}") for i in range(units)]
    infos.append(UnitInfo("无任务单位", "闲"))
    stored = tmp_path / "stored.bin"
    stored.write_bytes(b"%PDF-1.7 evidence" * 1000)
    return RoundData(
        plan=plan(),
        round_name="第二次报送",
        round_due=dt.date(2023, 12, 1),
        units=infos,
        assignments={n: [(u.name, Role.RESPONSIBLE) for u in infos[:units]] for n in (1, 2, 3)},
        answers={(u.name, 1): Answer(1, f"{u.short_name}的回答") for u in infos[:units]},
        evidence=[
            EvidenceFile("测试单位0", 1, "现场照片.jpg", b"\xff\xd8 jpeg bytes"),
            EvidenceFile("测试单位0", 1, "现场照片.jpg", b"another photo"),
            EvidenceFile("测试单位1", 2, "../../etc/通知:第1号?.pdf", stored),
        ],
    )


def test_manifest_lists_every_member_with_its_hash_and_size(tmp_path):
    data = round_data(tmp_path)
    target = tmp_path / "round.zip"
    manifest = write_round_archive(data, target, generated_at=MOMENT)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        stored = json.loads(archive.read(MANIFEST))
        for entry in stored["files"]:
            payload = archive.read(entry["path"])
            assert hashlib.sha256(payload).hexdigest() == entry["sha256"], entry["path"]
            assert len(payload) == entry["size"]
    assert stored == manifest
    assert sorted(names) == sorted([*(e["path"] for e in manifest["files"]), MANIFEST])
    assert names[-1] == MANIFEST
    assert manifest["plan"] == {"key": "small", "title": "测试计划"}
    assert manifest["round"] == {"name": "第二次报送", "due": "2023-12-01"}
    assert manifest["generated_at"] == "2023-12-02T10:30:00+08:00"


def test_members_are_the_units_forms_the_ledger_and_the_evidence(tmp_path):
    data = round_data(tmp_path)
    target = tmp_path / "round.zip"
    write_round_archive(data, target, generated_at=MOMENT)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        form = docx.Document(io.BytesIO(archive.read("forms/测试单位1.docx")))
        evidence = archive.read("evidence/测试单位1/2-通知_第1号_.pdf")
        photos = [archive.read(n) for n in names if n.startswith("evidence/测试单位0/")]
    assert [n for n in names if n.startswith("forms/")] == [
        "forms/测试单位0.docx",
        "forms/测试单位1.docx",
        "forms/测试单位2.docx",
    ]  # the unit with nothing to answer has no form
    assert {CONSOLIDATED_DOCX, CONSOLIDATED_XLSX} <= set(names)
    assert "单位1的回答" in [c.text for t in form.tables for r in t.rows for c in r.cells]
    assert evidence == b"%PDF-1.7 evidence" * 1000
    assert photos == [b"\xff\xd8 jpeg bytes", b"another photo"]
    assert "evidence/测试单位0/1-现场照片 (2).jpg" in names


def test_progress_is_reported_per_member(tmp_path):
    calls = []
    data = round_data(tmp_path)
    write_round_archive(data, tmp_path / "round.zip", progress=lambda d, t: calls.append((d, t)))
    total = 3 + 2 + 3 + 1  # forms, consolidated DOCX and XLSX, evidence, manifest
    assert calls == [(n, total) for n in range(1, total + 1)]


class OneWayStream(io.RawIOBase):
    """A pipe-like sink: it can only be written to, never sought."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)


def test_archive_streams_into_a_stream_that_cannot_seek(tmp_path):
    sink = OneWayStream()
    write_round_archive(round_data(tmp_path), sink, generated_at=MOMENT)
    with zipfile.ZipFile(io.BytesIO(b"".join(sink.chunks))) as archive:
        assert archive.testzip() is None
        assert len(json.loads(archive.read(MANIFEST))["files"]) == 8


class Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def peak_memory(data: RoundData) -> int:
    tracemalloc.start()
    try:
        write_round_archive(data, Discard(), generated_at=MOMENT)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_forms_written(tmp_path):
    small, large = round_data(tmp_path, units=10), round_data(tmp_path, units=80)
    peak_memory(small)  # warm caches and imports
    grown = peak_memory(large) - peak_memory(small)
    form_size = 15_000  # each form is about this much: holding 70 more would add ~1 MB
    assert grown < 30 * form_size


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("兴庆区医疗保障局", "兴庆区医疗保障局"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\照片.jpg", "照片.jpg"),
        ('通知:第1号?<草稿>|"终".pdf', "通知_第1号__草稿___终_.pdf"),
        ("con.txt", "_con.txt"),
        (" .. ", "file"),
        ("\x00\x1f", "__"),
        ("很" * 200 + ".docx", "很" * 115 + ".docx"),
    ],
)
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe
