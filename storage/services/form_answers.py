"""A task's answer saved whole, as a form sends it: status, reason and progress text at once.

The bot changes an answer one step at a time (a status button, a message appended); a form
(the web report form, or any other channel that shows the whole answer in one screen) sends
what it shows. `save_answer` applies it through the same calls of storage.services.reporting
— so the same rules hold: only the unit's own tasks of an open round, cleaned text, the
limits, a reason for 不涉及, every change a revision — after the same version check the
bot's buttons make: the form says which version of the answer it showed, and when the answer
has moved on meanwhile (someone changed it in the bot, or in another browser) nothing is
written and the answer as it stands is returned, so nobody's words are overwritten unseen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Status
from ledger.text import clean_text
from storage.models import ProgressEntry
from storage.services import reporting
from storage.services.reporting import Actor, ReportError


@dataclass(frozen=True)
class Saved:
    """What a form save did: the answer as it stands afterwards."""

    version: int
    status: str
    text: str
    reason: str
    changed: bool  # something was written
    stale: bool = False  # the form showed an older version: nothing was written
    by_someone_else: bool = False  # (stale) the last change was another person's
    problem: str = ""  # a ReportError code for a part that could not be saved (reason_needed)


def _state(entry: ProgressEntry) -> tuple[str, str, str]:
    return entry.status, entry.text, entry.reason


def _says_the_same(
    entry: ProgressEntry, status: str | None, text: str | None, reason: str | None
) -> bool:
    """The form shows what is stored already (a save sent twice, from a closing page and
    again from the reopened one): nothing to overwrite, so no conflict either."""
    if text is not None and clean_text(text).strip() != entry.text:
        return False
    if status is not None and status != entry.status:
        started = status == Status.NOT_STARTED and entry.status == Status.IN_PROGRESS
        if not (started and entry.text):
            return False
    if entry.status == Status.NOT_APPLICABLE and reason is not None:
        return clean_text(reason).strip() == entry.reason
    return True


async def save_answer(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    task_id: int,
    *,
    seen_version: int,
    status: str | None = None,
    text: str | None = None,
    reason: str | None = None,
) -> Saved:
    """Save what the form shows, if it was drawn for the answer's current version.

    `None` leaves a part as it is. The first words of an answer that had not been started
    mark it as under way, as in the bot. 不涉及 without a reason keeps the other parts and
    reports `problem="reason_needed"`. Raises ReportError for what cannot be saved at all
    (a closed round, another unit's task, a text over the limit).
    """
    await reporting.ensure_open(session, round_id)
    await reporting.card(session, round_id, actor.unit_id, task_id)  # the unit's own task?
    # Held until the transaction ends, so nobody writes between the check and the change.
    entry = await reporting._locked_entry(session, round_id, actor.unit_id, task_id, actor.now)
    if entry.version != seen_version and not _says_the_same(entry, status, text, reason):
        stale = await reporting.stale_view(session, actor, round_id, task_id, seen_version)
        return Saved(
            entry.version,
            *_state(entry),
            changed=False,
            stale=True,
            by_someone_else=bool(stale and stale.by_someone_else),
        )
    before = entry.version
    if text is not None:
        change = await reporting.replace_text(session, actor, round_id, task_id, text)
        entry = change.entry
    wanted = Status(status).value if status is not None else entry.status
    if wanted == Status.NOT_STARTED and entry.text.strip():
        wanted = Status.IN_PROGRESS.value  # writing means work is under way
    problem = ""
    reason_now = reason if reason is not None else entry.reason
    if wanted == Status.NOT_APPLICABLE and not (reason_now or "").strip():
        problem = "reason_needed"
    elif wanted != entry.status or (
        wanted == Status.NOT_APPLICABLE and reason is not None and reason != entry.reason
    ):
        try:
            change = await reporting.set_status(
                session, actor, round_id, task_id, wanted, reason_now or ""
            )
            entry = change.entry
        except ReportError as error:
            if error.code != "reason_too_long":
                raise
            problem = error.code
    return Saved(entry.version, *_state(entry), changed=entry.version != before, problem=problem)
