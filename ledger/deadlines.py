"""Chinese 完成时限 texts parsed into a date, a recurrence or "ongoing".

Interface stub: the full parser is being written; keep this signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import LedgerError


class DeadlineKind(StrEnum):
    DATE = "date"  # due by a day (2023年10月 → by 2023-10-31)
    RECURRING = "recurring"  # 每季度, 每月 …
    ONGOING = "ongoing"  # 长期坚持, 全年, 持续推进 …


@dataclass(frozen=True)
class Deadline:
    text: str  # the original words, kept as written
    kind: DeadlineKind
    date: dt.date | None = None  # for DATE: the last day it is still on time
    recurrence: str | None = None  # for RECURRING: monthly | quarterly | half-yearly | yearly


def parse_deadline(text: str, default_year: int | None = None) -> Deadline:
    raise LedgerError(f"无法识别的完成时限：{text}")
