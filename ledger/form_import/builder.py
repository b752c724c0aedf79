"""The plan builder: row events become Plan → Section → Item → Task, with warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import LedgerError
from ledger.form_import.grid import Block, Merge, Para
from ledger.form_import.header import Header
from ledger.form_import.preamble import (
    Preamble,
    guess_issuer,
    guess_rounds,
    guess_year,
    read_preamble,
    slug,
)
from ledger.form_import.rows import Continuation, Heading, RowValues, Skipped, events
from ledger.form_import.text import join_short, shorten
from ledger.model import Item, Layout, Plan, Section, Task


@dataclass(frozen=True)
class FormWarning:
    """Something the reader did that a person should know of; not an error."""

    message: str
    place: str = ""

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


@dataclass
class PlanImport:
    """A plan read from a form, with what the reader had to skip or could not interpret."""

    plan: Plan
    warnings: list[FormWarning] = field(default_factory=list)


class PlanBuilder:
    def __init__(self, source: str, key: str | None):
        self.source = source
        self.key = key
        self.warnings: list[FormWarning] = []
        self.sections: list[Section] = []
        self.section: Section | None = None
        self.item: Item | None = None
        self.places: dict[int, str] = {}
        self.last_task: Task | None = None
        self.layout: Layout | None = None
        self.answered: list[int] = []

    def fail(self, message: str, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place)

    def warn(self, message: str, place: str = "") -> None:
        self.warnings.append(FormWarning(message, place))

    def build(self, blocks: list[Block]) -> PlanImport:
        preamble_paras: list[Para] = []
        for event in events(blocks, self.source):
            if isinstance(event, Header):
                self.layout = self.layout or event.layout
            elif isinstance(event, Para):
                if not self.places:
                    preamble_paras.append(event)
            elif isinstance(event, Heading):
                self._start_section(event.title)
            elif isinstance(event, RowValues):
                self._add_task(event)
            elif isinstance(event, Continuation):
                self._continue_task(event.values)
            elif isinstance(event, Skipped):
                self.warn(f"跳过了表格中的一行：“{shorten(event.text)}”", event.place)
        return self._finish(read_preamble(preamble_paras))

    def _start_section(self, title: str | None) -> None:
        self.section = Section(title=title)
        self.sections.append(self.section)
        self.item = None

    def _add_task(self, row: RowValues) -> None:
        if row.section and (self.section is None or row.section != self.section.title):
            self._start_section(row.section)
        if self.section is None:
            self._start_section(None)
        self._place_item(row)
        if row.number in self.places:
            message = f"序号 {row.number} 重复（前一次在{self.places[row.number]}）"
            raise self.fail(message, row.place)
        if row.number <= 0:
            raise self.fail(f"序号应为正整数，而不是 {row.number}", row.place)
        self.places[row.number] = row.place
        task = Task(
            number=row.number,
            content=row.content,
            name=row.name,
            indicator=row.indicator,
            responsibility=row.responsibility,
            due_text=row.due,
        )
        assert self.item is not None
        self.item.tasks.append(task)
        self.last_task = task
        if row.progress:
            self.answered.append(row.number)

    def _place_item(self, row: RowValues) -> None:
        """The item a task row belongs to: a merged or blank 重点工作 cell continues the last."""
        assert self.section is not None
        same = self.item is not None and (
            row.item_merge is Merge.CONTINUE or not row.item or row.item == self.item.title
        )
        if same:
            return
        if not row.item:
            message = f"序号 {row.number} 的“重点工作”是空的，上面也没有可以接续的大项"
            raise self.fail(message, row.place)
        self.item = Item(title=row.item)
        self.section.items.append(self.item)

    def _continue_task(self, row: RowValues) -> None:
        task = self.last_task
        if task is None:
            raise self.fail("这一行接续上一行的序号，但上面没有任务", row.place)
        task.content = "\n".join(t for t in (task.content, row.content) if t)
        task.indicator = "\n".join(t for t in (task.indicator, row.indicator) if t)
        task.name = join_short([task.name, row.name])
        task.responsibility = join_short([task.responsibility, row.responsibility])
        task.due_text = join_short([task.due_text, row.due])
        if row.progress and task.number not in self.answered:
            self.answered.append(task.number)

    def _finish(self, preamble: Preamble) -> PlanImport:
        sections = self._kept_sections()
        tasks = [t for s in sections for i in s.items for t in i.tasks]
        if not tasks:
            raise self.fail("表格中没有任何任务（没有带序号的行）")
        for task in tasks:
            if not task.content:
                raise self.fail(f"序号 {task.number} 没有主要内容", self.places[task.number])
        title = preamble.title or (Path(self.source).stem if self.source[:1] != "<" else "")
        if not preamble.title:
            title = title or "未命名台账"
            self.warn("表格前没有标题，以文件名作标题")
        year = guess_year(title, preamble.subtitle, preamble.intro)
        plan = Plan(
            key=self.key or slug(self.source, year),
            title=title,
            subtitle=preamble.subtitle,
            layout=self.layout or Layout.FILL_FORM,
            sections=sections,
            year=year,
            issuer=guess_issuer(title),
            intro=preamble.intro,
            rounds=guess_rounds(preamble.intro, year),
        )
        self._check_plan(plan)
        return PlanImport(plan, self.warnings)

    def _kept_sections(self) -> list[Section]:
        kept = []
        for section in self.sections:
            if section.items:
                kept.append(section)
            elif section.title:
                self.warn(f"板块“{section.title}”下没有任务，已略去")
        if len(kept) > 1 and kept[0].title is None:
            first = kept[0].items[0].tasks[0].number
            message = "第一个板块标题之前有任务，它们归入一个无标题的板块"
            self.warn(message, self.places.get(first, ""))
        return kept

    def _check_plan(self, plan: Plan) -> None:
        if plan.year is None:
            self.warn("标题中没有年份（如“2023年”），没有年份的完成时限将无法识别")
        for task in plan.tasks():
            try:
                task.deadline(plan.year)
            except LedgerError as err:
                place = self.places[task.number]
                self.warn(f"序号 {task.number} 的完成时限按原文保留：{err.message}", place)
        if self.answered:
            numbers = "、".join(map(str, self.answered[:10])) + (
                "…" if len(self.answered) > 10 else ""
            )
            self.warn(
                f"有 {len(self.answered)} 个任务填了进展落实情况（序号 {numbers}）；导入计划不读取"
                "它们，导入填报内容请用 report import"
            )
