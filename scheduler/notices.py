"""Notices to the office staff, queued in the outbox like everything the bot sends on its own."""

from __future__ import annotations

import html

from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_, gettext_for
from scheduler.outbox import enqueue
from storage.services.people import Membership, staff_recipients
from storage.services.reporting import Overview, Receipt

SUBMITTED = N_(
    "📨 {unit} submitted {round} ({timing}), version {version}, receipt {number}.\n"
    "Answered {answered} of {total}; submitted by {contact}."
)
CHANGED = N_("Changed since the previous version: tasks {numbers}.")
ON_TIME, LATE = N_("on time"), N_("late")


async def notify_staff_of_submission(
    session: AsyncSession,
    staff_ids: list[int],
    membership: Membership,
    summary: Overview,
    receipt: Receipt,
) -> int:
    """One notice per staff member per submitted version; returns how many were queued."""
    if not receipt.first and not receipt.changes:
        return 0  # submitting again without changes tells the office nothing new
    queued = 0
    for chat_id, language in await staff_recipients(session, staff_ids):
        _ = gettext_for(language or "zh_CN")
        text = _(SUBMITTED).format(
            unit=html.escape(summary.unit_name),
            round=html.escape(summary.round_name),
            timing=_(ON_TIME) if receipt.on_time else _(LATE),
            version=receipt.version,
            number=receipt.number,
            answered=summary.answered,
            total=summary.total,
            contact=html.escape(membership.contact_name or membership.unit_short),
        )
        if receipt.changes:
            text += "\n" + _(CHANGED).format(numbers=", ".join(map(str, receipt.changes)))
        key = f"submission:{summary.round_id}:{membership.unit_id}:v{receipt.version}:{chat_id}"
        queued += await enqueue(
            session,
            dedupe_key=key,
            kind="staff_notice",
            chat_id=chat_id,
            payload={"text": text, "parse_mode": "HTML"},
        )
    return queued
