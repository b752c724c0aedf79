"""The filled-form reader: a unit's 填报单位 line and its 进展落实情况 answers."""

from __future__ import annotations

import re

from ledger.errors import LedgerError
from ledger.form_import.grid import Block, Para
from ledger.form_import.header import Field, Header
from ledger.form_import.preamble import read_preamble
from ledger.form_import.rows import Continuation, RowValues, events
from ledger.model import Plan, Status
from ledger.report import Answer, UnitReport

_STATUS_WORDS: dict[str, Status] = {
    "已完成": Status.DONE,
    "完成": Status.DONE,
    "推进中": Status.IN_PROGRESS,
    "进行中": Status.IN_PROGRESS,
    "正在推进": Status.IN_PROGRESS,
    "未开始": Status.NOT_STARTED,
    "未启动": Status.NOT_STARTED,
    "不涉及": Status.NOT_APPLICABLE,
    "不适用": Status.NOT_APPLICABLE,
}
_STATUS_ALTERNATIVES = "|".join(sorted(_STATUS_WORDS, key=len, reverse=True))
_STATUS_MARK = re.compile(
    rf"^(?:[【\[]\s*(?P<bracketed>{_STATUS_ALTERNATIVES})\s*[】\]]\s*[:：]?"
    rf"|(?P<word>{_STATUS_ALTERNATIVES})\s*(?:[:：]|$))\s*"
)


def _answer(number: int, paras: list[Para]) -> Answer | None:
    """The answer in a 进展落实情况 cell; a leading 【已完成】 or 已完成： is read as a status.

    As the export writes it (ledger.rounddata.answer_lines), a 【不涉及】 first line carries
    the reason and any following lines the text.
    """
    lines = [p.text for p in paras]
    if not lines:
        return None
    match = _STATUS_MARK.match(lines[0])
    if not match:
        return Answer(task=number, text="\n".join(lines))
    status = _STATUS_WORDS[match["bracketed"] or match["word"]]
    rest = lines[0][match.end() :].strip()
    if status is Status.NOT_APPLICABLE:
        return Answer(task=number, status=status, reason=rest, text="\n".join(lines[1:]))
    return Answer(task=number, status=status, text="\n".join(t for t in [rest, *lines[1:]] if t))


class ReportReader:
    def __init__(self, source: str, plan: Plan):
        self.source = source
        self.plan = plan
        self.numbers = {t.number for t in plan.tasks()}

    def fail(self, message: str, place: str | None = None) -> LedgerError:
        return LedgerError(message, source=self.source, place=place)

    def read(self, blocks: list[Block]) -> UnitReport:
        preamble: list[Para] = []
        cells: dict[int, list[Para]] = {}
        places: dict[int, str] = {}
        last: int | None = None
        progress_column = False
        for event in events(blocks, self.source):
            if isinstance(event, Header):
                progress_column = progress_column or event.has(Field.PROGRESS)
            elif isinstance(event, Para) and not places:
                preamble.append(event)
            elif isinstance(event, RowValues):
                if event.number is None:
                    raise self.fail("这一行没有序号，对不上计划中的任务", event.place)
                self._check_number(event, places)
                places[event.number] = event.place
                cells[event.number] = list(event.progress)
                last = event.number
            elif isinstance(event, Continuation):
                if last is None:
                    raise self.fail("这一行接续上一行的序号，但上面没有任务", event.values.place)
                cells[last].extend(event.values.progress)
        if not progress_column:
            raise self.fail("表格中没有“进展落实情况”（或“进展情况”）列，读不出填报内容")
        if not places:
            raise self.fail("表格中没有任何任务（没有带序号的行）")
        header = read_preamble(preamble)
        answers = [a for n, paras in cells.items() if (a := _answer(n, paras))]
        return UnitReport(
            unit=header.unit,
            answers=answers,
            plan=self.plan.key,
            contact=header.contact,
            phone=header.phone,
        )

    def _check_number(self, row: RowValues, places: dict[int, str]) -> None:
        if row.number not in self.numbers:
            raise self.fail(
                f"序号 {row.number} 不在计划“{self.plan.title}”中（这份表是否属于另一个台账？）",
                row.place,
            )
        if row.number in places:
            raise self.fail(f"序号 {row.number} 重复（前一次在{places[row.number]}）", row.place)
