"""The pure input of every export: one plan, one round, its units, answers and submissions.

`RoundData` holds everything the DOCX, XLSX and archive writers need and nothing else; the
project builds it from the database (or, for a single YAML report, with
`RoundData.for_report`). Every writer reads it through the helpers here, so all documents
agree on who answers for what, in which order, and how an answer is printed:

- `assigned_units(task)` — the units that answer for a task, lead (牵头) units first;
- `task_progress(task)` — who answered, who submitted but left the task blank (未填写),
  who has not submitted at all (未报送);
- `cell_state(unit, task)` — the one word the status matrix shows;
- `answer_lines(answer)` / `answer_from_lines(task, lines)` — the printed form of an answer
  in a 进展落实情况 cell and its inverse (docs/forms.md, “进展落实情况 cell”);
- `clean_text(text)` — text with the characters Word and Excel cannot hold removed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.errors import LedgerError
from ledger.model import Plan, Role, Status
from ledger.report import Answer, UnitReport

__all__ = [
    "DRAFT_MARK",
    "STATUS_LABELS",
    "Answer",
    "CellState",
    "EvidenceFile",
    "RoundData",
    "SubmissionInfo",
    "TaskProgress",
    "UnitAnswer",
    "UnitInfo",
    "answer_from_lines",
    "answer_lines",
    "clean_text",
    "round_label",
]

DRAFT_MARK = "草稿，未提交"

STATUS_LABELS: dict[Status, str] = {
    Status.NOT_STARTED: "未开始",
    Status.IN_PROGRESS: "推进中",
    Status.DONE: "已完成",
    Status.NOT_APPLICABLE: "不涉及",
}

# XML 1.0 cannot hold C0 controls other than tab, LF and CR, lone surrogates, or U+FFFE/U+FFFF;
# C1 controls and DEL are legal XML but Word and Excel show them as boxes.
_UNHOLDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_STATUS_MARK = re.compile(r"^【(?P<label>未开始|推进中|已完成|不涉及)】")


def clean_text(text: str) -> str:
    """The text with what a Word or Excel cell cannot hold removed; CR/CRLF become LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNHOLDABLE.sub("", text)


def text_lines(text: str) -> list[str]:
    """The cleaned lines of a text, without leading or trailing blank lines."""
    lines = [line.rstrip() for line in clean_text(text).split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def answer_lines(answer: Answer) -> list[str]:
    """The paragraphs of an answer as a 进展落实情况 cell prints them.

    Without a status the cell holds only the text, as the seed form does. With one, the
    first paragraph starts with the status in 【】: `【已完成】text…`. A 不涉及 answer's first
    paragraph is `【不涉及】reason` (on one line); its text, if any, follows in the next ones.
    """
    lines = text_lines(answer.text)
    if answer.status is None:
        return lines
    mark = f"【{STATUS_LABELS[answer.status]}】"
    if answer.status is Status.NOT_APPLICABLE:
        reason = " ".join(text_lines(answer.reason))
        return [mark + reason, *lines]
    if not lines:
        return [mark]
    return [mark + lines[0], *lines[1:]]


def answer_from_lines(task: int, lines: list[str]) -> Answer:
    """The answer a cell printed by `answer_lines` holds (the importer's side)."""
    lines = list(lines)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return Answer(task=task)
    match = _STATUS_MARK.match(lines[0].strip())
    if not match:
        return Answer(task=task, text="\n".join(lines).strip())
    status = next(s for s, label in STATUS_LABELS.items() if label == match["label"])
    rest = lines[0].strip()[match.end() :]
    if status is Status.NOT_APPLICABLE:
        return Answer(
            task=task, status=status, reason=rest.strip(), text="\n".join(lines[1:]).strip()
        )
    return Answer(task=task, status=status, text="\n".join([rest, *lines[1:]]).strip())


def round_label(due: dt.date, name: str = "") -> str:
    """How a round is named in a document: its name, or its date as 2023年12月1日."""
    return name.strip() or f"{due.year}年{due.month}月{due.day}日"


def is_answered(answer: Answer | None) -> bool:
    """True when the unit said something for the task: a text, a status or a reason."""
    return answer is not None and bool(
        answer.status or clean_text(answer.text).strip() or answer.reason.strip()
    )


@dataclass(frozen=True)
class UnitInfo:
    """A reporting unit as the documents print it."""

    name: str  # canonical, e.g. 兴庆区医疗保障局
    short_name: str = ""  # as the forms write it, e.g. 医保局
    contact: str = ""  # the 联系人 printed on the unit's form
    phone: str = ""  # the 联系电话 printed on the unit's form

    @property
    def label(self) -> str:
        """The short name, or the name when there is none."""
        return self.short_name or self.name


# The answer of one unit for one task; the report format's Answer serves as it is.
UnitAnswer = Answer


@dataclass(frozen=True)
class SubmissionInfo:
    """A unit's confirmed report for the round."""

    unit: str  # UnitInfo.name
    contact: str  # who submitted
    submitted_at: dt.datetime  # timezone-aware
    on_time: bool
    receipt: str = ""  # receipt number given to the unit
    version: int = 1  # 1 for the first submission, +1 for each resubmission

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None:
            raise ValueError("SubmissionInfo.submitted_at must be timezone-aware")


@dataclass(frozen=True)
class EvidenceFile:
    """A file a unit attached to a task: its bytes, or the path where they are stored."""

    unit: str  # UnitInfo.name
    task: int
    filename: str  # as uploaded; made safe when written into the archive
    data: bytes | Path

    def open(self):
        """A binary stream of the file's bytes."""
        import io

        if isinstance(self.data, bytes | bytearray):
            return io.BytesIO(self.data)
        return open(self.data, "rb")  # the caller closes it


class CellState(StrEnum):
    """What the status matrix shows for one unit and one task."""

    DONE = "已完成"
    IN_PROGRESS = "推进中"
    NOT_STARTED = "未开始"
    NOT_APPLICABLE = "不涉及"
    ANSWERED = "已填报"  # a text without a status
    LEFT_BLANK = "未填写"  # the unit submitted, but said nothing for this task
    MISSING = "未报送"  # the unit has not submitted


_STATE_OF_STATUS = {
    Status.DONE: CellState.DONE,
    Status.IN_PROGRESS: CellState.IN_PROGRESS,
    Status.NOT_STARTED: CellState.NOT_STARTED,
    Status.NOT_APPLICABLE: CellState.NOT_APPLICABLE,
}


@dataclass(frozen=True)
class AnsweringUnit:
    unit: UnitInfo
    role: Role | None  # None: the unit answered a task it is not assigned to
    answer: Answer


@dataclass(frozen=True)
class TaskProgress:
    """Who said what for one task, in print order."""

    task: int
    answered: list[AnsweringUnit]  # assigned units in assignment order, then the others
    left_blank: list[UnitInfo]  # assigned, submitted, but nothing for this task
    missing: list[UnitInfo]  # assigned and not submitted


@dataclass
class RoundData:
    """One round of one plan, ready to print.

    `assignments` maps a task number to the units answering for it with their role (unit
    names as in `units`); `answers` maps (unit name, task number) to the unit's answer;
    `submissions` maps a unit name to its confirmed submission. A unit without an entry in
    `submissions` has not reported. `timezone` (IANA name) defaults to the plan's. The
    archive prints what units submitted; with `draft` the answers are the current ones and
    every page of every document is marked `DRAFT_MARK` (草稿，未提交). Build it
    complete: it is read, never changed, once made (lookups are indexed at construction).
    """

    plan: Plan
    round_name: str
    round_due: dt.date
    units: list[UnitInfo]
    assignments: dict[int, list[tuple[str, Role]]] = field(default_factory=dict)
    answers: dict[tuple[str, int], Answer] = field(default_factory=dict)
    submissions: dict[str, SubmissionInfo] = field(default_factory=dict)
    evidence: list[EvidenceFile] = field(default_factory=list)
    timezone: str = ""
    draft: bool = False  # the answers as they stand, not as submitted: pages say DRAFT_MARK

    def __post_init__(self) -> None:
        self._by_name = {u.name: u for u in self.units}
        self._by_short = {u.short_name: u for u in self.units if u.short_name}
        self._assigned = {n: {name for name, _ in pairs} for n, pairs in self.assignments.items()}
        known = set(self._by_name)
        for number, pairs in self.assignments.items():
            for name, _ in pairs:
                if name not in known:
                    raise LedgerError(f"序号 {number} 分配给了未列出的单位“{name}”")
        for name, _ in self.answers:
            if name not in known:
                raise LedgerError(f"未列出的单位“{name}”有填报内容")

    @classmethod
    def for_report(
        cls, plan: Plan, report: UnitReport, unit: UnitInfo | None = None, round_name: str = ""
    ) -> RoundData:
        """A round holding one unit's YAML report, the unit answering for what it filled."""
        unit = unit or UnitInfo(report.unit, contact=report.contact, phone=report.phone)
        due = report.round or (plan.rounds[-1].due if plan.rounds else dt.date.today().isoformat())
        return cls(
            plan=plan,
            round_name=round_name,
            round_due=dt.date.fromisoformat(due),
            units=[unit],
            assignments={a.task: [(unit.name, Role.RESPONSIBLE)] for a in report.answers},
            answers={(unit.name, a.task): a for a in report.answers},
        )

    @property
    def label(self) -> str:
        return round_label(self.round_due, self.round_name)

    @property
    def zone(self) -> ZoneInfo:
        name = self.timezone or self.plan.timezone or "Asia/Shanghai"
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise LedgerError(f"未知的时区“{name}”") from None

    def unit(self, name: str) -> UnitInfo:
        """The unit by its name or short name."""
        found = self._by_name.get(name) or self._by_short.get(name)
        if found is None:
            raise LedgerError(f"本轮没有名为“{name}”的单位")
        return found

    def assigned_units(self, task: int) -> list[tuple[UnitInfo, Role]]:
        """The units answering for a task, lead units first, otherwise in the given order."""
        pairs = [(self._by_name[name], role) for name, role in self.assignments.get(task, [])]
        return sorted(pairs, key=lambda pair: pair[1] is not Role.LEAD)

    def answer(self, unit: str, task: int) -> Answer | None:
        return self.answers.get((unit, task))

    def tasks_of(self, unit: str) -> set[int]:
        """The tasks a unit answers for: assigned, or answered anyway."""
        assigned = {n for n, names in self._assigned.items() if unit in names}
        answered = {n for (u, n), a in self.answers.items() if u == unit and is_answered(a)}
        return assigned | answered

    def reporting_units(self) -> list[UnitInfo]:
        """The units that answer for anything, in the order of `units`."""
        involved = {name for pairs in self.assignments.values() for name, _ in pairs}
        involved |= {name for (name, _), a in self.answers.items() if is_answered(a)}
        return [u for u in self.units if u.name in involved]

    def has_submitted(self, unit: str) -> bool:
        return unit in self.submissions

    def task_progress(self, task: int) -> TaskProgress:
        answered: list[AnsweringUnit] = []
        left_blank: list[UnitInfo] = []
        missing: list[UnitInfo] = []
        seen: set[str] = set()
        for unit, role in self.assigned_units(task):
            if unit.name in seen:
                continue
            seen.add(unit.name)
            answer = self.answer(unit.name, task)
            if is_answered(answer):
                answered.append(AnsweringUnit(unit, role, answer))
            elif self.has_submitted(unit.name):
                left_blank.append(unit)
            else:
                missing.append(unit)
        for unit in self.units:
            answer = self.answer(unit.name, task)
            if unit.name not in seen and is_answered(answer):
                answered.append(AnsweringUnit(unit, None, answer))
        return TaskProgress(task, answered, left_blank, missing)

    def cell_state(self, unit: str, task: int) -> CellState | None:
        """The status matrix word for a unit and a task; None when the unit has no part in it."""
        answer = self.answer(unit, task)
        if is_answered(answer):
            return _STATE_OF_STATUS.get(answer.status, CellState.ANSWERED)
        if unit not in self._assigned.get(task, ()):
            return None
        return CellState.LEFT_BLANK if self.has_submitted(unit) else CellState.MISSING

    def local_time(self, moment: dt.datetime) -> dt.datetime:
        """An aware time in the round's time zone."""
        return moment.astimezone(self.zone)

    def task_numbers(self) -> Iterator[int]:
        return (t.number for t in self.plan.tasks())
