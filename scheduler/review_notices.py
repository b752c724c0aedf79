"""Review notices: the unit's contacts are told, through the outbox, that the office accepted
their report or returned it (or one task) with a comment.

The decision is the review service's (storage.services.review, which checks that the person
is an admin and that the version is still the latest); this module words the notice in each
contact's language and queues it in the same transaction. The notice names the round and the
unit, says accepted or returned with the comment, and carries a button to the returned task's
card (or the task list). One notice per decision and contact: its dedupe key holds both.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from locales import N_, gettext_for
from scheduler.buttons import ReviewButton
from storage.services import review
from storage.services.outbox import NewMessage, enqueue
from storage.services.review import ContactToTell, Decided
from storage.services.staff import StaffMember

ACCEPTED = N_("The office accepted your report (version {version}).")
RETURNED_WHOLE = N_("The office returned your report (version {version}) with this comment:")
RETURNED_TASK = N_(
    "The office returned task {number} ({title}) of your report (version {version}) "
    "with this comment:"
)
CORRECT_IT = N_("Please correct it and submit again.")
OPEN_TASK = N_("Open task {number}")
OPEN_LIST = N_("📋 Open the report")


@dataclass
class Told:
    decided: Decided
    queued: int  # notices newly queued

    @property
    def notified(self) -> int:
        """The contacts told (0 when the same decision stood already)."""
        return 0 if self.decided.already else len(self.decided.contacts)

    @property
    def reachable(self) -> bool:
        return bool(self.decided.contacts)


def dedupe_key(decided: Decided, contact: ContactToTell) -> str:
    return f"review:{decided.decision.decision_id}:{contact.contact_id}"


def review_message(
    decided: Decided, contact: ContactToTell, default_language: str = "zh_CN"
) -> NewMessage:
    _ = gettext_for(contact.language or default_language)
    target, decision = decided.target, decided.decision
    returned = decision.decision == review.RETURNED
    lines = [
        f"{'↩️' if returned else '✅'} <b>{html.escape(target.round_name)}</b> · "
        f"{html.escape(target.unit_name)}"
    ]
    if not returned:
        lines.append(_(ACCEPTED).format(version=decision.version))
    else:
        if target.task_id is not None:
            lead = _(RETURNED_TASK).format(
                number=target.task_number,
                title=html.escape(target.task_title),
                version=decision.version,
            )
        else:
            lead = _(RETURNED_WHOLE).format(version=decision.version)
        lines += [
            lead,
            f"<blockquote>{html.escape(decision.comment)}</blockquote>",
            _(CORRECT_IT),
        ]
    if returned and target.task_id is not None:
        label = "✏️ " + _(OPEN_TASK).format(number=target.task_number)
    else:
        label = _(OPEN_LIST)
    button = {
        "text": label,
        "callback_data": ReviewButton(
            unit=target.unit_id, round=target.round_id, task=target.task_id or 0
        ).pack(),
    }
    return NewMessage(
        dedupe_key=dedupe_key(decided, contact),
        kind="review",
        chat_id=contact.chat_id,
        contact_id=contact.contact_id,
        payload={
            "chat_id": contact.chat_id,
            "text": "\n".join(lines),
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[button]]},
        },
    )


async def _tell(
    session: AsyncSession, decided: Decided, now: dt.datetime, default_language: str
) -> Told:
    if decided.already:
        return Told(decided, 0)
    messages = [review_message(decided, c, default_language) for c in decided.contacts]
    return Told(decided, await enqueue(session, messages, now=now))


async def accept_and_tell(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    *,
    version: int | None,
    now: dt.datetime,
    default_language: str = "zh_CN",
) -> Told:
    """Accept the unit's submitted version and queue the notice to its reachable contacts;
    ReviewError / StaffError as review.accept. The caller commits."""
    decided = await review.accept(session, by, round_id, unit_id, version=version, now=now)
    return await _tell(session, decided, now, default_language)


async def return_and_tell(
    session: AsyncSession,
    by: int | StaffMember,
    round_id: int,
    unit_id: int,
    comment: str,
    *,
    version: int | None,
    task_id: int | None = None,
    now: dt.datetime,
    default_language: str = "zh_CN",
) -> Told:
    """Return the unit's submitted version (or one task) with a comment and queue the notice
    to its reachable contacts; ReviewError / StaffError as review.return_report."""
    decided = await review.return_report(
        session, by, round_id, unit_id, comment, version=version, task_id=task_id, now=now
    )
    return await _tell(session, decided, now, default_language)
