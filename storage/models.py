"""The tables. Times are UTC (see UTCDateTime); texts are kept exactly as entered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _when(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, **kwargs)


class Directory(SQLModel, table=True):
    """A units directory: the units one office's plans name (e.g. 兴庆区, or a bureau's 科室)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    title: str = ""


class Unit(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("directory_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    directory_id: int = Field(foreign_key="directory.id", index=True)
    name: str  # canonical, e.g. 兴庆区医疗保障局
    short_name: str = ""  # as the 责任单位 column writes it, e.g. 医保局
    kind: str  # department | township | street | section
    position: int = 0  # order in the directory file
    active: bool = True


class UnitAlias(SQLModel, table=True):
    __tablename__ = "unit_alias"
    __table_args__ = (UniqueConstraint("directory_id", "alias"),)
    id: int | None = Field(default=None, primary_key=True)
    directory_id: int = Field(foreign_key="directory.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    alias: str


class UnitGroup(SQLModel, table=True):
    """A collective word whose members only the office knows (各决策单位 …)."""

    __tablename__ = "unit_group"
    __table_args__ = (UniqueConstraint("directory_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    directory_id: int = Field(foreign_key="directory.id", index=True)
    name: str


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="unit_group.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    title: str
    subtitle: str = ""
    year: int | None = None
    issuer: str = ""
    intro: str = ""
    layout: str  # fill-form | division
    directory_id: int | None = Field(default=None, foreign_key="directory.id")
    directory_key: str = ""  # as the plan file names it, kept when the directory is missing
    timezone: str = "Asia/Shanghai"
    reminder_policy: dict | None = Field(default=None, sa_column=Column(JSON))
    created_at: dt.datetime = _created()
    updated_at: dt.datetime = _created()


class Section(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    position: int
    title: str | None = None  # None: a plan without 板块


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    section_id: int = Field(foreign_key="section.id", index=True)
    position: int
    title: str


class Task(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    number: int  # 序号
    position: int
    name: str = ""
    content: str
    indicator: str = ""
    responsibility: str = ""
    due_text: str = ""
    due_date: dt.date | None = None
    due_kind: str | None = None  # date | recurring | ongoing
    recurrence: str | None = None
    retired: bool = False  # no longer in the plan file; kept because answers refer to it
    # Names from the responsibility text that matched no unit, and groups still empty.
    unresolved: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pending_groups: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Assignment(SQLModel, table=True):
    """Which unit answers for which task, as lead (牵头) or responsible (责任)."""

    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str  # lead | responsible
    position: int = 0


class AssignmentOverride(SQLModel, table=True):
    """Staff's own assignment of a task, which replaces what the text says."""

    __tablename__ = "assignment_override"
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    lead: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    responsible: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = _created()


class Staff(SQLModel, table=True):
    """An office user. `role`: admin (everything) or viewer (status and exports)."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    name: str = ""
    role: str = "admin"  # admin | viewer
    source: str = "command"  # command (staff add) | settings (STAFF_IDS) | sample
    language: str | None = None
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: dt.datetime = _created()


class AuditEvent(SQLModel, table=True):
    """What staff did, and when: accept, return, nudge, invite, export, staff changes."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _created()
    actor_user_id: int | None = Field(default=None, sa_type=BigInteger)  # None: command line
    actor_label: str = ""
    action: str = Field(index=True)  # e.g. review.accept, nudge.round, invite.create
    round_id: int | None = Field(default=None, foreign_key="round.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="task.id")
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReviewDecision(SQLModel, table=True):
    """The office's decision on one submitted version of a unit's report for a round:
    accepted, or returned with a comment (the whole report, or one task)."""

    __tablename__ = "review_decision"
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    version: int  # the submitted version decided on (SubmissionVersion.version)
    decision: str  # accepted | returned
    task_id: int | None = Field(default=None, foreign_key="task.id")  # None: the whole report
    comment: str = ""
    by_user_id: int | None = Field(default=None, sa_type=BigInteger)  # None: command line
    by_label: str = ""
    at: dt.datetime = _created()


class Contact(SQLModel, table=True):
    """A person who reports for a unit through Telegram or the web form (a web contact has no
    Telegram account: `telegram_user_id` and `chat_id` are None). A unit may have several."""

    __table_args__ = (UniqueConstraint("unit_id", "telegram_user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    name: str = ""
    phone: str = ""
    language: str | None = None  # None: follow the language Telegram reports
    reachable: bool = True
    unreachable_reason: str = ""
    active: bool = True
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    created_at: dt.datetime = _created()
    # E-mail reminders (docs/delivery.md): the address, the contact's choice of e-mail over
    # Telegram, and why the address was refused for good (a 5xx; "" while it is fine).
    email: str = ""
    remind_by_email: bool = False
    email_error: str = ""


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    token_hash: str = Field(
        unique=True, index=True
    )  # sha256 of the token; the token is never kept
    max_uses: int = 1
    uses: int = 0
    expires_at: dt.datetime | None = _when()
    revoked_at: dt.datetime | None = _when()
    created_at: dt.datetime = _created()
    channel: str = "telegram"  # telegram (a /start deep link) | web (a personal web link)


class WebLink(SQLModel, table=True):
    """Whom a web invite is for: a contact already known (a personal link), or, until its
    first use creates one, a new web contact with this name and phone."""

    __tablename__ = "web_link"
    invite_id: int = Field(foreign_key="invite.id", primary_key=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    name: str = ""
    phone: str = ""


class WebSession(SQLModel, table=True):
    """A browser signed in through a web link; the cookie holds the token, this its sha256."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    created_at: dt.datetime = _created()
    last_seen_at: dt.datetime = _created()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    ended_at: dt.datetime | None = _when()


class Round(SQLModel, table=True):
    """A reporting deadline of a plan."""

    __table_args__ = (UniqueConstraint("plan_id", "due_date"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    name: str
    due_date: dt.date
    deadline_at: dt.datetime = Field(sa_type=UTCDateTime)  # end of the due day, plan time zone
    status: str = "open"  # open | closed
    reminder_policy: dict | None = Field(default=None, sa_column=Column(JSON))
    created_at: dt.datetime = _created()
    closed_at: dt.datetime | None = _when()


class ProgressEntry(SQLModel, table=True):
    """A unit's answer for one task in one round (进展落实情况)."""

    __tablename__ = "progress_entry"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "task_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    status: str = "not_started"
    text: str = ""
    reason: str = ""  # why not applicable
    version: int = 0
    updated_at: dt.datetime = _created()
    updated_by: str = ""


class Revision(SQLModel, table=True):
    """Every change of an answer: who, when, old and new."""

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="progress_entry.id", index=True)
    at: dt.datetime = _created()
    by_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    by_label: str = ""  # e.g. 周琪, or import:filename.docx
    source: str = "bot"  # bot | import | staff
    old_status: str = ""
    new_status: str = ""
    old_text: str = ""
    new_text: str = ""
    old_reason: str = ""
    new_reason: str = ""


class Attachment(SQLModel, table=True):
    """Evidence attached to an answer, kept in the database with it."""

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="progress_entry.id", index=True)
    kind: str  # photo | document
    file_name: str
    mime_type: str = ""
    size: int = 0
    sha256: str = ""
    telegram_file_id: str = ""
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = _created()
    by_contact_id: int | None = Field(default=None, foreign_key="contact.id")


class Submission(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    receipt_no: str = Field(unique=True)
    submitted_at: dt.datetime = Field(sa_type=UTCDateTime)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    on_time: bool
    version: int = 1
    updated_at: dt.datetime = _created()


class SubmissionVersion(SQLModel, table=True):
    """One submitted version of a unit's report for a round: when, by whom, from where.

    Every version is kept; its answers (`SubmittedAnswer`) are what the archive prints.
    """

    __tablename__ = "submission_version"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    version: int
    at: dt.datetime = Field(sa_type=UTCDateTime)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    by_label: str = ""  # e.g. 周琪, or the label an import was given
    source: str = "bot"  # bot | import
    file_name: str = ""  # the imported file


class SubmittedAnswer(SQLModel, table=True):
    """A unit's answer for one task as it stood in one submitted version."""

    __tablename__ = "submitted_answer"
    __table_args__ = (UniqueConstraint("version_id", "task_id"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="submission_version.id", index=True)
    task_id: int = Field(foreign_key="task.id")
    status: str = "not_started"
    text: str = ""
    reason: str = ""
    entry_version: int = 0  # ProgressEntry.version when it was submitted
    evidence: list = Field(  # ids of the attachments that were part of it
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class FormHeader(SQLModel, table=True):
    """The 联系人 and 联系电话 a unit wrote on its form for a round (e.g. an imported form)."""

    __tablename__ = "form_header"
    round_id: int = Field(foreign_key="round.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    contact: str = ""
    phone: str = ""


class OutboxMessage(SQLModel, table=True):
    """A message the bot sends on its own; the dedupe key makes queuing it idempotent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),  # the sender's claim
        Index("ix_outbox_channel_due", "channel", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    kind: str  # reminder | receipt | staff_notice | broadcast | escalation
    channel: str = "telegram"  # telegram | email: each has its own sender over this queue
    chat_id: int = Field(sa_type=BigInteger, index=True)  # e-mail: the contact's id
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    method: str = "sendMessage"
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", index=True)  # queued | sending | sent | failed
    attempts: int = 0
    next_attempt_at: dt.datetime = _created()
    claimed_at: dt.datetime | None = _when()
    claimed_by: str = ""
    last_error: str = ""
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: dt.datetime = _created()
    sent_at: dt.datetime | None = _when()


class ReminderSnooze(SQLModel, table=True):
    """A contact's "remind me tomorrow": one more reminder on the next working day."""

    __tablename__ = "reminder_snooze"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "contact_id", "remind_on"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    contact_id: int = Field(foreign_key="contact.id")
    remind_on: dt.date  # a working day, in the plan's time zone
    created_at: dt.datetime = _created()


class DialogState(SQLModel, table=True):
    """A conversation's state, kept in the database so a restart loses nothing."""

    __tablename__ = "dialog_state"
    key: str = Field(primary_key=True)
    state: str | None = None
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _created()


class InboundUpdate(SQLModel, table=True):
    """Every update received, stored before Telegram is told it arrived.

    It is marked handled in the same transaction as the handler's changes, so a crash or an
    error leaves it pending and it is tried again; a redelivered update finds its row and
    changes nothing.
    """

    __tablename__ = "inbound_update"
    __table_args__ = (Index("ix_inbound_update_due", "status", "update_id"),)
    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    bot_id: int = Field(default=0, sa_type=BigInteger, primary_key=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    user_id: int | None = Field(default=None, sa_type=BigInteger)  # who sent it: their order
    status: str = "pending"  # pending | handled | failed
    attempts: int = 0
    next_attempt_at: dt.datetime = _created()
    last_error: str = ""
    reported: bool = False  # a failure already in a digest to the staff
    received_at: dt.datetime = _created()
    handled_at: dt.datetime | None = _when()


class CalendarDay(SQLModel, table=True):
    """Holidays and adjusted working days staff loaded for a year the calendar package lacks."""

    __tablename__ = "calendar_day"
    day: dt.date = Field(primary_key=True)
    year: int = Field(index=True)
    is_workday: bool
    name: str = ""


class Broadcast(SQLModel, table=True):
    """A notice the office sends to an audience of contacts, maybe asking for 收到.

    `audience` names whom, by ids: all | kind:KIND | plan:ID | late:ROUND_ID | units:ID,ID.
    The text keeps the staff member's formatting as message entities (never HTML).
    """

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="draft", index=True)  # draft|scheduled|sending|done|cancelled
    audience: str
    audience_label: str = ""
    text: str = ""
    entities: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachment_kind: str = ""  # "" | document | photo
    attachment_file_id: str = ""
    attachment_name: str = ""
    attachment_size: int = 0
    ask_ack: bool = False
    timezone: str = "Asia/Shanghai"  # the audience plan's zone: office hours, times shown
    scheduled_at: dt.datetime | None = _when()
    created_by_user_id: int | None = Field(default=None, sa_type=BigInteger)  # None: CLI
    created_by_label: str = ""
    created_at: dt.datetime = _created()
    confirmed_at: dt.datetime | None = _when()
    cancelled_at: dt.datetime | None = _when()
    finished_at: dt.datetime | None = _when()
    # The staff chat's progress message, edited through the outbox while it sends.
    progress_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    progress_message_id: int | None = Field(default=None, sa_type=BigInteger)
    progress_shown: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    progress_at: dt.datetime | None = _when()
    progress_edits: int = 0
    reminders: int = 0  # "please confirm" reminders sent to those who had not


class BroadcastRecipient(SQLModel, table=True):
    """One contact a broadcast reaches, and whether they pressed 收到 (once: when, who).

    Contacts sharing a chat (one person for two units) share one message: `outbox_key`.
    """

    __tablename__ = "broadcast_recipient"
    __table_args__ = (UniqueConstraint("broadcast_id", "contact_id"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    unit_id: int = Field(foreign_key="unit.id")
    chat_id: int = Field(sa_type=BigInteger)
    outbox_key: str = Field(index=True)  # the outbox row's dedupe key
    acked_at: dt.datetime | None = _when()
    acked_by_user_id: int | None = Field(default=None, sa_type=BigInteger)


class StaffLoginLink(SQLModel, table=True):
    """A one-time link that signs a staff member into the web console: sent to their Telegram
    chat, valid for minutes, used once. Only the token's sha256 is kept."""

    __tablename__ = "staff_login_link"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    telegram_user_id: int = Field(sa_type=BigInteger, index=True)
    created_at: dt.datetime = _created()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = _when()


class StaffSession(SQLModel, table=True):
    """A browser signed into the web console; the cookie holds the token, this its sha256.
    Apart from the contacts' web_session: a contact's cookie never opens the console."""

    __tablename__ = "staff_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    telegram_user_id: int = Field(sa_type=BigInteger, index=True)
    created_at: dt.datetime = _created()
    last_seen_at: dt.datetime = _created()
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    ended_at: dt.datetime | None = _when()
