"""Opening a form: its bytes (within a size limit), its name in messages, and the checks both
formats share, which say in plain words what a file is when it is not the form it claims."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO

from ledger.errors import LedgerError

FileInput = Path | str | IO[bytes]

# Telegram lets a bot download files up to 20 MB; a real ledger is well under 1 MB.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class FileTooLarge(LedgerError):
    """A file over the import size limit; `size` and `limit` in bytes."""

    def __init__(self, size: int, limit: int, *, source: str | None = None):
        self.size, self.limit = size, limit
        super().__init__(
            f"文件太大（{_megabytes(size)}），超过导入上限 {_megabytes(limit)}", source=source
        )


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(size / 1024, 0.1):.1f} KB".replace(".0 KB", " KB")
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def source_name(path_or_stream: FileInput, source: str | None, default: str) -> str:
    if source:
        return source
    if isinstance(path_or_stream, str | Path):
        return str(path_or_stream)
    return str(getattr(path_or_stream, "name", "") or default)


def check_size(path: Path | str, source: str, max_bytes: int | None = MAX_IMPORT_BYTES) -> None:
    """Refuse a file over `max_bytes` before reading it (None: no limit)."""
    if max_bytes is None:
        return
    try:
        size = Path(path).stat().st_size
    except FileNotFoundError:
        raise LedgerError("找不到文件", source=source) from None
    except OSError as err:
        raise LedgerError(f"无法读取文件（{err.strerror or err}）", source=source) from None
    if size > max_bytes:
        raise FileTooLarge(size, max_bytes, source=source)


def read_bytes(
    path_or_stream: FileInput, source: str, max_bytes: int | None = MAX_IMPORT_BYTES
) -> bytes:
    """The file's bytes; a file over `max_bytes` is refused without being read whole."""
    try:
        if isinstance(path_or_stream, str | Path):
            check_size(path_or_stream, source, max_bytes)
            return Path(path_or_stream).read_bytes()
        data = path_or_stream.read() if max_bytes is None else path_or_stream.read(max_bytes + 1)
    except FileNotFoundError:
        raise LedgerError("找不到文件", source=source) from None
    except IsADirectoryError:
        raise LedgerError("这是一个文件夹，不是文件", source=source) from None
    except OSError as err:
        raise LedgerError(f"无法读取文件（{err.strerror or err}）", source=source) from None
    if not isinstance(data, bytes | bytearray):
        raise LedgerError("应以二进制方式打开文件", source=source)
    if max_bytes is not None and len(data) > max_bytes:
        rest = path_or_stream.seek(0, io.SEEK_END) if path_or_stream.seekable() else len(data)
        raise FileTooLarge(max(rest, len(data)), max_bytes, source=source)
    return bytes(data)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls, and encrypted Office files

# The main part's content type in [Content_Types].xml, and what to call the file.
_OFFICE_TYPES = (
    ("wordprocessingml.document.main", "Word文档（.docx）", ".docx"),
    ("ms-word.document.macroEnabled.main", "启用宏的 Word文档（.docm）", ".docm"),
    ("wordprocessingml.template.main", "Word模板（.dotx）", ".dotx"),
    ("ms-word.template.macroEnabledTemplate.main", "Word模板（.dotm）", ".dotm"),
    ("spreadsheetml.sheet.main", "Excel工作簿（.xlsx）", ".xlsx"),
    ("ms-excel.sheet.macroEnabled.main", "启用宏的 Excel工作簿（.xlsm）", ".xlsm"),
    ("spreadsheetml.template.main", "Excel模板（.xltx）", ".xltx"),
    ("presentationml.presentation.main", "PowerPoint演示文稿（.pptx）", ".pptx"),
)
# What each reader opens: the suffixes whose main part it reads.
_READS = {".docx": {".docx"}, ".xlsx": {".xlsx", ".xlsm"}}
_ZIP_KINDS = (
    (b"application/vnd.oasis.opendocument.text", "OpenDocument文本（.odt）"),
    (b"application/vnd.oasis.opendocument.spreadsheet", "OpenDocument表格（.ods）"),
    (b"application/epub", "电子书（.epub）"),
)


def what_it_is(data: bytes) -> str:
    """Plain words for what a file that is not a zip package holds."""
    head = data[:512].lstrip()
    lowered = head.lower()
    if not data:
        return "文件是空的（0 字节）"
    if head.startswith(b"%PDF"):
        return "这是 PDF 文件，请用原来的 Word 或 Excel 文件导入"
    if head.startswith(b"{\\rtf"):
        return "这是 RTF 文件，请在 Word 中另存为 .docx"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "这是一张图片，不是表格文件"
    if head.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return "这是压缩包（.rar、.7z 或 .gz），请先解压，再导入其中的文件"
    if head.startswith(b"MIME-Version") or b"<html" in lowered or b"<!doctype html" in lowered:
        return "这是网页（HTML/MHT）文件，只是后缀不对，请在 Word 或 Excel 中打开并另存为正式格式"
    if head.startswith(b"<?xml"):
        return "这是 XML 文件（如 Word 2003 XML），请在 Word 或 Excel 中另存为正式格式"
    if _looks_like_text(data[:4096]):
        return "这是一个文本文件，只是改了后缀"
    return "文件已损坏，或不是 Office 文档"


def _looks_like_text(sample: bytes) -> bool:
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
        return printable >= 0.95 * max(len(text), 1)
    return False


def check_zip(data: bytes, source: str, kind: str, suffix: str) -> None:
    """The bytes are an Office package of the kind `suffix` names, or a LedgerError in plain
    words saying what they are: an old or encrypted file, another format with the suffix
    changed, a truncated download, a zip of something else."""
    if data.startswith(OLE_MAGIC):
        raise LedgerError(
            f"这是旧版{kind}文件或加密的文件：请在{kind}中另存为不加密的 {suffix} 后再导入",
            source=source,
        )
    invalid = f"不是有效的 {suffix} 文件"
    if not data.startswith(b"PK"):
        raise LedgerError(f"{invalid}：{what_it_is(data)}", source=source)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LedgerError(
            f"{invalid}：文件不完整（可能没有下载完，或传输时被截断），请重新获取原文件",
            source=source,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            mimetype = package.read("mimetype")[:80] if "mimetype" in names else b""
            types = (
                package.read("[Content_Types].xml")[:20000].decode("utf-8", "replace")
                if "[Content_Types].xml" in names
                else None
            )
    except Exception:  # BadZipFile, zlib.error, EOFError … on a damaged member
        raise LedgerError(
            f"{invalid}：文件已损坏（压缩包中的内容无法解开）", source=source
        ) from None
    if types is None:
        for marker, name in _ZIP_KINDS:
            if mimetype.startswith(marker):
                raise LedgerError(
                    f"{invalid}：这是{name}，请在 {kind} 或 WPS 中另存为 {suffix}", source=source
                )
        raise LedgerError(
            f"{invalid}：这是一个普通的压缩包（.zip），不是{kind}文档", source=source
        )
    for marker, name, its_suffix in _OFFICE_TYPES:
        if marker in types:
            if its_suffix in _READS[suffix]:
                return
            if its_suffix in _READS.get(".xlsx" if suffix == ".docx" else ".docx", set()):
                raise LedgerError(
                    f"{invalid}：这是{name}，只是后缀为 {suffix}，请把文件名改为 {its_suffix}",
                    source=source,
                )
            raise LedgerError(f"{invalid}：这是{name}，请另存为 {suffix} 后再导入", source=source)
    # An Office package whose main part we cannot name: let the reader try it.


def open_failure(kind: str, suffix: str, source: str, err: BaseException) -> LedgerError:
    """What to say when python-docx or openpyxl could not open a package that looked right."""
    name = type(err).__name__
    if name in ("BadZipFile", "error", "EOFError", "LargeZipFile"):  # zlib.error is "error"
        detail = "文件已损坏（压缩包中的内容无法解开）"
    elif name in ("XMLSyntaxError", "ParseError", "ExpatError"):
        detail = "文件已损坏（其中的文档内容无法读取）"
    elif name == "KeyError":
        detail = "文件不完整（缺少文档的必需部分）"
    else:
        detail = "文件已损坏，或不是用 Office/WPS 保存的文档"
    return LedgerError(
        f"无法打开 {kind} 文件（不是有效的 {suffix} 文件）：{detail}", source=source
    )
