"""Evidence files from a browser: the type is read from the file's own first bytes, never
from the name or the browser's say-so, and only photos and office documents are taken.

The file is kept in the database with the answer (as the bot keeps its evidence) and is never
served back by the web form: a name or a type cannot make it run anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class FileType:
    kind: str  # photo | document (as the bot's evidence)
    mime: str
    extension: str


JPEG = FileType("photo", "image/jpeg", ".jpg")
PNG = FileType("photo", "image/png", ".png")
WEBP = FileType("photo", "image/webp", ".webp")
HEIC = FileType("photo", "image/heic", ".heic")
PDF = FileType("document", "application/pdf", ".pdf")
DOCX = FileType(
    "document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docx",
)
XLSX = FileType(
    "document", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"
)

ACCEPTED = ".jpg,.jpeg,.png,.webp,.heic,.heif,.pdf,.docx,.xlsx,.doc,.xls"
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def sniff(data: bytes, name: str = "") -> FileType | None:
    """The file's type from its content; None for anything not taken as evidence."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return HEIC
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        head = data[:4096]
        if b"word/" in head:
            return DOCX
        if b"xl/" in head:
            return XLSX
        lowered = name.lower()
        if b"[Content_Types].xml" in head and lowered.endswith((".docx", ".xlsx")):
            return DOCX if lowered.endswith(".docx") else XLSX
        return None
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        extension = ".xls" if name.lower().endswith(".xls") else ".doc"
        mime = "application/vnd.ms-excel" if extension == ".xls" else "application/msword"
        return FileType("document", mime, extension)
    return None


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_name(name: str, file_type: FileType, fallback: str) -> str:
    """The browser's file name without a path or odd characters, ending as its type does."""
    if _PERCENT.search(name):  # some clients send a UTF-8 name percent-encoded
        name = unquote(name)
    name = _UNSAFE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" ._")[:120]
    name = name or fallback
    if file_type.extension and not name.lower().endswith(_aliases(file_type.extension)):
        name += file_type.extension
    return name


def _aliases(extension: str) -> tuple[str, ...]:
    return {".jpg": (".jpg", ".jpeg"), ".heic": (".heic", ".heif")}.get(extension, (extension,))
