"""The round archive: one ZIP with everything the office files for a round.

`write_round_archive(data, out, *, progress=None, generated_at=None, only_own_tasks=False)`
writes, in this order (docs/forms.md, “The round archive”):

- `forms/<unit name>.docx` — the form of every unit that answers for anything;
- `汇总台账.docx` and `汇总台账.xlsx` — the consolidated ledger;
- `evidence/<unit name>/<task>-<file name>` — the files units attached;
- `manifest.json` — plan, round, generation time, whether it holds drafts (`drafts`), and
  each file's path, SHA-256 and size.

Each member is produced and written before the next is built, so memory does not grow with the
number of units; `out` may be a path or any writable binary stream (seekable or not).
`progress(done, total)` is called after each member. File names keep their Chinese and are
made safe for every system (`safe_filename`). Returns the manifest as a dict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from ledger.docx_forms import UnitFormWriter, consolidated_docx_bytes
from ledger.rounddata import EvidenceFile, RoundData
from ledger.xlsx_ledger import consolidated_xlsx_bytes

__all__ = [
    "ARCHIVE_FORMAT",
    "CONSOLIDATED_DOCX",
    "CONSOLIDATED_XLSX",
    "MANIFEST",
    "safe_filename",
    "write_round_archive",
]

ARCHIVE_FORMAT = "taizhang-archive/1"
CONSOLIDATED_DOCX = "汇总台账.docx"
CONSOLIDATED_XLSX = "汇总台账.xlsx"
MANIFEST = "manifest.json"
Progress = Callable[[int, int], None]

# Formats that are compressed already: stored as they are, deflating them again only costs time.
_OFFICE_AND_ARCHIVES = (".docx", ".xlsx", ".pptx", ".pdf", ".ofd", ".zip", ".rar", ".7z", ".gz")
_MEDIA = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".mp4", ".mov", ".mp3", ".m4a")
_STORED_SUFFIXES = frozenset({*_OFFICE_AND_ARCHIVES, *_MEDIA, ".ogg"})
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }
)
_MAX_NAME = 120
_CHUNK = 1 << 16


def safe_filename(name: str, fallback: str = "file") -> str:
    """A file name that is readable and valid on Windows, macOS and Linux, and has no path."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/")).split("/")[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        name = fallback
    if name.partition(".")[0].upper() in _RESERVED:
        name = f"_{name}"
    if len(name) > _MAX_NAME:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: _MAX_NAME - len(suffix)] + suffix
    return name


class _ArchiveWriter:
    def __init__(
        self, archive: zipfile.ZipFile, total: int, moment: dt.datetime, progress: Progress | None
    ):
        self.archive = archive
        self.total = total
        self.date_time = max(moment.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
        self.progress = progress
        self.files: list[dict[str, Any]] = []
        self.names: set[str] = set()
        self.done = 0

    def unique(self, path: str) -> str:
        """The path, numbered when an earlier member already has it."""
        candidate, number = path, 1
        pure = PurePosixPath(path)
        while candidate.casefold() in self.names:
            number += 1
            candidate = str(pure.with_name(f"{pure.stem} ({number}){pure.suffix}"))
        self.names.add(candidate.casefold())
        return candidate

    def add(self, path: str, chunks: Iterable[bytes], **about: Any) -> None:
        path = self.unique(path)
        info = zipfile.ZipInfo(path, date_time=self.date_time)
        stored = PurePosixPath(path).suffix.lower() in _STORED_SUFFIXES
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        digest, size = hashlib.sha256(), 0
        with self.archive.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                member.write(chunk)
                size += len(chunk)
        self.files.append({"path": path, "sha256": digest.hexdigest(), "size": size, **about})
        self.step()

    def step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _evidence_chunks(evidence: EvidenceFile) -> Iterable[bytes]:
    with evidence.open() as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def write_round_archive(
    data: RoundData,
    out: Path | str | BinaryIO,
    *,
    progress: Progress | None = None,
    generated_at: dt.datetime | None = None,
    only_own_tasks: bool = False,
) -> dict[str, Any]:
    """Write the round's archive ZIP to `out`; the manifest written into it."""
    moment = data.local_time(generated_at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    units = data.reporting_units()
    total = len(units) + 2 + len(data.evidence) + 1
    forms = UnitFormWriter(data, only_own_tasks=only_own_tasks)
    target = Path(out) if isinstance(out, str | Path) else out
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        writer = _ArchiveWriter(archive, total, moment, progress)
        for unit in units:
            path = f"forms/{safe_filename(unit.name, 'unit')}.docx"
            writer.add(path, [forms.render(unit.name)], kind="form", unit=unit.name)
        docx_bytes = consolidated_docx_bytes(data, generated_at=moment)
        writer.add(CONSOLIDATED_DOCX, [docx_bytes], kind="consolidated")
        xlsx_bytes = consolidated_xlsx_bytes(data, generated_at=moment)
        writer.add(CONSOLIDATED_XLSX, [xlsx_bytes], kind="consolidated")
        for evidence in data.evidence:
            unit_dir = safe_filename(evidence.unit, "unit")
            name = f"{evidence.task}-{safe_filename(evidence.filename)}"
            about = {"kind": "evidence", "unit": evidence.unit, "task": evidence.task}
            writer.add(f"evidence/{unit_dir}/{name}", _evidence_chunks(evidence), **about)
        manifest = {
            "format": ARCHIVE_FORMAT,
            "plan": {"key": data.plan.key, "title": data.plan.title},
            "round": {"name": data.round_name, "due": data.round_due.isoformat()},
            "generated_at": moment.isoformat(),
            "drafts": data.draft,  # true: current answers, not what units submitted
            "files": writer.files,
        }
        payload = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        info = zipfile.ZipInfo(MANIFEST, date_time=writer.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, payload)
        writer.step()
    return manifest
