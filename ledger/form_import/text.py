"""Text clean-up: lines stripped, short cells joined back where Word wrapped them, headings,
numbers and header words normalised."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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


# --- Headings of two levels, numbers opening a text, deadlines inside a text, unit names

_CN_NUMERAL = "一二三四五六七八九十百〇零"
_SUBSECTION_HEADING = re.compile(
    rf"^\s*[（(]\s*[{_CN_NUMERAL}]+\s*[)）]\s*[、.．,，]?\s*(?P<title>\S.*)$", re.DOTALL
)
_NUMERAL_ONLY = re.compile(
    rf"^\s*(?P<open>[（(])?\s*[{_CN_NUMERAL}]+\s*(?P<close>[)）])?\s*[、.．]?\s*$"
)


def heading(text: str) -> tuple[int, str] | None:
    """(level, title) of a heading: 1 for 一、… or 第一部分…, 2 for （一）…; None otherwise."""
    if len(text) > 80:
        return None
    title = section_title(text)
    if title:
        return 1, title
    match = _SUBSECTION_HEADING.match(text)
    if match:
        return 2, join_short([match["title"]])
    return None


def numeral_level(text: str) -> int | None:
    """The heading level a 序号 cell holding only a Chinese numeral means: 一 → 1, （一） → 2."""
    match = _NUMERAL_ONLY.match(text)
    if not match or not text.strip():
        return None
    return 2 if match["open"] or match["close"] else 1


# 1.主动公开… 2、… （1）… 1）… but not 2023年… or 1.5万…
_LEADING_NUMBER = re.compile(
    r"^\s*(?:[(（]\s*(\d{1,4})\s*[)）]|(\d{1,4})\s*(?:[.．、]|[)）])(?!\d))\s*"
)


def leading_number(text: str) -> tuple[int, str] | None:
    """The number a task text opens with and the text without it."""
    match = _LEADING_NUMBER.match(text)  # \d takes full-width digits too, and int() reads them
    if not match or match.end() >= len(text):
        return None
    return int(match.group(1) or match.group(2)), text[match.end() :]


_CN_DAY = "(?:[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DEADLINE_IN_TEXT = re.compile(
    r"(?:(?:19|20)\d{2}\s*年)?"
    rf"(?:{_MONTH}\s*月(?:\s*(?:\d{{1,2}}|{_CN_DAY})\s*[日号]|底|末|上旬|中旬|下旬)?"
    r"|年底|年末|底|上半年|下半年|第?[一二三四1-4]季度末?)"
    r"(?:以前|之前|前)"
)


def deadlines_in_text(*texts: str) -> str:
    """The deadlines a task's text names (7月底前, 2021年底前, 年底前 …), joined by 、."""
    found: list[str] = []
    for text in texts:
        for match in _DEADLINE_IN_TEXT.finditer("".join(text.split())):
            phrase = match.group()
            if phrase.startswith("底") and (match.start() == 0 or phrase == "底前"):
                continue  # 底前 alone names no period
            if phrase not in found:
                found.append(phrase)
    return "、".join(found)


# Where a 责任单位 cell wraps: a line ending in a unit's name and a next line starting another
# name are two units (区发改局 / 区财政局); a line cut inside a name is joined (区市场监管 / 局).
_UNIT_ENDINGS = tuple(
    [
        "局",
        "委",
        "办",
        "室",
        "科",
        "院",
        "厅",
        "处",
        "会",
        "部",
        "所",
        "站",
        "馆",
        "社",
        "司",
        "队",
        "镇",
        "乡",
        "府",
        "心",
        "组",
        "团",
        "行",
        "门",
        "位",
        "道",
        "区",
        "县",
        "市",
        "校",
    ]
)
_UNIT_TAILS = frozenset(
    [
        "局",
        "委",
        "办",
        "室",
        "科",
        "院",
        "厅",
        "处",
        "会",
        "部",
        "所",
        "站",
        "馆",
        "社",
        "司",
        "队",
        "中心",
        "办公室",
        "委员会",
        "公司",
        "集团",
        "政府",
        "街道",
        "办事处",
        "管理局",
        "服务中心",
        "事务局",
        "工作部",
    ]
)


def join_units(pieces: Iterable[str]) -> str:
    """A 牵头单位/责任单位 cell: lines joined as join_short does, with 、 between two units
    that each had a line of their own."""
    lines = [line.strip() for piece in pieces for line in piece.split("\n") if line.strip()]
    joined = ""
    for line in lines:
        if (
            joined
            and joined[-1] not in PUNCTUATION
            and not RESPONSIBILITY_LABEL.match(line)
            and joined.endswith(_UNIT_ENDINGS)
            and line not in _UNIT_TAILS
            and not line[0].isascii()
            and line[0] not in "（(" + PUNCTUATION
        ):
            joined += "、" + line
        else:
            joined = join_short([joined, line]) if joined else join_short([line])
    return joined
