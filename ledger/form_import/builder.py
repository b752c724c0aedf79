"""The plan builder: row events become Plan → Section → Item → Task, with warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import LedgerError
from ledger.form_import.grid import Block, Merge, Para
from ledger.form_import.header import Header, Recogniser
from ledger.form_import.preamble import (
    Notice,
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
    # The columns as recognised, per distinct header: {"table", "place", "columns": [{"header",
    # "role", "label", "how"}]}; a table without a 完成时限 column adds {"role": "due",
    # "how": "text"} when deadlines were read out of the task text.
    columns: list[dict] = field(default_factory=list)
    notice: Notice | None = None  # the 通知 printed in front of the table, when there is one
    numbering: str = "column"  # column | text (1.… opening the task text) | order (assigned)


_UNGROUPED = "未分组任务"
_ALL_TASKS = "全部任务"


@dataclass
class _Entry:
    task: Task
    row: RowValues
    h1: tuple[int, str] | None  # (index of the heading, title) of the 板块 it is under
    h2: tuple[int, str] | None  # (index, title) of the （一）… group


# A 重点工作 repeated on the next page with （续） (as taizhang's own forms print it)
# continues the item.
_CONTINUED = ("（续）", "(续)", "（续表）")


class PlanBuilder:
    def __init__(
        self,
        source: str,
        key: str | None,
        recogniser: Recogniser | None = None,
        year: int | None = None,
    ):
        self.source = source
        self.key = key
        self.recogniser = recogniser or Recogniser()
        self.year = year
        self.warnings: list[FormWarning] = []
        self.entries: list[_Entry] = []
        self.headings: list[tuple[int, int, str]] = []  # (index, level, title)
        self.h1: tuple[int, str] | None = None
        self.h2: tuple[int, str] | None = None
        self.layout: Layout | None = None
        self.headers: list[Header] = []
        self.answered: list[int] = []
        self.item_column_names_tasks = False

    def fail(self, message: str, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place)

    def warn(self, message: str, place: str = "") -> None:
        self.warnings.append(FormWarning(message, place))

    def build(self, blocks: list[Block]) -> PlanImport:
        preamble_paras: list[Para] = []
        for event in events(blocks, self.source, self.recogniser):
            if isinstance(event, Header):
                self.layout = self.layout or event.layout
                self.headers.append(event)
            elif isinstance(event, Para):
                if not self.entries:
                    preamble_paras.append(event)
            elif isinstance(event, Heading):
                self._heading(event.level, event.title)
            elif isinstance(event, RowValues):
                self._add_task(event)
            elif isinstance(event, Continuation):
                self._continue_task(event.values)
            elif isinstance(event, Skipped):
                self.warn(f"跳过了表格中的一行：“{shorten(event.text)}”", event.place)
        return self._finish(read_preamble(preamble_paras))

    # --- collecting ------------------------------------------------------------------------

    def _heading(self, level: int, title: str) -> tuple[int, str]:
        mark = (len(self.headings), title)
        self.headings.append((mark[0], level, title))
        if level == 1:
            self.h1, self.h2 = mark, None
        else:
            self.h2 = mark
        return mark

    def _add_task(self, row: RowValues) -> None:
        if row.section and (self.h1 is None or row.section != self.h1[1]):
            self._heading(1, row.section)
        task = Task(
            number=row.number or 0,
            content=row.content,
            name=row.name,
            indicator=row.indicator,
            responsibility=row.responsibility,
            due_text=row.due,
        )
        self.entries.append(_Entry(task, row, self.h1, self.h2))
        if row.progress:
            self.answered.append(id(task))

    def _continue_task(self, row: RowValues) -> None:
        if not self.entries:
            raise self.fail("这一行接续上一行的序号，但上面没有任务", row.place)
        task = self.entries[-1].task
        task.content = "\n".join(t for t in (task.content, row.content) if t)
        task.indicator = "\n".join(t for t in (task.indicator, row.indicator) if t)
        task.name = join_short([task.name, row.name])
        task.responsibility = join_short([task.responsibility, row.responsibility])
        if not self.entries[-1].row.due_from_text:
            task.due_text = join_short([task.due_text, row.due])
        if row.progress and id(task) not in self.answered:
            self.answered.append(id(task))

    # --- numbers ---------------------------------------------------------------------------

    def _number_tasks(self) -> str:
        """Numbers as the table gives them; renumbered in order where it gives none, or where
        each 板块 or group counts from 1 again. Returns how the numbers were found."""
        entries = self.entries
        if any(e.row.number is None for e in entries):
            given = sum(e.row.number is not None for e in entries)
            for index, entry in enumerate(entries, start=1):
                entry.task.number = index
            if given:
                missing = len(entries) - given
                self.warn(f"有 {missing} 个任务没有序号：全部任务按顺序编为 1–{len(entries)}")
            else:
                self.warn(f"表格没有序号：任务按顺序编为 1–{len(entries)}")
            return "order"
        places: dict[int, str] = {}
        restarts = False
        previous: _Entry | None = None
        for entry in entries:
            number = entry.task.number
            if number <= 0:
                raise self.fail(f"序号应为正整数，而不是 {number}", entry.row.place)
            if number in places:
                new_group = (
                    previous is not None
                    and ((entry.h1, entry.h2) != (previous.h1, previous.h2))
                    and number <= previous.task.number
                )
                if not (new_group or restarts) or self._repeats_in_group(entry):
                    message = f"序号 {number} 重复（前一次在{places[number]}）"
                    raise self.fail(message, entry.row.place)
                restarts = True
            places.setdefault(number, entry.row.place)
            previous = entry
        if restarts:
            for index, entry in enumerate(entries, start=1):
                entry.task.number = index
            self.warn(f"各部分的序号分别从 1 编起：全部任务按顺序重新编为 1–{len(entries)}")
            return "order"
        return "text" if any(e.row.number_from == "text" for e in entries) else "column"

    def _repeats_in_group(self, entry: _Entry) -> bool:
        group = [e for e in self.entries if (e.h1, e.h2) == (entry.h1, entry.h2)]
        numbers = [e.task.number for e in group]
        return len(numbers) != len(set(numbers))

    # --- the tree --------------------------------------------------------------------------

    def _assemble(self) -> list[Section]:
        entries = self.entries
        has_item = any(e.row.item for e in entries)
        levels = {lvl for index, lvl, _title in self.headings if self._used(index)}
        items_from_headings = not has_item or 2 in levels
        self.item_column_names_tasks = has_item and items_from_headings
        sections: dict[object, Section] = {}
        items: dict[object, Item] = {}
        current: Item | None = None
        current_section: object = ()
        ungrouped = False
        for entry in entries:
            task, row = entry.task, entry.row
            if items_from_headings:
                if has_item and not task.name and row.item and row.item != task.content:
                    task.name = row.item  # 工作任务 under （一）… groups: the task's name
                if 1 in levels and 2 in levels:
                    section_mark, item_mark = entry.h1, entry.h2 or entry.h1
                elif levels:
                    section_mark, item_mark = None, entry.h2 or entry.h1
                else:
                    section_mark, item_mark = None, ("all", _ALL_TASKS)
                if item_mark is None:
                    item_mark, ungrouped = ("none", _UNGROUPED), True
                section = self._section(sections, section_mark)
                key = (section_mark, item_mark)
                if key not in items:
                    items[key] = Item(title=item_mark[1])
                    section.items.append(items[key])
                items[key].tasks.append(task)
                continue
            section_mark = entry.h1 if 1 in levels else entry.h2
            section = self._section(sections, section_mark)
            if section_mark != current_section:
                current, current_section = None, section_mark
            same = current is not None and (
                row.item_merge is Merge.CONTINUE
                or not row.item
                or row.item in (current.title, *(current.title + c for c in _CONTINUED))
            )
            if not same:
                if not row.item:
                    message = f"序号 {task.number} 的“重点工作”是空的，上面也没有可以接续的大项"
                    raise self.fail(message, row.place)
                current = Item(title=row.item)
                section.items.append(current)
            assert current is not None
            current.tasks.append(task)
        if ungrouped:
            self.warn(f"第一个标题之前有任务，它们归入大项“{_UNGROUPED}”")
        if not has_item and not levels:
            self.warn(f"表格没有重点工作列，也没有分组标题：全部任务归入大项“{_ALL_TASKS}”")
        for index, level, title in self.headings:
            if not self._used(index) and level == 2:
                self.warn(f"分组“{title}”下没有任务，已略去")
        return list(sections.values())

    def _used(self, index: int) -> bool:
        return any(
            (e.h1 is not None and e.h1[0] == index) or (e.h2 is not None and e.h2[0] == index)
            for e in self.entries
        )

    def _section(self, sections: dict[object, Section], mark: tuple | None) -> Section:
        if mark not in sections:
            sections[mark] = Section(title=mark[1] if mark else None)
        return sections[mark]

    # --- the plan --------------------------------------------------------------------------

    def _finish(self, preamble: Preamble) -> PlanImport:
        if not self.entries:
            raise self.fail("表格中没有任何任务（没有带序号的行）")
        for entry in self.entries:
            if not entry.task.content:
                number = entry.row.number if entry.row.number is not None else "（无）"
                raise self.fail(f"序号 {number} 没有主要内容", entry.row.place)
        numbering = self._number_tasks()
        places = {e.task.number: e.row.place for e in self.entries}
        sections = self._kept_sections(self._assemble(), places)
        title = preamble.title or (Path(self.source).stem if self.source[:1] != "<" else "")
        if not preamble.title:
            title = title or "未命名台账"
            self.warn("表格前没有标题，以文件名作标题")
        notice = preamble.notice
        year = self.year or guess_year(
            title,
            preamble.subtitle,
            notice.title if notice else "",
            notice.date if notice else "",
            notice.number if notice else "",
            preamble.intro,
        )
        plan = Plan(
            key=self.key or slug(self.source, year),
            title=title,
            subtitle=preamble.subtitle,
            layout=self.layout or Layout.FILL_FORM,
            sections=sections,
            year=year,
            issuer=(notice.issuer if notice and notice.issuer else guess_issuer(title)),
            intro=preamble.intro,
            rounds=guess_rounds(preamble.intro, year),
        )
        self._check_plan(plan, places)
        self._check_mapping()
        return PlanImport(plan, self.warnings, self._columns(), notice, numbering)

    def _kept_sections(self, sections: list[Section], places: dict[int, str]) -> list[Section]:
        kept = [s for s in sections if s.items]
        used_titles = {s.title for s in kept}
        for _, level, title in self.headings:
            if level == 1 and title not in used_titles and not self._used_title(title):
                self.warn(f"板块“{title}”下没有任务，已略去")
        if len(kept) > 1 and kept[0].title is None:
            first = kept[0].items[0].tasks[0].number
            message = "第一个板块标题之前有任务，它们归入一个无标题的板块"
            self.warn(message, places.get(first, ""))
        return kept

    def _used_title(self, title: str) -> bool:
        return any(
            (e.h1 is not None and e.h1[1] == title) or (e.h2 is not None and e.h2[1] == title)
            for e in self.entries
        )

    def _columns(self) -> list[dict]:
        described: list[dict] = []
        for header in self.headers:
            columns = header.describe()
            for column in columns:
                if column["role"] == "item" and self.item_column_names_tasks:
                    # the （一）… groups are the 大项; this column names each task
                    column.update(role="name", label="任务名称", how="position")
            if any(d["columns"] == columns for d in described):
                continue
            described.append({"table": header.table, "place": header.place, "columns": columns})
        if any(e.row.due_from_text for e in self.entries) and described:
            described[0]["columns"].append(
                {"header": "", "role": "due", "label": "完成时限", "how": "text"}
            )
        return described

    def _check_mapping(self) -> None:
        mapping = self.recogniser.mapping
        if not mapping:
            return
        used = mapping.keys_used(self.recogniser.seen)
        for key in mapping.roles:
            if key not in used:
                self.warn(f"列映射中的“{key}”在表头中没有找到")

    def _check_plan(self, plan: Plan, places: dict[int, str]) -> None:
        if plan.year is None:
            self.warn(
                "标题中没有年份（如“2023年”），没有年份的完成时限将无法识别；可用 --year 指定"
            )
        for task in plan.tasks():
            try:
                task.deadline(plan.year)
            except LedgerError as err:
                place = places.get(task.number, "")
                self.warn(f"序号 {task.number} 的完成时限按原文保留：{err.message}", place)
        if self.answered:
            by_id = {id(e.task): e.task.number for e in self.entries}
            numbers = [by_id[i] for i in self.answered]
            shown = "、".join(map(str, numbers[:10])) + ("…" if len(numbers) > 10 else "")
            self.warn(
                f"有 {len(numbers)} 个任务填了进展落实情况（序号 {shown}）；导入计划不读取"
                "它们，导入填报内容请用 report import"
            )
