"""Working days on the official Chinese calendar: holidays, weekends and adjusted working days.

The `chinese-calendar` package knows the State Council's schedule up to the year it was
released for. Each next year's schedule is published around November; staff load it from a
small YAML file (see docs/calendar-format.md), and a loaded year overrides the package. A year
neither knows counts Monday to Friday as working days, never crashes, and is remembered so
that the command line can warn once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml
from chinese_calendar.constants import Holiday

from ledger.errors import LedgerError

ONE_DAY = dt.timedelta(days=1)
PACKAGE_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
_CHINESE_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}


@dataclass(frozen=True)
class YearSchedule:
    """One year's days off and adjusted working days (调休上班), each with the holiday's name."""

    year: int
    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]


class WorkCalendar:
    """Working-day arithmetic; `use_package=False` ignores chinese-calendar (for tests)."""

    def __init__(self, *, use_package: bool = True) -> None:
        self._use_package = use_package
        self._loaded: dict[int, YearSchedule] = {}
        self._uncovered_seen: set[int] = set()

    # -- what the calendar knows

    def load_year(
        self, year: int, holidays: dict[dt.date, str], workdays: dict[dt.date, str]
    ) -> None:
        """Use this schedule for `year`, instead of the package's or the weekday rule."""
        for day in itertools.chain(holidays, workdays):
            if day.year != year:
                raise LedgerError(f"{day.isoformat()} 不在 {year} 年内")
        both = sorted(set(holidays) & set(workdays))
        if both:
            raise LedgerError(f"{both[0].isoformat()} 既是放假日又是调休上班日")
        self._loaded[year] = YearSchedule(year, dict(holidays), dict(workdays))

    def load_yaml(self, path_or_text: str | Path) -> list[int]:
        """Load every year of a calendar file (or its text); returns the years loaded."""
        text, source = _read(path_or_text)
        schedules = parse_calendar_yaml(text, source=source)
        for schedule in schedules:
            self.load_year(schedule.year, schedule.holidays, schedule.workdays)
        return [schedule.year for schedule in schedules]

    def covered(self, year: int) -> bool:
        """True when the official schedule of `year` is known (loaded or in the package)."""
        return year in self._loaded or (self._use_package and year in PACKAGE_YEARS)

    def loaded_years(self) -> list[int]:
        return sorted(self._loaded)

    def uncovered_years_seen(self) -> list[int]:
        """Years asked about whose schedule is still unknown: weekdays were counted instead."""
        return sorted(year for year in self._uncovered_seen if not self.covered(year))

    # -- questions about days

    def is_workday(self, day: dt.date) -> bool:
        day = _as_date(day)
        schedule = self._loaded.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            return day not in schedule.holidays and day.weekday() < 5
        if self._use_package and day.year in PACKAGE_YEARS:
            return chinese_calendar.is_workday(day)
        self._uncovered_seen.add(day.year)
        return day.weekday() < 5

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday a day off or an adjusted working day belongs to, if any."""
        day = _as_date(day)
        schedule = self._loaded.get(day.year)
        if schedule is not None:
            return schedule.holidays.get(day) or schedule.workdays.get(day)
        if self._use_package and day.year in PACKAGE_YEARS:
            _, name = chinese_calendar.get_holiday_detail(day)
            return _CHINESE_HOLIDAY_NAMES.get(name, name) if name else None
        return None

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return next(d for d in _days_from(_as_date(day), +1) if self.is_workday(d))

    def previous_workday(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        return next(d for d in _days_from(_as_date(day), -1) if self.is_workday(d))

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it when n < 0); `day` itself for n = 0."""
        day = _as_date(day)
        step = self.next_workday if n > 0 else self.previous_workday
        for _ in range(abs(n)):
            day = step(day)
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start).

        So workdays_between(d, add_workdays(d, n)) == n for every working day d.
        """
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.workdays_between(end, start)
        days = (start + ONE_DAY * i for i in range(1, (end - start).days + 1))
        return sum(1 for d in days if self.is_workday(d))


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day


def _days_from(day: dt.date, step: int) -> Iterator[dt.date]:
    for i in itertools.count(1):
        yield day + ONE_DAY * (i * step)


# -- the YAML calendar file


def _read(path_or_text: str | Path) -> tuple[str, str | None]:
    """A Path, or a str naming an existing file, is read; any other str is the text itself."""
    if isinstance(path_or_text, Path) or _names_a_file(path_or_text):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8-sig"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise LedgerError(f"无法读取日历文件：{error}", source=str(path)) from None
    return path_or_text, None


def _names_a_file(text: str) -> bool:
    if "\n" in text or len(text) > 1024:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def parse_calendar_yaml(text: str, *, source: str | None = None) -> list[YearSchedule]:
    """Every year of a calendar file; one YAML document per year (separated by ---)."""
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as error:
        place = _yaml_place(error)
        problem = getattr(error, "problem", None) or str(error)
        raise LedgerError(f"YAML 格式错误：{problem}", source=source, place=place) from None
    if not documents:
        raise LedgerError("日历文件是空的", source=source)
    schedules = [_year_schedule(doc, source) for doc in documents]
    years = [s.year for s in schedules]
    if len(set(years)) != len(years):
        raise LedgerError("同一年份出现了两次", source=source)
    return schedules


class _Loader(yaml.SafeLoader):
    """Safe loading that leaves dates as text, so a bad date gets our message, not a crash."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _yaml_place(error: yaml.YAMLError) -> str | None:
    mark = getattr(error, "problem_mark", None)
    return f"第{mark.line + 1}行" if mark is not None else None


def _year_schedule(document: Any, source: str | None) -> YearSchedule:
    if not isinstance(document, dict):
        raise LedgerError("日历文件应当是一个映射（year、holidays、workdays）", source=source)
    _reject_unknown_keys(document, {"year", "source", "holidays", "workdays"}, None, source)
    year = document.get("year")
    if not isinstance(year, int) or not 1900 <= year <= 2999:
        raise LedgerError(f"year 应当是四位年份，而不是 {year!r}", source=source)
    holidays = _entries(document.get("holidays"), "holidays", year, source)
    workdays = _entries(document.get("workdays"), "workdays", year, source)
    both = sorted(set(holidays) & set(workdays))
    if both:
        place = f"{year} 年"
        message = f"{both[0].isoformat()} 既在 holidays 又在 workdays 中"
        raise LedgerError(message, source=source, place=place)
    return YearSchedule(year, holidays, workdays)


def _reject_unknown_keys(
    mapping: dict[Any, Any], known: set[str], place: str | None, source: str | None
) -> None:
    unknown = sorted(str(key) for key in mapping if key not in known)
    if unknown:
        expected = "、".join(sorted(known))
        message = f"未知的键 {unknown[0]}（可用的键：{expected}）"
        raise LedgerError(message, source=source, place=place)


def _entries(value: Any, key: str, year: int, source: str | None) -> dict[dt.date, str]:
    """`[{name, date | dates | from+to}, …]` as {day: name}."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise LedgerError(f"{key} 应当是一个列表", source=source, place=f"{year} 年")
    days: dict[dt.date, str] = {}
    for index, entry in enumerate(value, start=1):
        place = f"{year} 年 {key} 第{index}项"
        name, entry_days = _entry_days(entry, place, source)
        for day in entry_days:
            if day.year != year:
                raise LedgerError(
                    f"{day.isoformat()} 不在 {year} 年内", source=source, place=place
                )
            days[day] = name
    return days


def _entry_days(entry: Any, place: str, source: str | None) -> tuple[str, list[dt.date]]:
    if not isinstance(entry, dict):
        raise LedgerError(
            "每一项应当写 name 和 date / dates / from、to", source=source, place=place
        )
    _reject_unknown_keys(entry, {"name", "date", "dates", "from", "to"}, place, source)
    name = str(entry.get("name") or "").strip()
    if not name:
        raise LedgerError("缺少 name（节日名称）", source=source, place=place)
    if "from" in entry or "to" in entry:
        first = _day(entry.get("from"), place, source)
        last = _day(entry.get("to"), place, source)
        if last < first:
            raise LedgerError("to 早于 from", source=source, place=place)
        return name, [first + ONE_DAY * i for i in range((last - first).days + 1)]
    if "dates" in entry:
        dates = entry["dates"]
        if not isinstance(dates, list) or not dates:
            raise LedgerError("dates 应当是日期列表", source=source, place=place)
        return name, [_day(d, place, source) for d in dates]
    if "date" in entry:
        return name, [_day(entry["date"], place, source)]
    raise LedgerError("缺少 date、dates 或 from/to", source=source, place=place)


def _day(value: Any, place: str, source: str | None) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        message = f"日期应写作 YYYY-MM-DD，而不是 {value!r}"
        raise LedgerError(message, source=source, place=place) from None


def schedule_to_yaml(schedule: YearSchedule, *, comment: str = "") -> str:
    """A calendar file for one year, with consecutive days of one holiday as from/to ranges."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"year: {schedule.year}", "holidays:"]
    lines += _entry_lines(schedule.holidays) or ["  []"]
    lines += ["workdays:   # 调休上班日"]
    lines += _entry_lines(schedule.workdays) or ["  []"]
    return "\n".join(lines) + "\n"


def _entry_lines(days: dict[dt.date, str]) -> list[str]:
    lines = []
    for name, first, last in _runs(days):
        if first == last:
            lines.append(f"  - {{name: {_quoted(name)}, date: {first.isoformat()}}}")
        else:
            span = f"from: {first.isoformat()}, to: {last.isoformat()}"
            lines.append(f"  - {{name: {_quoted(name)}, {span}}}")
    return lines


def _quoted(name: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(name, ensure_ascii=False)


def _runs(days: dict[dt.date, str]) -> Iterable[tuple[str, dt.date, dt.date]]:
    """Consecutive days with the same name, as (name, first, last)."""
    ordered = sorted(days)
    start = 0
    for i, day in enumerate(ordered):
        last_of_run = i + 1 == len(ordered) or (
            ordered[i + 1] - day != ONE_DAY or days[ordered[i + 1]] != days[day]
        )
        if last_of_run:
            yield days[day], ordered[start], day
            start = i + 1


def package_schedule(year: int) -> YearSchedule:
    """The chinese-calendar package's schedule for a year it covers."""
    if year not in PACKAGE_YEARS:
        raise LedgerError(f"chinese-calendar 没有 {year} 年的节假日安排")
    return YearSchedule(
        year,
        _named_days(chinese_calendar.holidays, year),
        _named_days(chinese_calendar.workdays, year),
    )


def _named_days(days: dict[dt.date, str], year: int) -> dict[dt.date, str]:
    return {
        d: _CHINESE_HOLIDAY_NAMES.get(name, name) for d, name in days.items() if d.year == year
    }


def calendar_year_to_yaml(year: int) -> str:
    """Dump a year the package covers as a calendar file (the same format staff load)."""
    comment = f"{year} 年节假日安排，取自 chinese-calendar {_package_version()}"
    return schedule_to_yaml(package_schedule(year), comment=comment)


def _package_version() -> str:
    return str(getattr(chinese_calendar, "__version__", ""))
