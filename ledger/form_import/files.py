"""Opening a form: its bytes, its name in messages, and the zip check both formats share."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import IO

from ledger.errors import LedgerError

FileInput = Path | str | IO[bytes]


def source_name(path_or_stream: FileInput, source: str | None, default: str) -> str:
    if source:
        return source
    if isinstance(path_or_stream, str | Path):
        return str(path_or_stream)
    return str(getattr(path_or_stream, "name", "") or default)


def read_bytes(path_or_stream: FileInput, source: str) -> bytes:
    try:
        if isinstance(path_or_stream, str | Path):
            return Path(path_or_stream).read_bytes()
        data = path_or_stream.read()
    except FileNotFoundError:
        raise LedgerError("找不到文件", source=source) from None
    except OSError as err:
        raise LedgerError(f"无法读取文件（{err.strerror or err}）", source=source) from None
    if not isinstance(data, bytes | bytearray):
        raise LedgerError("应以二进制方式打开文件", source=source)
    return bytes(data)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .doc/.xls, and encrypted Office files


def check_zip(data: bytes, source: str, kind: str, suffix: str) -> None:
    if data.startswith(OLE_MAGIC):
        raise LedgerError(
            f"这是旧版{kind}文件或加密的文件：请在{kind}中另存为不加密的 {suffix} 后再导入",
            source=source,
        )
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise LedgerError(
            f"不是有效的 {suffix} 文件（文件已损坏，或不是{kind}文档）", source=source
        )
