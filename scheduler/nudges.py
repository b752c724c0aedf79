"""Nudges: staff ask, through the outbox, every unit not yet submitted (or one unit) to report.

Whom to nudge is the status service's choice (storage.services.status.nudge_targets, which
checks that the person is an admin); this module words the message in each contact's
language, with the reminder's "report now" button, and queues it. A contact is nudged once a
day per unit (the dedupe key holds the day in the plan's time zone), so a second tap the same
day queues nothing more. Each unit reached is kept in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_, gettext_for
from scheduler.buttons import ReportButton
from scheduler.messages import ALL_ANSWERED, PROGRESS, REPORT_NOW
from storage.models import OutboxMessage
from storage.services import audit, status
from storage.services.outbox import NewMessage, enqueue
from storage.services.staff import StaffMember
from storage.services.status import NudgeContact, NudgePlan, NudgeTarget

NUDGE_BEFORE = N_("The office asks your unit to report for this round by the deadline, {date}.")
NUDGE_OVERDUE = N_(
    "The deadline ({date}) has passed: the office asks your unit to report as soon as you can."
)


@dataclass
class NudgeResult:
    round_id: int
    round_name: str
    day: dt.date
    queued: int = 0  # messages newly queued
    # Units by their short names:
    nudged: list[str] = field(default_factory=list)  # units reached now
    already: list[str] = field(default_factory=list)  # units reached earlier the same day
    unreachable: list[str] = field(default_factory=list)  # not submitted, nobody to reach
    already_submitted: list[str] = field(default_factory=list)  # a one-unit nudge: it has


def dedupe_key(round_id: int, unit_id: int, contact_id: int, day: dt.date) -> str:
    return f"nudge:{round_id}:{unit_id}:{contact_id}:{day.isoformat()}"


def nudge_message(
    plan: NudgePlan, target: NudgeTarget, contact: NudgeContact, default_language: str = "zh_CN"
) -> NewMessage:
    """What the contact reads: the round, that the office asks, x of y answered, a button."""
    _ = gettext_for(contact.language or default_language)
    date = plan.due_date.isoformat()
    lead = _(NUDGE_OVERDUE if plan.overdue else NUDGE_BEFORE).format(date=date)
    progress = (
        _(ALL_ANSWERED).format(total=target.total)
        if target.total and target.answered == target.total
        else _(PROGRESS).format(answered=target.answered, total=target.total)
    )
    text = "\n".join(
        [
            f"⏰ <b>{html.escape(plan.round_name)}</b> · {html.escape(target.name)}",
            lead,
            progress,
        ]
    )
    button = {
        "text": _(REPORT_NOW),
        "callback_data": ReportButton(unit=target.unit_id, round=plan.round_id).pack(),
    }
    return NewMessage(
        dedupe_key=dedupe_key(plan.round_id, target.unit_id, contact.contact_id, plan.day),
        kind="nudge",
        chat_id=contact.chat_id,
        contact_id=contact.contact_id,
        payload={
            "chat_id": contact.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[button]]},
        },
    )


async def nudge(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    *,
    now: dt.datetime,
    unit_id: int | None = None,
    default_language: str = "zh_CN",
) -> NudgeResult:
    """Queue a nudge to every reachable contact of every unit not yet submitted (or of one
    unit); StaffError for anyone but an admin. The caller commits."""
    plan = await status.nudge_targets(session, by, round_id, now=now, unit_id=unit_id)
    result = NudgeResult(
        plan.round_id,
        plan.round_name,
        plan.day,
        unreachable=list(plan.unreachable),
        already_submitted=list(plan.already_submitted) if unit_id is not None else [],
    )
    messages = {
        target.unit_id: [nudge_message(plan, target, c, default_language) for c in target.contacts]
        for target in plan.targets
    }
    keys = [m.dedupe_key for batch in messages.values() for m in batch]
    queued_before = set()
    if keys:
        queued_before = set(
            (
                await session.exec(
                    select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
                )
            ).all()
        )
    result.queued = await enqueue(
        session, [m for batch in messages.values() for m in batch], now=now
    )
    action = "nudge.round" if unit_id is None else "nudge.unit"
    for target in plan.targets:
        fresh = [m for m in messages[target.unit_id] if m.dedupe_key not in queued_before]
        if not fresh:
            result.already.append(target.label)
            continue
        result.nudged.append(target.label)
        await audit.record(
            session,
            plan.by,
            action,
            round_id=plan.round_id,
            unit_id=target.unit_id,
            detail={"contacts": [m.contact_id for m in fresh], "day": plan.day.isoformat()},
            now=now,
        )
    return result
