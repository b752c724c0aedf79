"""Notices to the office staff, queued in the outbox like everything the bot sends on its own."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_
from scheduler.messages import reachability_notices, to_staff
from storage.services import people, reporting, review
from storage.services.outbox import enqueue
from storage.services.people import Membership, Reachability, staff_recipients
from storage.services.reporting import Actor, Overview, Receipt

SUBMITTED = N_(
    "📨 {unit} submitted {round} ({timing}), version {version}, receipt {number}.\n"
    "Answered {answered} of {total}; submitted by {contact}."
)
CHANGED = N_("Changed since the previous version: tasks {numbers}.")
ANSWERS_RETURN = N_("This version answers the office's return.")
UNCHANGED_AFTER_RETURN = N_("Sent again unchanged after the return.")
ON_TIME, LATE = N_("on time"), N_("late")


async def notify_staff_of_submission(
    session: AsyncSession,
    staff_ids: list[int],
    membership: Membership,
    summary: Overview,
    receipt: Receipt,
    *,
    now: dt.datetime | None = None,
) -> int:
    """One notice per staff member per submitted version; returns how many were queued."""
    if not receipt.first and not receipt.changes and not receipt.answers_return:
        return 0  # submitting again without changes tells the office nothing new

    def render(_: Callable[[str], str]) -> str:
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
        elif receipt.answers_return:
            text += "\n" + _(UNCHANGED_AFTER_RETURN)
        if receipt.answers_return:
            text += "\n" + _(ANSWERS_RETURN)
        return text

    messages = to_staff(
        await staff_recipients(session, staff_ids),
        key=f"submission:{summary.round_id}:{membership.unit_id}:v{receipt.version}",
        kind="staff_notice",
        render=render,
    )
    return await enqueue(session, messages, now=now)


async def submit_and_tell_staff(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    membership: Membership,
    staff_ids: Sequence[int] = (),
    *,
    now: dt.datetime | None = None,
) -> tuple[Receipt, Overview]:
    """Submit the unit's report and queue the staff's notice in the same transaction, so
    that a submission the office is not told of cannot happen."""
    returned = await review.returned_state(session, round_id, membership.unit_id)
    receipt = await reporting.submit(
        session, actor, round_id, returned=returned.state == review.RETURNED
    )
    summary = await reporting.overview(session, round_id, membership.unit_id)
    await notify_staff_of_submission(
        session, list(staff_ids), membership, summary, receipt, now=now
    )
    return receipt, summary


async def change_reachability(
    session: AsyncSession,
    reachable: bool,
    *,
    cause: str,
    telegram_user_id: int | None = None,
    contact_id: int | None = None,
    reason: str = "",
    staff_ids: Sequence[int] = (),
    default_language: str = "zh_CN",
    now: dt.datetime | None = None,
) -> list[Reachability]:
    """Mark a person reachable or not, and queue one notice to the staff per change.

    Every path goes through here: the person blocking or unblocking the bot, a message the
    outbox could not deliver (403), and the person writing again. `cause` names the event
    (e.g. `update:123`, `outbox:45`) and goes into the dedupe key. The caller commits.
    """
    changes = await people.change_reachability(
        session,
        reachable,
        telegram_user_id=telegram_user_id,
        contact_id=contact_id,
        reason=reason,
    )
    if changes:
        recipients = await staff_recipients(session, tuple(staff_ids))
        messages = [
            message
            for change in changes
            for message in reachability_notices(
                change, cause=cause, recipients=recipients, default_language=default_language
            )
        ]
        await enqueue(session, messages, now=now)
    return changes
