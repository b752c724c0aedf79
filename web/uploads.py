"""Evidence files from a browser: the type is read from the file's own first bytes, never
from the name or the browser's say-so, and only photos and office documents are taken: PDF
and OFD, Word, Excel and PowerPoint, and WPS Office's own (.wps, .et, .dps). Programs, scripts,
archives and documents carrying macros are not.

The file is kept in the database with the answer (as the bot keeps its evidence) and is never
served back by the web form: a name or a type cannot make it run anywhere.
"""

from __future__ import annotations

import io
import re
import zipfile
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
PPTX = FileType(
    "document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".pptx",
)
OFD = FileType("document", "application/ofd", ".ofd")  # GB/T 33190, China's fixed-layout PDF
# Office 97–2003 and WPS Office files share one container (OLE2): the name tells them apart.
_OLE2_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".wps": "application/kswps",
    ".et": "application/kset",
    ".dps": "application/ksdps",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_PHOTOS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")
ACCEPTED = ",".join((*_PHOTOS, ".pdf", ".ofd", ".docx", ".xlsx", ".pptx", *_OLE2_TYPES))
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
        return _zipped_document(data)
    if data.startswith(_OLE2):
        extension = "." + name.lower().rpartition(".")[2]
        if extension not in _OLE2_TYPES:
            extension = ".doc"
        return FileType("document", _OLE2_TYPES[extension], extension)
    return None


def _zipped_document(data: bytes) -> FileType | None:
    """A Word, Excel or PowerPoint file, or an OFD, by the parts it holds; None for any other
    ZIP (an archive could hold anything) and for a document with macros in it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n.lower() for n in archive.namelist()]
    except (zipfile.BadZipFile, ValueError):
        return None
    if any(n.endswith("vbaproject.bin") for n in names):
        return None
    if "ofd.xml" in names:
        return OFD
    if "[content_types].xml" not in names:
        return None
    for folder, file_type in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(n.startswith(folder) for n in names):
            return file_type
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
