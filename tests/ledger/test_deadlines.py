"""完成时限 parsing: every phrasing the forms use, and every deadline in both seed ledgers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.deadlines import Deadline, DeadlineKind, parse_deadline
from ledger.errors import LedgerError
from tests.conftest import skip_or_fail

SEEDS = Path(__file__).parents[2].parent / "shared" / "seeds"
XINGQING_SEED = SEEDS / "000_831a86fccb72c8ba.txt"
YIBAO_SEED = SEEDS / "001_9d14572e6a651744.txt"

DATES = [
    # (text, default year, the day it is due by)
    ("2023年10月", None, date(2023, 10, 31)),
    ("2023年\n10月", None, date(2023, 10, 31)),
    (" 2023 年  10 月 ", None, date(2023, 10, 31)),
    ("2023年", None, date(2023, 12, 31)),
    ("2023年11月底", None, date(2023, 11, 30)),
    ("2023 年 11 月底", None, date(2023, 11, 30)),
    ("2023 年 3 月底", None, date(2023, 3, 31)),
    ("2024年2月底", None, date(2024, 2, 29)),
    ("2023年3月31日", None, date(2023, 3, 31)),
    ("3月31日前", 2023, date(2023, 3, 31)),
    ("于 3 月 31 日前", 2023, date(2023, 3, 31)),
    ("12月1日前", 2023, date(2023, 12, 1)),
    ("10月底前", 2023, date(2023, 10, 31)),
    ("10月底前完成", 2023, date(2023, 10, 31)),
    ("年底前", 2023, date(2023, 12, 31)),
    ("年内", 2023, date(2023, 12, 31)),
    ("2023年底", None, date(2023, 12, 31)),
    ("上半年", 2023, date(2023, 6, 30)),
    ("下半年", 2023, date(2023, 12, 31)),
    ("2024年上半年", 2023, date(2024, 6, 30)),
    ("第三季度", 2023, date(2023, 9, 30)),
    ("2023年第三季度", None, date(2023, 9, 30)),
    ("第一季度末", 2023, date(2023, 3, 31)),
    ("十月", 2023, date(2023, 10, 31)),
    ("十二月底", 2023, date(2023, 12, 31)),
    ("二〇二三年三月三十一日", None, date(2023, 3, 31)),
    ("２０２３年１０月", None, date(2023, 10, 31)),
    ("2023年10月下旬", None, date(2023, 10, 31)),
    ("2023年10月中旬", None, date(2023, 10, 20)),
    ("2023-10-15", None, date(2023, 10, 15)),
    ("2023年10月。", None, date(2023, 10, 31)),
]


@pytest.mark.parametrize(("text", "year", "due"), DATES)
def test_dates(text: str, year: int | None, due: date) -> None:
    deadline = parse_deadline(text, default_year=year)
    assert deadline == Deadline(text, DeadlineKind.DATE, date=due, dates=(due,))


MULTIPLE_DATES = [
    ("2023年8月10日、12月1日前", None, (date(2023, 8, 10), date(2023, 12, 1))),
    ("7月 30 日、11 月 30 日前", 2023, (date(2023, 7, 30), date(2023, 11, 30))),
    ("9 月 10 日、12 月 10 前", 2023, (date(2023, 9, 10), date(2023, 12, 10))),
    ("2023年12月1日、2024年3月1日前", None, (date(2023, 12, 1), date(2024, 3, 1))),
]


@pytest.mark.parametrize(("text", "year", "dates"), MULTIPLE_DATES)
def test_several_dates_keep_the_last_as_the_date(
    text: str, year: int | None, dates: tuple[date, ...]
) -> None:
    deadline = parse_deadline(text, default_year=year)
    assert deadline.kind is DeadlineKind.DATE
    assert deadline.dates == dates
    assert deadline.date == dates[-1]


RECURRING = [
    ("每季度", "quarterly"),
    ("每月", "monthly"),
    ("每半年", "half-yearly"),
    ("每年", "yearly"),
    ("每季度最后一个月15日前", "quarterly"),
    ("每年10月底前", "yearly"),
    ("按季度", "quarterly"),
]


@pytest.mark.parametrize(("text", "recurrence"), RECURRING)
def test_recurring(text: str, recurrence: str) -> None:
    assert parse_deadline(text) == Deadline(text, DeadlineKind.RECURRING, recurrence=recurrence)


ONGOING = ["长期坚持", "长期", "全年", "持续推进", "常态化", "持续", "随时", "及时", " 长期 坚持 "]


@pytest.mark.parametrize("text", ONGOING)
def test_ongoing(text: str) -> None:
    assert parse_deadline(text) == Deadline(text, DeadlineKind.ONGOING)


UNREADABLE = [
    "",
    "  ",
    "尽快",
    "2023年13月",
    "2023年2月30日",
    "10月32日前",
    "下周",
    "三年内",
    "、",
]


@pytest.mark.parametrize("text", UNREADABLE)
def test_unreadable_text_is_named_in_the_error(text: str) -> None:
    with pytest.raises(LedgerError) as caught:
        parse_deadline(text, default_year=2023)
    assert f"“{text}”" in str(caught.value)


@pytest.mark.parametrize("text", ["12月1日前", "年底前", "上半年", "第三季度", "10月底前"])
def test_a_date_without_year_needs_the_plan_year(text: str) -> None:
    with pytest.raises(LedgerError, match="没有写年份"):
        parse_deadline(text)


def test_a_written_year_wins_over_the_plan_year() -> None:
    assert parse_deadline("2024年10月", default_year=2023).date == date(2024, 10, 31)


@given(st.text())
def test_random_text_raises_only_ledger_errors(text: str) -> None:
    try:
        deadline = parse_deadline(text, default_year=2023)
    except LedgerError:
        return
    assert deadline.text == text


@given(
    st.text(
        alphabet="0123456789０２年月日号底末前第季度上下半旬中一二三十〇、，每长期 \n", max_size=20
    )
)
def test_date_like_text_raises_only_ledger_errors(text: str) -> None:
    try:
        deadline = parse_deadline(text, default_year=2023)
    except LedgerError:
        return
    assert deadline.text == text
    assert (deadline.date is not None) == (deadline.kind is DeadlineKind.DATE)


# The seeds, read as written (the text copy of seed 000 wraps five deadlines as 2023年 / 10月).


def _seed(path: Path) -> str:
    if not path.exists():
        skip_or_fail(f"seed {path.name} not present")
    return path.read_text(encoding="utf-8")


def test_every_deadline_of_the_xingqing_seed() -> None:
    text = _seed(XINGQING_SEED)
    cells = re.findall(r"\n\t(\d{4}年(?:\n\d{1,2}月)?[^\n\t]*)\n", text)
    assert len(cells) == 32  # tasks 1–32; task 33 has none
    assert sum("\n" in cell for cell in cells) == 5
    for cell in cells:
        assert parse_deadline(cell).date == date(2023, 10, 31), cell


def test_the_reporting_dates_of_the_xingqing_intro() -> None:
    text = _seed(XINGQING_SEED)
    phrase = "2023年8月10日、12月1日前"
    assert text.count(phrase) == 2  # the intro and task 33
    assert parse_deadline(phrase).dates == (date(2023, 8, 10), date(2023, 12, 1))


@pytest.mark.parametrize(
    ("phrase", "due"),
    [("3月31日前", date(2023, 3, 31)), ("每年10月底前", None), ("每季度最后一个月15日前", None)],
)
def test_deadlines_named_inside_xingqing_tasks(phrase: str, due: date | None) -> None:
    assert phrase in _seed(XINGQING_SEED)
    assert parse_deadline(phrase, default_year=2023).date == due


def test_every_deadline_of_the_yibao_seed() -> None:
    cells = re.findall(r"\d{4} 年 \d{1,2} 月底", _seed(YIBAO_SEED))
    assert len(cells) == 30
    assert [parse_deadline(cell).date for cell in cells].count(date(2023, 11, 30)) == 29
    assert parse_deadline(cells[6]).date == date(2023, 3, 31)  # measure 7


@pytest.mark.parametrize(
    ("phrase", "dates"),
    [
        ("3 月 31 日前", (date(2023, 3, 31),)),
        ("7月 30 日、11 月 30 日前", (date(2023, 7, 30), date(2023, 11, 30))),
        ("9 月\n\n10 日、12 月 10 前", (date(2023, 9, 10), date(2023, 12, 10))),
    ],
)
def test_deadlines_named_inside_yibao_measures(phrase: str, dates: tuple[date, ...]) -> None:
    assert phrase in _seed(YIBAO_SEED)
    assert parse_deadline(phrase, default_year=2023).dates == dates
