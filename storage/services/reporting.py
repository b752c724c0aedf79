"""A unit's report for a round: the rules of the dialog, for any channel.

What comes next, what is valid and what is saved live here; the Telegram handlers only
translate updates into these calls and the results into messages. Every change is saved at
once and kept as a revision.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.model import Status
from ledger.text import clean_text
from storage.models import (
    Assignment,
    Attachment,
    Item,
    Plan,
    ProgressEntry,
    Revision,
    Round,
    Submission,
    Task,
    Unit,
)
from storage.services import submitted
from storage.services.errors import ServiceError
from storage.types import utcnow

MAX_ANSWER_CHARS = 10_000  # per task: more than the form can sensibly hold
MAX_REASON_CHARS = 500
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024  # what a bot can download from Telegram


class ReportError(ServiceError):
    """A refusal the dialog explains to the person; `code` picks the message."""

    def __init__(self, code: str, **params: object):
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a contact of a unit (or an import, or staff)."""

    unit_id: int
    label: str
    contact_id: int | None = None
    source: str = "bot"
    at: dt.datetime | None = None  # when the action happens; None: now

    @property
    def now(self) -> dt.datetime:
        return self.at or utcnow()


@dataclass
class TaskLine:
    task_id: int
    number: int
    title: str
    role: str
    status: str
    answered: bool


@dataclass
class Overview:
    round_id: int
    round_name: str
    due_date: dt.date
    deadline_at: dt.datetime
    unit_name: str
    lines: list[TaskLine]
    submission: Submission | None
    timezone: str = "Asia/Shanghai"
    pending_changes: list[int] = field(default_factory=list)  # changed since last submission

    @property
    def answered(self) -> int:
        return sum(1 for line in self.lines if line.answered)

    @property
    def total(self) -> int:
        return len(self.lines)

    @property
    def first_unanswered(self) -> TaskLine | None:
        return next((line for line in self.lines if not line.answered), None)

    @property
    def unanswered(self) -> list[TaskLine]:
        return [line for line in self.lines if not line.answered]


@dataclass
class Card:
    round_id: int
    task_id: int
    number: int
    item: str
    name: str
    content: str
    indicator: str
    responsibility: str
    due_text: str
    role: str
    status: str
    text: str
    reason: str
    version: int
    evidence: list[str]
    previous_task_id: int | None
    next_task_id: int | None
    position: int  # 1-based place among the unit's tasks
    total: int
    has_previous_answer: bool
    updated_by: str = ""
    updated_at: dt.datetime | None = None


@dataclass
class Change:
    """The entry after a change, and whether anything changed at all."""

    entry: ProgressEntry
    changed: bool
    previous_version: int


@dataclass
class Receipt:
    number: str
    submitted_at: dt.datetime
    on_time: bool
    version: int
    unanswered: list[int] = field(default_factory=list)
    changes: list[int] = field(default_factory=list)  # tasks changed since the last version
    first: bool = True
    answers_return: bool = False  # a new version for the office, which had returned the last


def is_answered(status: str, text: str) -> bool:
    return status == Status.NOT_APPLICABLE or bool(text.strip())


def task_title(task: Task, limit: int = 16) -> str:
    """The short name when the form gives one, else the start of the content."""
    if task.name:
        return task.name
    text = task.content.lstrip("0123456789.、 ")
    return text if len(text) <= limit else text[:limit] + "…"


# ------------------------------------------------------------------ finding things


async def open_rounds(session: AsyncSession, unit_id: int) -> list[Round]:
    """Open rounds of the plans in which the unit answers for at least one task."""
    plan_ids = (
        select(Task.plan_id)
        .join(Assignment, Assignment.task_id == Task.id)
        .where(Assignment.unit_id == unit_id)
    )
    query = (
        select(Round)
        .where(Round.status == "open", Round.plan_id.in_(plan_ids))
        .order_by(Round.due_date, Round.id)
    )
    return list((await session.exec(query)).all())


async def _round(session: AsyncSession, round_id: int, *, must_be_open: bool = True) -> Round:
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise ReportError("round_missing")
    if must_be_open and round_.status != "open":
        raise ReportError("round_closed", name=round_.name)
    return round_


async def ensure_open(session: AsyncSession, round_id: int) -> None:
    """Refuse to start changing answers in a round that is closed."""
    await _round(session, round_id)


# The statements run for every answer and button press are built once, with their values
# as bound parameters: building one anew and keying it for the compiled cache cost more
# than running it (0.6 ms against 0.25 ms for _ROUND_AND_TASK on these machines).
_UNIT_TASKS = (
    select(Task, Assignment.role)
    .join(Assignment, Assignment.task_id == Task.id)
    .where(
        Task.plan_id == bindparam("plan_id"),
        Assignment.unit_id == bindparam("unit_id"),
        Task.retired.is_(False),
    )
    .order_by(Task.position)
)


async def _unit_tasks(session: AsyncSession, plan_id: int, unit_id: int) -> list[tuple[Task, str]]:
    rows = (await session.exec(_UNIT_TASKS, params={"plan_id": plan_id, "unit_id": unit_id})).all()
    return [(task, role) for task, role in rows]


async def _assigned_task(
    session: AsyncSession, round_: Round, unit_id: int, task_id: int
) -> tuple[Task, str]:
    """The task, checked to be one the unit answers for in this round's plan."""
    row = (
        await session.exec(
            select(Task, Assignment.role)
            .join(Assignment, Assignment.task_id == Task.id)
            .where(
                Task.id == task_id,
                Task.plan_id == round_.plan_id,
                Assignment.unit_id == unit_id,
                Task.retired.is_(False),
            )
        )
    ).first()
    if row is None:
        raise ReportError("not_your_task")
    return row


@dataclass(frozen=True)
class _Assigned:
    round: Round
    task: Task
    role: str
    item_title: str


_ROUND_AND_TASK = (
    select(Round, Task, Assignment.role, Item.title)
    .outerjoin(
        Task,
        and_(
            Task.id == bindparam("task_id"),
            Task.plan_id == Round.plan_id,
            Task.retired.is_(False),
        ),
    )
    .outerjoin(
        Assignment,
        and_(Assignment.task_id == Task.id, Assignment.unit_id == bindparam("unit_id")),
    )
    .outerjoin(Item, Item.id == Task.item_id)
    .where(Round.id == bindparam("round_id"))
    .order_by(Assignment.role.is_(None))  # an assigned row first
)


async def _round_and_task(
    session: AsyncSession, round_id: int, unit_id: int, task_id: int, *, must_be_open: bool
) -> _Assigned:
    """The round (refused when missing, or closed if it `must_be_open`) and the task, checked
    to be one the unit answers for in the round's plan, with its item's title: one statement
    where _round and _assigned_task take two."""
    params = {"round_id": round_id, "unit_id": unit_id, "task_id": task_id}
    row = (await session.exec(_ROUND_AND_TASK, params=params)).first()
    if row is None:
        raise ReportError("round_missing")
    round_, task, role, item_title = row
    if must_be_open and round_.status != "open":
        raise ReportError("round_closed", name=round_.name)
    if task is None or role is None:
        raise ReportError("not_your_task")
    return _Assigned(round_, task, role, item_title or "")


async def _entries(session: AsyncSession, round_id: int, unit_id: int) -> dict[int, ProgressEntry]:
    rows = (
        await session.exec(
            select(ProgressEntry).where(
                ProgressEntry.round_id == round_id, ProgressEntry.unit_id == unit_id
            )
        )
    ).all()
    return {entry.task_id: entry for entry in rows}


async def submission_of(session: AsyncSession, round_id: int, unit_id: int) -> Submission | None:
    return (
        await session.exec(
            select(Submission).where(
                Submission.round_id == round_id, Submission.unit_id == unit_id
            )
        )
    ).first()


async def overview(session: AsyncSession, round_id: int, unit_id: int) -> Overview:
    round_ = await _round(session, round_id, must_be_open=False)
    unit = await session.get(Unit, unit_id)
    entries = await _entries(session, round_id, unit_id)
    lines = []
    for task, role in await _unit_tasks(session, round_.plan_id, unit_id):
        entry = entries.get(task.id)
        status = entry.status if entry else Status.NOT_STARTED.value
        text = entry.text if entry else ""
        lines.append(
            TaskLine(
                task.id, task.number, task_title(task), role, status, is_answered(status, text)
            )
        )
    submission = await submission_of(session, round_id, unit_id)
    plan = await session.get(Plan, round_.plan_id)
    pending = []
    if submission is not None:
        pending = await submitted.unsubmitted_tasks(session, round_id, unit_id)
    return Overview(
        round_id=round_.id,
        round_name=round_.name,
        due_date=round_.due_date,
        deadline_at=round_.deadline_at,
        unit_name=unit.name,
        lines=lines,
        submission=submission,
        timezone=plan.timezone,
        pending_changes=pending,
    )


_THE_ENTRY = and_(
    ProgressEntry.round_id == bindparam("round_id"),
    ProgressEntry.unit_id == bindparam("unit_id"),
    ProgressEntry.task_id == bindparam("task_id"),
)
_ENTRY_WITH_EVIDENCE = (  # the entry with its evidence's names, in one statement
    select(ProgressEntry, Attachment.file_name)
    .outerjoin(Attachment, Attachment.entry_id == ProgressEntry.id)
    .where(_THE_ENTRY)
    .order_by(Attachment.id)
)


async def card(session: AsyncSession, round_id: int, unit_id: int, task_id: int) -> Card:
    found = await _round_and_task(session, round_id, unit_id, task_id, must_be_open=False)
    round_, task, role = found.round, found.task, found.role
    tasks = [t for t, _ in await _unit_tasks(session, round_.plan_id, unit_id)]
    index = next(i for i, t in enumerate(tasks) if t.id == task.id)
    params = {"round_id": round_id, "unit_id": unit_id, "task_id": task_id}
    rows = (await session.exec(_ENTRY_WITH_EVIDENCE, params=params)).all()
    entry = rows[0][0] if rows else None
    evidence = [name for _, name in rows if name is not None]
    previous = await previous_answer(session, round_, unit_id, task_id)
    return Card(
        round_id=round_id,
        task_id=task.id,
        number=task.number,
        item=found.item_title,
        name=task.name,
        content=task.content,
        indicator=task.indicator,
        responsibility=task.responsibility,
        due_text=task.due_text,
        role=role,
        status=entry.status if entry else Status.NOT_STARTED.value,
        text=entry.text if entry else "",
        reason=entry.reason if entry else "",
        version=entry.version if entry else 0,
        evidence=evidence,
        previous_task_id=tasks[index - 1].id if index > 0 else None,
        next_task_id=tasks[index + 1].id if index + 1 < len(tasks) else None,
        position=index + 1,
        total=len(tasks),
        has_previous_answer=previous is not None,
        updated_by=entry.updated_by if entry else "",
        updated_at=entry.updated_at if entry and entry.version else None,
    )


_THE_ENTRY_ALONE = select(ProgressEntry).where(_THE_ENTRY)


async def _entry(
    session: AsyncSession, round_id: int, unit_id: int, task_id: int
) -> ProgressEntry | None:
    params = {"round_id": round_id, "unit_id": unit_id, "task_id": task_id}
    return (await session.exec(_THE_ENTRY_ALONE, params=params)).first()


_PREVIOUS_ANSWER = (
    select(ProgressEntry.text)
    .join(Round, Round.id == ProgressEntry.round_id)
    .where(
        Round.plan_id == bindparam("plan_id"),
        Round.due_date < bindparam("due_date"),
        ProgressEntry.unit_id == bindparam("unit_id"),
        ProgressEntry.task_id == bindparam("task_id"),
        ProgressEntry.text != "",
    )
    .order_by(Round.due_date.desc())
)


async def previous_answer(
    session: AsyncSession, round_: Round, unit_id: int, task_id: int
) -> str | None:
    """The unit's text for this task in the latest earlier round of the plan, if any."""
    params = {
        "plan_id": round_.plan_id,
        "due_date": round_.due_date,
        "unit_id": unit_id,
        "task_id": task_id,
    }
    return (await session.exec(_PREVIOUS_ANSWER, params=params)).first()


async def entry_version(session: AsyncSession, round_id: int, unit_id: int, task_id: int) -> int:
    entry = await _entry(session, round_id, unit_id, task_id)
    return entry.version if entry else 0


# Button actions that change an answer: they act only on the version they were drawn for.
CHANGING_ACTIONS = frozenset({"status", "previous", "clear", "clear_confirmed"})


@dataclass(frozen=True)
class Stale:
    """A button drawn for an older version of the answer than the one stored now."""

    version: int  # the version stored now
    by_someone_else: bool  # the last change was made by another person than the actor


async def stale_view(
    session: AsyncSession, actor: Actor, round_id: int, task_id: int, seen_version: int | None
) -> Stale | None:
    """None while `seen_version` is the answer's current version, else what moved it on.

    A button without a version (`None`) is stale for every action that changes the answer:
    it cannot show that the person saw the answer as it is now."""
    entry = await _entry(session, round_id, actor.unit_id, task_id)
    current = entry.version if entry else 0
    if seen_version is not None and seen_version == current:
        return None
    last_by = None
    if entry is not None:
        last_by = (
            await session.exec(
                select(Revision.by_contact_id)
                .where(Revision.entry_id == entry.id)
                .order_by(Revision.id.desc())
            )
        ).first()
    other = entry is not None and entry.version > 0 and last_by != actor.contact_id
    return Stale(current, other)


# ------------------------------------------------------------------ changing answers


async def _change(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    task_id: int,
    *,
    status: str | None = None,
    text: str | None = None,
    reason: str | None = None,
    append: str | None = None,
    staff_import: bool = False,
) -> Change:
    """Save a change as a new version with its revision. Contacts may change only their unit's
    tasks in open rounds; a staff import may also fill closed rounds and unassigned tasks.

    `append` adds a paragraph to the text as it is when the entry is locked, so two people
    writing at once both keep their words; the first words of an answer mark the task as
    under way."""
    if staff_import:
        await _round(session, round_id, must_be_open=False)
    else:
        await _round_and_task(session, round_id, actor.unit_id, task_id, must_be_open=True)
    entry = await _locked_entry(session, round_id, actor.unit_id, task_id, actor.now)
    if append is not None:
        text = f"{entry.text}\n{append}" if entry.text else append
        if len(text) > MAX_ANSWER_CHARS:
            raise ReportError(
                "answer_too_long", limit=MAX_ANSWER_CHARS, length=len(text), have=len(entry.text)
            )
        if entry.status in (Status.NOT_STARTED, Status.NOT_APPLICABLE):
            status, reason = Status.IN_PROGRESS.value, ""  # writing means work is under way
    old = (entry.status, entry.text, entry.reason)
    new = (
        status if status is not None else entry.status,
        clean_text(text) if text is not None else entry.text,  # imports come this way too
        clean_text(reason) if reason is not None else entry.reason,
    )
    previous_version = entry.version
    if new == old:
        return Change(entry, False, previous_version)
    entry.status, entry.text, entry.reason = new
    entry.version += 1
    entry.updated_at = actor.now
    entry.updated_by = actor.label
    session.add(
        Revision(
            entry_id=entry.id,
            at=actor.now,
            by_contact_id=actor.contact_id,
            by_label=actor.label,
            source=actor.source,
            old_status=old[0],
            new_status=new[0],
            old_text=old[1],
            new_text=new[1],
            old_reason=old[2],
            new_reason=new[2],
        )
    )
    await session.flush()
    return Change(entry, True, previous_version)


_ENTRY_AFRESH = select(ProgressEntry).where(_THE_ENTRY).execution_options(populate_existing=True)
_ENTRY_HELD = _ENTRY_AFRESH.with_for_update()
_CREATE_ENTRY_POSTGRESQL, _CREATE_ENTRY_SQLITE = (
    insert(ProgressEntry.__table__).on_conflict_do_nothing(
        index_elements=["round_id", "unit_id", "task_id"]
    )
    for insert in (postgresql_insert, sqlite_insert)
)


async def _locked_entry(
    session: AsyncSession, round_id: int, unit_id: int, task_id: int, now: dt.datetime
) -> ProgressEntry:
    """The entry, created when missing, read afresh and held until the transaction ends.

    On PostgreSQL SELECT … FOR UPDATE holds the row, so a second writer reads what the first
    one saved; only when there is no row yet is it created first. INSERT … ON CONFLICT DO
    NOTHING never meets a unique-key error when two people create the entry at once:
    PostgreSQL waits for the other insert and then does nothing; on SQLite, where it always
    comes first, the statement takes the database's write lock, so a second writer waits for
    the first one's commit before it reads. `populate_existing` reads past the session's
    cache of the row.
    """
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    params = {"round_id": round_id, "unit_id": unit_id, "task_id": task_id}
    query = _ENTRY_HELD if postgres else _ENTRY_AFRESH
    if postgres:  # the usual case: the entry is there, and now held
        found = (await session.exec(query, params=params)).first()
        if found is not None:
            return found
    insert = _CREATE_ENTRY_POSTGRESQL if postgres else _CREATE_ENTRY_SQLITE
    await connection.execute(insert, {**params, "updated_at": now})
    return (await session.exec(query, params=params)).one()


async def set_status(
    session: AsyncSession, actor: Actor, round_id: int, task_id: int, status: str, reason: str = ""
) -> Change:
    status = Status(status).value
    reason = clean_text(reason).strip()
    if status == Status.NOT_APPLICABLE and not reason:
        raise ReportError("reason_needed")
    if len(reason) > MAX_REASON_CHARS:
        raise ReportError("reason_too_long", limit=MAX_REASON_CHARS, length=len(reason))
    return await _change(
        session,
        actor,
        round_id,
        task_id,
        status=status,
        reason=reason if status == Status.NOT_APPLICABLE else "",
    )


async def append_text(
    session: AsyncSession, actor: Actor, round_id: int, task_id: int, text: str
) -> Change:
    """Add a message to the answer; an answer that would grow past the limit is refused whole."""
    text = clean_text(text).strip()
    if not text:
        raise ReportError("empty_text")
    if len(text) > MAX_ANSWER_CHARS:  # too long whatever is there: refused before anything
        # is written (the entry is not even created)
        current = await _entry(session, round_id, actor.unit_id, task_id)
        existing = current.text if current else ""
        combined = f"{existing}\n{text}" if existing else text
        raise ReportError(
            "answer_too_long", limit=MAX_ANSWER_CHARS, length=len(combined), have=len(existing)
        )
    # _change checks the text as it is once the entry is locked: it can only grow too long
    # with text already there, so with an entry already there, and nothing new is written.
    return await _change(session, actor, round_id, task_id, append=text)


async def replace_text(
    session: AsyncSession, actor: Actor, round_id: int, task_id: int, text: str
) -> Change:
    """Write the answer anew; an empty text clears it, one with nothing but control
    characters is refused."""
    cleaned = clean_text(text).strip()
    if not cleaned and text.strip():
        raise ReportError("empty_text")
    text = cleaned
    if len(text) > MAX_ANSWER_CHARS:
        raise ReportError("answer_too_long", limit=MAX_ANSWER_CHARS, length=len(text), have=0)
    return await _change(session, actor, round_id, task_id, text=text)


async def use_previous_answer(
    session: AsyncSession, actor: Actor, round_id: int, task_id: int
) -> Change:
    round_ = await _round(session, round_id)
    previous = await previous_answer(session, round_, actor.unit_id, task_id)
    if previous is None:
        raise ReportError("no_previous_answer")
    return await replace_text(session, actor, round_id, task_id, previous)


async def add_evidence(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    task_id: int,
    *,
    kind: str,
    file_name: str,
    data: bytes,
    mime_type: str = "",
    telegram_file_id: str = "",
) -> Attachment:
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ReportError("file_too_big", limit_mb=MAX_EVIDENCE_BYTES // (1024 * 1024))
    file_name = clean_text(file_name).replace("\n", " ").replace("\t", " ")
    round_ = await _round(session, round_id)
    await _assigned_task(session, round_, actor.unit_id, task_id)
    entry = await _locked_entry(session, round_id, actor.unit_id, task_id, actor.now)
    digest = hashlib.sha256(data).hexdigest()
    duplicate = (
        await session.exec(
            select(Attachment).where(Attachment.entry_id == entry.id, Attachment.sha256 == digest)
        )
    ).first()
    if duplicate is not None:
        return duplicate
    attachment = Attachment(
        entry_id=entry.id,
        kind=kind,
        file_name=_unique_name(file_name, await _names_in(session, entry.id)),
        mime_type=mime_type,
        size=len(data),
        sha256=digest,
        telegram_file_id=telegram_file_id,
        content=data,
        by_contact_id=actor.contact_id,
    )
    session.add(attachment)
    # New evidence is a new version of the answer: a button drawn before it is stale.
    entry.version += 1
    entry.updated_at = actor.now
    entry.updated_by = actor.label
    await session.flush()
    return attachment


async def _names_in(session: AsyncSession, entry_id: int) -> set[str]:
    return set(
        (
            await session.exec(select(Attachment.file_name).where(Attachment.entry_id == entry_id))
        ).all()
    )


def _unique_name(name: str, taken: set[str]) -> str:
    name = name.replace("/", "_").replace("\\", "_").strip() or "file"
    if name not in taken:
        return name
    stem, dot, suffix = name.rpartition(".")
    stem, suffix = (stem, f".{suffix}") if dot else (name, "")
    n = 2
    while f"{stem}-{n}{suffix}" in taken:
        n += 1
    return f"{stem}-{n}{suffix}"


# ------------------------------------------------------------------ submitting


def receipt_number(round_: Round, unit_id: int) -> str:
    return f"TZ{round_.id}-{round_.due_date:%Y%m%d}-{unit_id:04d}"


async def submit(
    session: AsyncSession,
    actor: Actor,
    round_id: int,
    *,
    file_name: str = "",
    staff_import: bool = False,
    returned: bool = False,
) -> Receipt:
    """Confirm the unit's report; again after corrections, the version goes up. Each version
    keeps the answers as submitted (storage.services.submitted): the archive prints those.
    An import (`staff_import`) may also submit into a closed round. When the office has
    returned the last version (`returned`), submitting makes a new version even unchanged:
    the unit answers that it checked and stands by its report."""
    now = actor.now
    round_ = await _round(session, round_id, must_be_open=not staff_import)
    summary = await overview(session, round_id, actor.unit_id)
    if summary.total == 0 and not staff_import:
        raise ReportError("nothing_to_report")

    async def keep(version: int) -> None:
        await submitted.record_version(
            session,
            round_id,
            actor.unit_id,
            version,
            at=now,
            contact_id=actor.contact_id,
            by_label=actor.label,
            source=actor.source,
            file_name=file_name,
        )

    existing = summary.submission
    on_time = now < round_.deadline_at
    unanswered = [line.number for line in summary.unanswered]
    if existing is None:
        submission = Submission(
            round_id=round_id,
            unit_id=actor.unit_id,
            receipt_no=receipt_number(round_, actor.unit_id),
            submitted_at=now,
            contact_id=actor.contact_id,
            on_time=on_time,
            version=1,
            updated_at=now,
        )
        session.add(submission)
        await session.flush()
        await keep(1)
        return Receipt(submission.receipt_no, now, on_time, 1, unanswered, first=True)
    changes = summary.pending_changes
    if changes or returned:
        existing.version += 1
        existing.updated_at = now
        existing.contact_id = actor.contact_id
        await keep(existing.version)
    await session.flush()
    return Receipt(
        existing.receipt_no,
        existing.submitted_at,
        existing.on_time,
        existing.version,
        unanswered,
        changes,
        first=False,
        answers_return=returned,
    )


async def changed_tasks_since(
    session: AsyncSession, round_id: int, unit_id: int, since: dt.datetime
) -> list[int]:
    rows = (
        await session.exec(
            select(Task.number)
            .join(ProgressEntry, ProgressEntry.task_id == Task.id)
            .join(Revision, Revision.entry_id == ProgressEntry.id)
            .where(
                ProgressEntry.round_id == round_id,
                ProgressEntry.unit_id == unit_id,
                Revision.at > since,
            )
            .group_by(Task.number)
            .order_by(Task.number)
        )
    ).all()
    return list(rows)


async def revisions_of(
    session: AsyncSession, round_id: int, unit_id: int, task_id: int
) -> list[Revision]:
    entry = await _entry(session, round_id, unit_id, task_id)
    if entry is None:
        return []
    return list(
        (
            await session.exec(
                select(Revision).where(Revision.entry_id == entry.id).order_by(Revision.id)
            )
        ).all()
    )


async def round_plan(session: AsyncSession, round_id: int) -> Plan:
    round_ = await _round(session, round_id, must_be_open=False)
    return await session.get(Plan, round_.plan_id)


@dataclass
class Duties:
    lead: int
    responsible: int
    next_round: Round | None


async def unit_duties(session: AsyncSession, unit_id: int) -> Duties:
    """How many tasks the unit leads and shares, and its next open deadline."""
    roles = (
        await session.exec(select(Assignment.role).where(Assignment.unit_id == unit_id))
    ).all()
    rounds = await open_rounds(session, unit_id)
    return Duties(
        lead=sum(1 for r in roles if r == "lead"),
        responsible=sum(1 for r in roles if r != "lead"),
        next_round=rounds[0] if rounds else None,
    )
