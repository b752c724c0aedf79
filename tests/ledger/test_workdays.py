"""Working days on the official calendar, loaded years, and years nobody knows yet."""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import LedgerError
from ledger.workdays import PACKAGE_YEARS, WorkCalendar, calendar_year_to_yaml

EXAMPLE_2027 = Path(__file__).parents[2] / "docs" / "examples" / "calendar-2027.yaml"


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


# (day, working?) across the 2023 and 2024 Spring Festival and National Day breaks
OFFICIAL_DAYS = [
    (date(2023, 1, 20), True),  # Friday before the break
    *[(date(2023, 1, day), False) for day in range(21, 28)],  # 春节 Jan 21–27
    (date(2023, 1, 28), True),  # Saturday, adjusted working day
    (date(2023, 1, 29), True),  # Sunday, adjusted working day
    (date(2023, 9, 28), True),
    *[(date(2023, 9, day), False) for day in (29, 30)],  # 中秋 and 国庆
    *[(date(2023, 10, day), False) for day in range(1, 7)],
    (date(2023, 10, 7), True),  # Saturday, adjusted working day
    (date(2023, 10, 8), True),  # Sunday, adjusted working day
    (date(2023, 10, 14), False),  # an ordinary Saturday
    (date(2024, 2, 4), True),  # Sunday, adjusted working day
    *[(date(2024, 2, day), False) for day in range(10, 18)],  # 春节 Feb 10–17
    (date(2024, 2, 18), True),  # Sunday, adjusted working day
    (date(2024, 9, 29), True),  # Sunday, adjusted working day
    *[(date(2024, 10, day), False) for day in range(1, 8)],  # 国庆 Oct 1–7
    (date(2024, 10, 12), True),  # Saturday, adjusted working day
]


@pytest.mark.parametrize(("day", "working"), OFFICIAL_DAYS)
def test_official_days(calendar: WorkCalendar, day: date, working: bool) -> None:
    assert calendar.is_workday(day) is working


ARITHMETIC = [
    # (method, day, argument or None, expected)
    ("next_workday", date(2023, 9, 28), None, date(2023, 10, 7)),
    ("next_workday", date(2023, 10, 7), None, date(2023, 10, 8)),
    ("previous_workday", date(2023, 10, 7), None, date(2023, 9, 28)),
    ("next_workday", date(2023, 1, 20), None, date(2023, 1, 28)),
    ("previous_workday", date(2023, 1, 28), None, date(2023, 1, 20)),
    ("next_workday", date(2024, 2, 9), None, date(2024, 2, 18)),
    ("add_workdays", date(2023, 9, 28), 1, date(2023, 10, 7)),
    ("add_workdays", date(2023, 9, 28), 3, date(2023, 10, 9)),
    ("add_workdays", date(2023, 10, 9), -3, date(2023, 9, 28)),
    ("add_workdays", date(2023, 9, 30), 0, date(2023, 9, 30)),
    ("add_workdays", date(2023, 1, 19), 2, date(2023, 1, 28)),
    ("add_workdays", date(2024, 9, 27), 1, date(2024, 9, 29)),  # Sunday, adjusted working day
    ("add_workdays", date(2024, 9, 27), 3, date(2024, 10, 8)),
    ("workdays_between", date(2023, 9, 28), date(2023, 10, 9), 3),
    ("workdays_between", date(2023, 10, 9), date(2023, 9, 28), -3),
    ("workdays_between", date(2023, 1, 20), date(2023, 1, 31), 4),  # Jan 28, 29, 30, 31
    ("workdays_between", date(2023, 10, 1), date(2023, 10, 1), 0),
]


@pytest.mark.parametrize(("method", "day", "argument", "expected"), ARITHMETIC)
def test_arithmetic(
    calendar: WorkCalendar, method: str, day: date, argument: object, expected: object
) -> None:
    arguments = (day,) if argument is None else (day, argument)
    assert getattr(calendar, method)(*arguments) == expected


def test_datetimes_count_as_their_day(calendar: WorkCalendar) -> None:
    assert calendar.is_workday(dt.datetime(2023, 10, 7, 9, 30)) is True
    assert calendar.next_workday(dt.datetime(2023, 9, 28, 18)) == date(2023, 10, 7)


@given(
    st.dates(min_value=date(2022, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=-40, max_value=40),
)
def test_add_and_between_agree(day: date, n: int) -> None:
    calendar = WorkCalendar()
    if not calendar.is_workday(day):
        day = calendar.next_workday(day)
    assert calendar.workdays_between(day, calendar.add_workdays(day, n)) == n


def test_holiday_names(calendar: WorkCalendar) -> None:
    assert calendar.holiday_name(date(2023, 10, 3)) == "国庆节"
    assert calendar.holiday_name(date(2023, 10, 7)) == "国庆节"  # the adjusted working day too
    assert calendar.holiday_name(date(2023, 1, 28)) == "春节"
    assert calendar.holiday_name(date(2023, 10, 9)) is None


# -- years the package does not cover


def test_an_uncovered_year_counts_weekdays_and_is_remembered(calendar: WorkCalendar) -> None:
    assert not calendar.covered(2027)
    assert calendar.uncovered_years_seen() == []
    assert calendar.is_workday(date(2027, 10, 1)) is True  # a Friday
    assert calendar.is_workday(date(2027, 10, 2)) is False  # a Saturday
    assert calendar.next_workday(date(2027, 10, 1)) == date(2027, 10, 4)
    assert calendar.uncovered_years_seen() == [2027]


def test_arithmetic_running_into_an_uncovered_year_does_not_crash(calendar: WorkCalendar) -> None:
    assert calendar.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 1)  # a Friday
    assert calendar.uncovered_years_seen() == [2027]


def test_a_loaded_file_covers_2027(calendar: WorkCalendar) -> None:
    calendar.is_workday(date(2027, 1, 1))
    assert calendar.load_yaml(EXAMPLE_2027) == [2027]
    assert calendar.covered(2027)
    assert calendar.uncovered_years_seen() == []
    assert calendar.is_workday(date(2027, 10, 1)) is False  # 国庆节
    assert calendar.is_workday(date(2027, 10, 9)) is True  # Saturday, adjusted working day
    assert calendar.is_workday(date(2027, 1, 31)) is True  # Sunday, adjusted working day
    assert calendar.is_workday(date(2027, 1, 30)) is False  # an ordinary Saturday
    assert calendar.next_workday(date(2027, 9, 30)) == date(2027, 10, 8)
    assert calendar.holiday_name(date(2027, 2, 8)) == "春节"


def test_a_loaded_year_overrides_the_package(calendar: WorkCalendar) -> None:
    calendar.load_year(2023, holidays={date(2023, 3, 1): "试验"}, workdays={})
    assert calendar.is_workday(date(2023, 10, 2)) is True  # the package's 国庆节 is gone
    assert calendar.is_workday(date(2023, 3, 1)) is False
    assert calendar.is_workday(date(2024, 10, 2)) is False  # other years untouched


def test_without_the_package_every_year_is_uncovered() -> None:
    calendar = WorkCalendar(use_package=False)
    assert calendar.is_workday(date(2023, 10, 2)) is True
    assert calendar.uncovered_years_seen() == [2023]


@pytest.mark.parametrize("year", list(PACKAGE_YEARS))
def test_every_package_year_round_trips_through_yaml(year: int) -> None:
    calendar = WorkCalendar(use_package=False)
    assert calendar.load_yaml(calendar_year_to_yaml(year)) == [year]
    package = WorkCalendar()
    day = date(year, 1, 1)
    while day.year == year:
        assert calendar.is_workday(day) is chinese_calendar.is_workday(day), day
        assert calendar.holiday_name(day) == package.holiday_name(day), day
        day += dt.timedelta(days=1)
    assert calendar.uncovered_years_seen() == []


def test_2026_dump_names_its_holidays() -> None:
    text = calendar_year_to_yaml(2026)
    assert "year: 2026" in text
    assert '{name: "国庆节", from: 2026-10-01, to: 2026-10-07}' in text
    assert '{name: "春节", date: 2026-02-14}' in text  # an adjusted working day


def test_several_years_in_one_file(calendar: WorkCalendar, tmp_path: Path) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text(
        "year: 2027\nholidays:\n  - {name: 元旦, date: 2027-01-01}\n---\n"
        "year: 2028\nworkdays: [{name: 春节, date: 2028-01-29}]\n",
        encoding="utf-8",
    )
    assert calendar.load_yaml(str(path)) == [2027, 2028]
    assert calendar.is_workday(date(2027, 1, 1)) is False
    assert calendar.is_workday(date(2028, 1, 29)) is True  # a Saturday


BAD_FILES = [
    ("", "空"),
    ("year: [2027\n", "第2行: YAML 格式错误"),
    ("- 2027\n", "映射"),
    ("holidays: []\n", "year"),
    ("year: 27\n", "四位年份"),
    ("year: 2027\nholiday: []\n", "未知的键 holiday"),
    ("year: 2027\nholidays: {name: 元旦}\n", "列表"),
    ("year: 2027\nholidays:\n  - {date: 2027-01-01}\n", "第1项: 缺少 name"),
    ("year: 2027\nholidays:\n  - {name: 元旦}\n", "缺少 date"),
    ("year: 2027\nholidays:\n  - {name: 元旦, date: 1月1日}\n", "YYYY-MM-DD"),
    ("year: 2027\nholidays:\n  - {name: 元旦, date: 2026-12-31}\n", "不在 2027 年内"),
    ("year: 2027\nholidays:\n  - {name: 国庆, from: 2027-10-07, to: 2027-10-01}\n", "早于"),
    (
        "year: 2027\nholidays: [{name: 国庆, date: 2027-10-09}]\n"
        "workdays: [{name: 国庆, date: 2027-10-09}]\n",
        "既在 holidays 又在 workdays",
    ),
    ("year: 2027\n---\nyear: 2027\n", "两次"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_FILES)
def test_bad_calendar_files(calendar: WorkCalendar, text: str, problem: str) -> None:
    with pytest.raises(LedgerError, match=problem):
        calendar.load_yaml(text)
    assert calendar.loaded_years() == []


def test_errors_name_the_file(calendar: WorkCalendar, tmp_path: Path) -> None:
    path = tmp_path / "calendar-2027.yaml"
    path.write_text("year: 2027\nholidays:\n  - {name: 元旦, date: 2027-13-01}\n", "utf-8")
    with pytest.raises(LedgerError) as caught:
        calendar.load_yaml(path)
    assert caught.value.source == str(path)
    assert caught.value.place == "2027 年 holidays 第1项"


def test_load_year_checks_its_dates(calendar: WorkCalendar) -> None:
    with pytest.raises(LedgerError, match="不在 2027 年内"):
        calendar.load_year(2027, holidays={date(2028, 1, 1): "元旦"}, workdays={})
    with pytest.raises(LedgerError, match="既是放假日又是调休上班日"):
        calendar.load_year(2027, {date(2027, 1, 2): "元旦"}, {date(2027, 1, 2): "元旦"})
