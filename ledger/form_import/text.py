"""Text clean-up: lines stripped, short cells joined back where Word wrapped them, headings,
numbers and header words normalised."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.form_import.grid import Para

PUNCTUATION = "。；;！!？?：:，,、…．."
SECTION_HEADING = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．,，]|第[一二三四五六七八九十百]+(?:部分|板块|方面)[、：:.．\s]?)"
    r"\s*(?P<title>\S.*)$",
    re.DOTALL,
)
RESPONSIBILITY_LABEL = re.compile(r"^(?:牵头|责任|配合|协办|参与)(?:单位|部门|科室)[:：]")


def clean_lines(text: str) -> str:
    """Lines stripped (full-width spaces too), blank lines dropped."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def join_short(pieces: Iterable[str]) -> str:
    """A short field (序号, 重点工作, 责任单位, 完成时限 …) whose cell wrapped its text.

    Lines are joined with nothing between (Chinese needs no space), with a space between two
    Latin letters or digits, and with a comma before a 责任部门：… label that starts a new line
    after no punctuation.
    """
    joined = ""
    for piece in pieces:
        for line in piece.split("\n"):
            line = line.strip()
            if not line:
                continue
            if (
                joined
                and joined[-1].isascii()
                and joined[-1].isalnum()
                and line[0].isascii()
                and line[0].isalnum()
            ):
                joined += " "
            elif joined and joined[-1] not in PUNCTUATION and RESPONSIBILITY_LABEL.match(line):
                joined += "，"
            joined += line
    return joined


def join_long(paras: Iterable[Para]) -> str:
    """A long field (主要内容, 量化指标, 进展落实情况): one line per real paragraph."""
    return "\n".join(p.text for p in paras)


def section_title(text: str) -> str | None:
    """The title of a 板块 heading such as 一、全环节推进信息公开, without its numeral."""
    match = SECTION_HEADING.match(text)
    if not match or len(text) > 80:
        return None
    return join_short([match["title"]])


def parse_number(text: str) -> int | None:
    folded = unicodedata.normalize("NFKC", text).strip()
    match = re.fullmatch(r"[(（]?\s*(\d{1,6})\s*[)）.、．]?", folded)
    return int(match.group(1)) if match else None


def plain(text: str) -> str:
    """A header cell's words, without spaces or a trailing remark in brackets."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"\s+", "", folded)
    return re.sub(r"\([^)]*\)$", "", folded)


def shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
