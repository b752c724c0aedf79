"""The plan model: Plan → Section (板块) → Item (大项) → Task.

A plan with the `division` layout (任务分工) has no 板块: its items stand directly under the
plan, held in one untitled section so that every item still has a section.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.deadlines import Deadline, parse_deadline


class Layout(StrEnum):
    FILL_FORM = "fill-form"  # 填报版: 序号 重点工作 主要内容 量化指标 责任单位 完成时限 进展
    DIVISION = "division"  # 任务分工: 序号 重点任务 具体措施 责任科室 完成时限 (+ 进展情况)


class Status(StrEnum):
    """A unit's status for one task in one round."""

    NOT_STARTED = "not_started"  # 未开始
    IN_PROGRESS = "in_progress"  # 推进中
    DONE = "done"  # 已完成
    NOT_APPLICABLE = "not_applicable"  # 不涉及


class Role(StrEnum):
    LEAD = "lead"  # 牵头
    RESPONSIBLE = "responsible"  # 责任


@dataclass
class Task:
    number: int  # 序号
    content: str  # 主要内容 / 具体措施
    name: str = ""  # the short task name printed before the content, when the form has one
    indicator: str = ""  # 量化指标
    responsibility: str = ""  # 责任单位 / 责任科室, as written
    due_text: str = ""  # 完成时限, as written

    def deadline(self, plan_year: int | None) -> Deadline | None:
        """The parsed 完成时限, or None when the form gives none."""
        if not self.due_text.strip():
            return None
        return parse_deadline(self.due_text, default_year=plan_year)


@dataclass
class Item:
    title: str  # 重点工作 / 重点任务
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Section:
    title: str | None  # 板块 heading without its numeral; None for a plan without 板块
    items: list[Item] = field(default_factory=list)


@dataclass
class RoundSpec:
    """A reporting deadline the plan itself announces (e.g. 2023年8月10日、12月1日前)."""

    due: str  # ISO date
    name: str = ""
    reminders: dict | None = None  # this round's own reminder settings, over the plan's


@dataclass
class Plan:
    key: str  # short stable identifier used on the command line, e.g. xingqing-2023
    title: str
    layout: Layout
    sections: list[Section]
    subtitle: str = ""  # second title line, e.g. （填报版）
    year: int | None = None
    issuer: str = ""
    intro: str = ""
    directory: str = ""  # which units directory names the plan's units
    timezone: str = "Asia/Shanghai"
    rounds: list[RoundSpec] = field(default_factory=list)
    # Reminder settings for this plan's rounds (before, overdue_days, office_hours …), checked
    # by the scheduler when the plan is imported; None: the defaults.
    reminders: dict | None = None

    @property
    def has_sections(self) -> bool:
        return any(s.title for s in self.sections)

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def tasks(self) -> Iterator[Task]:
        for item in self.items():
            yield from item.tasks

    def task(self, number: int) -> Task:
        for task in self.tasks():
            if task.number == number:
                return task
        raise KeyError(number)

    def counts(self) -> dict[str, int]:
        sections = sum(1 for s in self.sections if s.title)
        return {
            "sections": sections,
            "items": sum(1 for _ in self.items()),
            "tasks": sum(1 for _ in self.tasks()),
        }

    def item_of(self, number: int) -> Item:
        for item in self.items():
            if any(t.number == number for t in item.tasks):
                return item
        raise KeyError(number)


CHINESE_NUMERALS = "一二三四五六七八九十"


def section_numeral(index: int) -> str:
    """一、二、… for the 0-based index of a 板块 (up to 九十九)."""
    n = index + 1
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens - 1]
    return head + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")
