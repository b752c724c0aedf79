"""A unit's filled report for one round: the YAML report format (docs/report-format.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.model import Status
from ledger.yamlio import dump_yaml, load_yaml_file, load_yaml_text, place_of

REPORT_FORMAT = "taizhang-report/1"


@dataclass
class Answer:
    task: int  # 序号
    text: str = ""  # 进展落实情况
    status: Status | None = None  # None: the form said nothing about status
    reason: str = ""  # why not applicable


@dataclass
class UnitReport:
    unit: str  # 填报单位, as written
    answers: list[Answer] = field(default_factory=list)
    plan: str = ""  # plan key
    round: str = ""  # round due date, YYYY-MM-DD
    contact: str = ""  # 联系人
    phone: str = ""  # 联系电话

    def answer(self, task: int) -> Answer | None:
        return next((a for a in self.answers if a.task == task), None)


def load_report(path: Path | str) -> UnitReport:
    path = Path(path)
    return report_from_data(load_yaml_file(path), str(path))


def loads_report(text: str, source: str = "<report>") -> UnitReport:
    return report_from_data(load_yaml_text(text, source), source)


def report_from_data(data: Any, source: str) -> UnitReport:
    def fail(message: str, node: Any) -> LedgerError:
        return LedgerError(message, source=source, place=place_of(node))

    if not isinstance(data, dict):
        raise fail("报表文件应为一个映射（键: 值）", data)
    unit = str(data.get("unit") or "").strip()
    if not unit:
        raise fail("缺少填报单位（unit）", data)
    round_due = str(data.get("round") or "").strip()
    if round_due:
        try:
            dt.date.fromisoformat(round_due)
        except ValueError:
            raise fail(f"报送轮次“{round_due}”应写成 YYYY-MM-DD", data) from None
    entries = data.get("entries") or []
    if not isinstance(entries, list):
        raise fail("“entries”应为列表", data)
    answers: list[Answer] = []
    for node in entries:
        answer = _answer(node, fail)
        if any(a.task == answer.task for a in answers):
            raise fail(f"序号 {answer.task} 出现了两次", node)
        answers.append(answer)
    return UnitReport(
        unit=unit,
        answers=answers,
        plan=str(data.get("plan") or "").strip(),
        round=round_due,
        contact=str(data.get("contact") or "").strip(),
        phone=str(data.get("phone") or "").strip(),
    )


def _answer(node: Any, fail) -> Answer:
    if not isinstance(node, dict):
        raise fail("每条填报应为一个映射（task、text …）", node)
    try:
        task = int(node.get("task"))
    except (TypeError, ValueError):
        raise fail(f"序号（task）应为正整数，而不是“{node.get('task')}”", node) from None
    status = node.get("status")
    if status is not None:
        try:
            status = Status(str(status))
        except ValueError:
            allowed = "、".join(s.value for s in Status)
            raise fail(f"未知的状态“{status}”（可用：{allowed}）", node) from None
    return Answer(
        task=task,
        text=str(node.get("text") or "").strip(),
        status=status,
        reason=str(node.get("reason") or "").strip(),
    )


def report_to_data(report: UnitReport) -> dict[str, Any]:
    data: dict[str, Any] = {"format": REPORT_FORMAT}
    header = {
        "plan": report.plan,
        "round": report.round,
        "unit": report.unit,
        "contact": report.contact,
        "phone": report.phone,
    }
    data.update({k: v for k, v in header.items() if v})
    data["entries"] = [_answer_data(a) for a in report.answers]
    return data


def _answer_data(answer: Answer) -> dict[str, Any]:
    data: dict[str, Any] = {"task": answer.task}
    if answer.status:
        data["status"] = answer.status.value
    if answer.reason:
        data["reason"] = answer.reason
    if answer.text:
        data["text"] = answer.text
    return data


def dump_report(report: UnitReport) -> str:
    return dump_yaml(report_to_data(report))
