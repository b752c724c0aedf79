"""Exports for the bot: staff only, audited, and an archive too large for one upload comes in
parts that each open on their own."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest

from ledger.archive import MANIFEST
from storage.services import audit, export_files
from storage.services.export_files import ExportError, What, split_archive
from storage.services.staff import StaffError, add_staff

NOW = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)


def _archive(path, sizes: dict[str, int]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, size in sizes.items():
            # Stored, as the archive stores its .docx members: the size is what it costs.
            archive.writestr(zipfile.ZipInfo(name), bytes(range(256)) * (size // 256))
        archive.writestr(MANIFEST, json.dumps({"format": "taizhang-archive/1", "files": []}))


def test_an_archive_over_the_limit_is_cut_into_parts_that_each_open(tmp_path):
    whole = tmp_path / "x-归档.zip"
    sizes = {f"forms/单位{i}.docx": 40_960 for i in range(10)} | {"汇总台账.docx": 81_920}
    _archive(whole, sizes)
    limit = 150_000

    parts = split_archive(whole, limit)

    assert len(parts) >= 4 and not whole.exists()
    seen = []
    for number, part in enumerate(parts, 1):
        assert part.stat().st_size < limit
        assert part.name == f"x-归档-第{number}部分（共{len(parts)}部分）.zip"
        with zipfile.ZipFile(part) as archive:
            assert archive.testzip() is None
            manifest = json.loads(archive.read(MANIFEST))
            names = [n for n in archive.namelist() if n != MANIFEST]
        assert manifest["part"] == {"number": number, "of": len(parts), "files": names}
        seen += names
    assert seen == list(sizes)  # every member once, in the archive's order


def test_an_archive_under_the_limit_stays_whole_and_a_member_too_big_is_refused(tmp_path):
    whole = tmp_path / "x.zip"
    _archive(whole, {"a.docx": 10_240, "b.docx": 90_112})
    assert split_archive(whole, 200_000) == [whole]
    with pytest.raises(ExportError) as refused:
        split_archive(whole, 60_000)
    assert refused.value.code == "too_large" and refused.value.size == whole.stat().st_size
    assert whole.exists()


async def _sample(session):
    from storage.services.samples import load_sample_ledger

    sample = await load_sample_ledger(session, dt.date(2026, 3, 9))
    viewer, _ = await add_staff(session, 501, "李查看", role="viewer")
    return sample, viewer


async def test_the_bot_s_export_is_for_staff_and_is_audited(sessions, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    async with sessions() as session:
        sample, viewer = await _sample(session)
        with pytest.raises(StaffError):
            await export_files.export_round(session, 777, sample.round_id, What.DOCX, tmp_path)
        assert list(tmp_path.iterdir()) == []

        made = await export_files.export_round(
            session, viewer, sample.previous_round_id, What.XLSX, tmp_path, now=NOW
        )
        assert [p.suffix for p in made.files] == [".xlsx"] and made.files[0].stat().st_size
        assert made.submitted_units == 1 and made.units == 28
        steps = await audit.trail(session, action_prefix="export.")
        assert [(s.action, s.actor_user_id, s.round_id) for s in steps] == [
            ("export.xlsx", 501, sample.previous_round_id)
        ]

        with pytest.raises(ExportError) as refused:
            await export_files.export_round(
                session, viewer, sample.round_id, What.DOCX, tmp_path, part_limit=1000
            )
        assert refused.value.code == "too_large" and refused.value.size > 1000
        assert "taizhang export" in export_files.command_line(sample.round_id, What.DOCX)


async def test_the_default_round_is_the_open_one_due_soonest(sessions):
    async with sessions() as session:
        sample, viewer = await _sample(session)
        rounds = await export_files.export_rounds(session, viewer)
        assert rounds[0].id == sample.round_id and rounds[0].open
        assert all(not r.open for r in rounds[1:])
        assert [r.due for r in rounds[1:]] == sorted((r.due for r in rounds[1:]), reverse=True)
        assert (await export_files.export_round_choice(session, viewer)).id == sample.round_id
