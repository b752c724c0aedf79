"""The 通报 of a round: the notice naming the units that reported late or not at all.

Its data comes from the round's status (storage.services.status): a unit that submitted after
the deadline is late, with when it submitted (the first submission); a unit that has not
submitted is not reported, however many of its tasks it has answered. The wording is the
office's template (ledger.notice); the document is built here for the bot and the command line.

- `late_notice_data(session, who, round_id, *, now, …) -> NoticeData`: what the notice says;
- `late_notice(session, who, round_id, *, now, …) -> NoticeFile`: the Word document, recorded
  in the audit trail (`notice.late`). NoticeError `nothing_to_announce` when every unit reported
  on time: there is no notice to make.

Staff only, viewers included; the command line acts as `staff.OPERATOR`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Plan, Round
from storage.services import audit, staff, status
from storage.services.errors import ServiceError
from storage.services.staff import StaffMember

if TYPE_CHECKING:  # ledger.notice brings python-docx: loaded when a notice is made, not at start
    from ledger.notice import NoticeData

__all__ = ["NoticeError", "NoticeFile", "late_notice", "late_notice_data"]


class NoticeError(ServiceError):
    """code: nothing_to_announce (every unit reported on time) · bad_template (`detail`
    names the line)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class NoticeFile:
    name: str  # e.g. 通报-2023年12月1日报送.docx
    payload: bytes
    data: NoticeData
    before_deadline: bool  # made before the deadline passed: "not reported" means "not yet"

    @property
    def late(self) -> int:
        return len(self.data.late)

    @property
    def missing(self) -> int:
        return len(self.data.missing)


async def late_notice_data(
    session: AsyncSession,
    who: int | StaffMember,
    round_id: int,
    *,
    now: dt.datetime,
    issuer: str | None = None,
    number: str = "",
    issued_on: dt.date | None = None,
) -> NoticeData:
    """The round's late and unreported units, in the units directory's order. `issuer`
    defaults to the plan's issuing office; `issued_on` (成文日期) to `now`'s date in the plan's
    time zone."""
    from ledger.notice import NoticeData, NoticeUnit

    result = await status.round_status(session, who, round_id, now=now)
    plan = await session.get(Plan, (await session.get(Round, round_id)).plan_id)
    zone = ZoneInfo(result.timezone)

    def unit(line: status.UnitStatus) -> NoticeUnit:
        at = line.submitted_at.astimezone(zone) if line.submitted_at else None
        return NoticeUnit(line.name, line.kind, at)

    return NoticeData(
        issuer=(plan.issuer if issuer is None else issuer).strip(),
        plan_title=plan.title,
        plan_year=plan.year,
        round_name=result.round_name,
        due_date=result.due_date,
        issued_on=issued_on or now.astimezone(zone).date(),
        unit_count=len(result.units),
        late=[unit(u) for u in result.units if u.state == status.LATE],
        missing=[unit(u) for u in result.units if not u.reported],
        kinds=frozenset(u.kind for u in result.units),
        number=number.strip(),
    )


async def late_notice(
    session: AsyncSession,
    who: int | StaffMember,
    round_id: int,
    *,
    now: dt.datetime,
    template: str | None = None,
    issuer: str | None = None,
    number: str = "",
    issued_on: dt.date | None = None,
) -> NoticeFile:
    """The 通报 as a Word document, recorded in the audit trail (`notice.late`)."""
    from ledger.errors import LedgerError
    from ledger.notice import notice_docx_bytes, notice_file_name, parse_template

    member = await staff.authorize(session, who)
    if template is not None:
        try:
            parse_template(template)
        except LedgerError as error:
            raise NoticeError("bad_template", str(error)) from None
    data = await late_notice_data(
        session, member, round_id, now=now, issuer=issuer, number=number, issued_on=issued_on
    )
    if not data.late and not data.missing:
        raise NoticeError("nothing_to_announce")
    round_ = await session.get(Round, round_id)
    created = now.astimezone(dt.UTC).replace(tzinfo=None)
    payload = await asyncio.to_thread(notice_docx_bytes, data, template, created=created)
    made = NoticeFile(
        notice_file_name(data), payload, data, before_deadline=now < round_.deadline_at
    )
    await audit.record(
        session,
        member,
        "notice.late",
        round_id=round_id,
        detail={
            "file": made.name,
            "late": [u.name for u in data.late],
            "missing": len(data.missing),
            "template": "default" if template is None else "custom",
        },
        now=now,
    )
    return made
