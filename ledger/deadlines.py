"""Chinese 完成时限 texts parsed into a date, a recurrence or "ongoing".

The forms write deadlines freely: `2023年10月`, `2023 年 11 月底`, `3月31日前`, `年底前`,
`第三季度`, `2023年8月10日、12月1日前`, `每季度`, `长期坚持` … The text is kept exactly as
written; the parser reads a normalised copy (full-width digits folded, Chinese numerals in
dates turned into digits, whitespace and line breaks removed, since cells wrap anywhere).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import LedgerError


class DeadlineKind(StrEnum):
    DATE = "date"  # due by a day (2023年10月 → by 2023-10-31)
    RECURRING = "recurring"  # 每季度, 每月 …
    ONGOING = "ongoing"  # 长期坚持, 全年, 持续推进 …


class Recurrence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"


@dataclass(frozen=True)
class Deadline:
    text: str  # the original words, kept as written
    kind: DeadlineKind
    date: dt.date | None = None  # for DATE: the last day it is still on time (the last named)
    recurrence: str | None = None  # for RECURRING: monthly | quarterly | half-yearly | yearly
    dates: tuple[dt.date, ...] = ()  # for DATE: every day named, in the order written


# Whole texts meaning "no fixed day". Extend here when a form uses another phrase.
ONGOING_WORDS = frozenset(
    {"长期坚持", "长期", "全年", "持续推进", "常态化", "常态化推进", "持续", "随时", "及时"}
)

# Leading words that make a text recurring; the rest of the text (e.g. 最后一个月15日前)
# only says on which day of the period, which the rounds of a plan spell out anyway.
RECURRENCE_PREFIXES = (
    ("每季度", Recurrence.QUARTERLY),
    ("按季度", Recurrence.QUARTERLY),
    ("每半年", Recurrence.HALF_YEARLY),
    ("每月", Recurrence.MONTHLY),
    ("按月", Recurrence.MONTHLY),
    ("每年", Recurrence.YEARLY),
    ("按年度", Recurrence.YEARLY),
)

_SEPARATORS = re.compile(r"[、,;，；]|和|及")
_LEADING_WORDS = ("截止到", "截止", "截至", "于", "在", "到")
_TRAILING_WORDS = ("完成", "以前", "之前", "为止", "前", "止")
_TRAILING_PUNCTUATION = "。.!！"

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[〇零一二两三四五六七八九十]+(?=年|月|日|号|季度)")

_FULL_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})(?:日|号)?")
_ISO_DATE = re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_MONTH_PART = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(上旬|中旬|下旬)")
_MONTH_END = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(?:底|末|份)?")
_YEAR_END = re.compile(r"(\d{4})年(?:底|末|内|度)?")
_THIS_YEAR_END = re.compile(r"(?:(\d{4})年)?(?:年底|年末|年内|年度内)")
_HALF_YEAR = re.compile(r"(?:(\d{4})年)?(上|下)半年(?:底|末)?")
_QUARTER = re.compile(r"(?:(\d{4})年)?第?([1-4])季度(?:底|末)?")


def parse_deadline(text: str, default_year: int | None = None) -> Deadline:
    """Read a 完成时限 text; `default_year` (the plan's year) fills dates written without one.

    Raises LedgerError naming the text when it cannot be read.
    """
    words = _normalise(text)
    if words in ONGOING_WORDS:
        return Deadline(text, DeadlineKind.ONGOING)
    for prefix, recurrence in RECURRENCE_PREFIXES:
        if words.startswith(prefix):
            return Deadline(text, DeadlineKind.RECURRING, recurrence=recurrence.value)
    dates = _parse_dates(text, words, default_year)
    return Deadline(text, DeadlineKind.DATE, date=dates[-1], dates=dates)


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    compact = "".join(folded.split())
    return _CN_NUMBER.sub(lambda m: _chinese_number(m.group()), compact).rstrip(
        _TRAILING_PUNCTUATION
    )


def _chinese_number(numeral: str) -> str:
    """二〇二三 → 2023, 十二 → 12, 三十一 → 31; anything else is left as written."""
    if "十" not in numeral:
        return "".join(str(_CN_DIGITS[c]) for c in numeral)
    match = re.fullmatch(r"([一二三四五六七八九])?十([一二三四五六七八九])?", numeral)
    if not match:
        return numeral
    tens = _CN_DIGITS[match.group(1)] if match.group(1) else 1
    ones = _CN_DIGITS[match.group(2)] if match.group(2) else 0
    return str(tens * 10 + ones)


def _parse_dates(text: str, words: str, default_year: int | None) -> tuple[dt.date, ...]:
    """Every date of a list such as 2023年8月10日、12月1日前; a year carries to the next."""
    parts = [_strip_affixes(part) for part in _SEPARATORS.split(words)]
    if not words or not all(parts):
        raise _unreadable(text)
    dates: list[dt.date] = []
    year = default_year
    for part in parts:
        day, year = _parse_one(text, part, year)
        dates.append(day)
    return tuple(dates)


def _strip_affixes(part: str) -> str:
    changed = True
    while changed and part:
        changed = False
        for word in _LEADING_WORDS:
            if part.startswith(word) and len(part) > len(word):
                part, changed = part[len(word) :], True
        for word in _TRAILING_WORDS:
            if part.endswith(word) and len(part) > len(word):
                part, changed = part[: -len(word)], True
    return part


def _parse_one(text: str, part: str, year: int | None) -> tuple[dt.date, int]:
    """One date and the year it fell in (carried over to the next part of a list)."""
    if match := _FULL_DATE.fullmatch(part) or _ISO_DATE.fullmatch(part):
        y = _year(text, match.group(1), year)
        return _date(text, y, int(match.group(2)), int(match.group(3))), y
    if match := _MONTH_PART.fullmatch(part):
        y, month = _year(text, match.group(1), year), int(match.group(2))
        last = {"上旬": 10, "中旬": 20}.get(match.group(3)) or _month_end(text, y, month).day
        return _date(text, y, month, last), y
    if match := _MONTH_END.fullmatch(part):
        y = _year(text, match.group(1), year)
        return _month_end(text, y, int(match.group(2))), y
    if match := _YEAR_END.fullmatch(part) or _THIS_YEAR_END.fullmatch(part):
        y = _year(text, match.group(1), year)
        return _date(text, y, 12, 31), y
    if match := _HALF_YEAR.fullmatch(part):
        y = _year(text, match.group(1), year)
        return (_date(text, y, 6, 30) if match.group(2) == "上" else _date(text, y, 12, 31)), y
    if match := _QUARTER.fullmatch(part):
        y = _year(text, match.group(1), year)
        return _month_end(text, y, int(match.group(2)) * 3), y
    raise _unreadable(text)


def _year(text: str, written: str | None, carried: int | None) -> int:
    if written:
        return int(written)
    if carried is None:
        raise LedgerError(f"完成时限“{text}”没有写年份，计划也没有指定年份")
    return carried


def _date(text: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise LedgerError(f"完成时限“{text}”中的日期不存在") from None


def _month_end(text: str, year: int, month: int) -> dt.date:
    if not (1 <= month <= 12 and dt.MINYEAR <= year <= dt.MAXYEAR):
        raise LedgerError(f"完成时限“{text}”中的日期不存在")
    return _date(text, year, month, calendar.monthrange(year, month)[1])


def _unreadable(text: str) -> LedgerError:
    return LedgerError(f"无法识别的完成时限“{text}”")
