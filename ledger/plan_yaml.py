"""The YAML plan format (docs/plan-format.md): read with checks that name the place, and write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.model import Item, Layout, Plan, RoundSpec, Section, Task
from ledger.yamlio import dump_yaml, load_yaml_file, load_yaml_text, place_of

PLAN_FORMAT = "taizhang-plan/1"
_TASK_KEYS = {"number", "name", "content", "indicator", "responsibility", "due"}


def load_plan(path: Path | str) -> Plan:
    path = Path(path)
    return plan_from_data(load_yaml_file(path), str(path))


def loads_plan(text: str, source: str = "<plan>") -> Plan:
    return plan_from_data(load_yaml_text(text, source), source)


def plan_from_data(data: Any, source: str) -> Plan:
    try:
        return _PlanReader(source).read(data)
    except LedgerError as err:
        raise err if err.source else err.located(source) from None


class _PlanReader:
    def __init__(self, source: str):
        self.source = source
        self.numbers_seen: dict[int, str | None] = {}

    def fail(self, message: str, node: Any = None, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place_of(node, place))

    def read(self, data: Any) -> Plan:
        if not isinstance(data, dict):
            raise self.fail("计划文件应为一个映射（键: 值），而不是空文件或列表")
        layout = self._layout(data)
        plan = Plan(
            key=self._text(data, "key", required=True),
            title=self._text(data, "title", required=True),
            subtitle=self._text(data, "subtitle"),
            layout=layout,
            sections=self._sections(data, layout),
            year=self._year(data),
            issuer=self._text(data, "issuer"),
            intro=self._text(data, "intro"),
            directory=self._text(data, "directory"),
            timezone=self._text(data, "timezone") or "Asia/Shanghai",
            rounds=self._rounds(data),
            reminders=self._reminders(data),
        )
        for task in plan.tasks():
            self._check_deadline(task, plan.year)
        if not any(True for _ in plan.tasks()):
            raise self.fail("计划中没有任何任务", data)
        return plan

    def _layout(self, data: dict) -> Layout:
        value = self._text(data, "layout", required=True)
        try:
            return Layout(value)
        except ValueError:
            allowed = "、".join(x.value for x in Layout)
            raise self.fail(f"未知的版式“{value}”（可用：{allowed}）", data) from None

    def _text(self, node: dict, key: str, required: bool = False) -> str:
        value = node.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(f"缺少“{key}”", node)
            return ""
        if isinstance(value, dict | list):
            raise self.fail(f"“{key}”应为文字", node)
        return str(value).strip()

    def _year(self, data: dict) -> int | None:
        value = data.get("year")
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise self.fail(f"“year”应为年份数字，而不是“{value}”", data) from None

    def _rounds(self, data: dict) -> list[RoundSpec]:
        rounds = []
        for node in self._list(data, "rounds"):
            due = self._text(node, "due", required=True)
            try:
                dt.date.fromisoformat(due)
            except ValueError:
                raise self.fail(f"报送日期“{due}”应写成 YYYY-MM-DD", node) from None
            rounds.append(
                RoundSpec(due=due, name=self._text(node, "name"), reminders=self._reminders(node))
            )
        return rounds

    def _reminders(self, data: dict) -> dict | None:
        value = data.get("reminders")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(
                "“reminders”应为一个映射（before、overdue_days、office_hours …）", data
            )
        return _plain(value)

    def _list(self, node: dict, key: str, required: bool = False) -> list:
        value = node.get(key)
        if value is None:
            if required:
                raise self.fail(f"缺少“{key}”", node)
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"“{key}”应为列表，每项为一个映射", value if value else node)
        return value

    def _sections(self, data: dict, layout: Layout) -> list[Section]:
        if "sections" in data and "items" in data:
            raise self.fail("“sections”与“items”只能有一个：有板块写 sections，没有写 items", data)
        if "items" in data:
            return [Section(title=None, items=self._items(data))]
        sections = []
        for node in self._list(data, "sections", required=True):
            title = self._text(node, "title", required=True)
            sections.append(Section(title=title, items=self._items(node)))
        return sections

    def _items(self, node: dict) -> list[Item]:
        items = []
        for item_node in self._list(node, "items", required=True):
            title = self._text(item_node, "title", required=True)
            tasks = [self._task(t) for t in self._list(item_node, "tasks", required=True)]
            if not tasks:
                raise self.fail(f"大项“{title}”下没有任务", item_node)
            items.append(Item(title=title, tasks=tasks))
        return items

    def _task(self, node: dict) -> Task:
        unknown = set(node) - _TASK_KEYS
        if unknown:
            raise self.fail(f"任务中有未知的键：{'、'.join(sorted(map(str, unknown)))}", node)
        number = self._number(node)
        content = self._text(node, "content")
        if not content:
            raise self.fail(f"序号 {number} 的任务没有主要内容（content）", node)
        if number in self.numbers_seen:
            raise self.fail(f"序号 {number} 重复（前一次在{self.numbers_seen[number]}）", node)
        self.numbers_seen[number] = place_of(node, "前文")
        return Task(
            number=number,
            content=content,
            name=self._text(node, "name"),
            indicator=self._text(node, "indicator"),
            responsibility=self._text(node, "responsibility"),
            due_text=self._text(node, "due"),
        )

    def _number(self, node: dict) -> int:
        value = node.get("number")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise self.fail(f"任务的序号（number）应为正整数，而不是“{value}”", node) from None
        if number <= 0:
            raise self.fail(f"任务的序号（number）应为正整数，而不是“{value}”", node)
        return number

    def _check_deadline(self, task: Task, year: int | None) -> None:
        try:
            task.deadline(year)
        except LedgerError as err:
            raise self.fail(f"序号 {task.number} 的完成时限：{err.message}") from None


def _plain(value: Any) -> Any:
    """Mappings and lists as plain dict and list (the reader's line-remembering kinds are not
    wanted in a stored setting)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def plan_to_data(plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = {"format": PLAN_FORMAT, "key": plan.key, "title": plan.title}
    optional = {
        "subtitle": plan.subtitle,
        "year": plan.year,
        "issuer": plan.issuer,
        "layout": plan.layout.value,
        "directory": plan.directory,
        "timezone": plan.timezone,
        "intro": plan.intro,
    }
    data.update({k: v for k, v in optional.items() if v not in ("", None)})
    if plan.rounds:
        data["rounds"] = [_round_data(r) for r in plan.rounds]
    if plan.reminders:
        data["reminders"] = plan.reminders
    if plan.has_sections:
        data["sections"] = [
            {"title": s.title, "items": [_item_data(i) for i in s.items]} for s in plan.sections
        ]
    else:
        data["items"] = [_item_data(i) for i in plan.items()]
    return data


def _round_data(spec: RoundSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"due": spec.due}
    if spec.name:
        data["name"] = spec.name
    if spec.reminders:
        data["reminders"] = spec.reminders
    return data


def _item_data(item: Item) -> dict[str, Any]:
    return {"title": item.title, "tasks": [_task_data(t) for t in item.tasks]}


def _task_data(task: Task) -> dict[str, Any]:
    data: dict[str, Any] = {"number": task.number}
    fields = {
        "name": task.name,
        "content": task.content,
        "indicator": task.indicator,
        "responsibility": task.responsibility,
        "due": task.due_text,
    }
    data.update({k: v for k, v in fields.items() if v})
    return data


def dump_plan(plan: Plan) -> str:
    return dump_yaml(plan_to_data(plan))
