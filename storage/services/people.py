"""Who is writing: the units a person reports for, whether they are staff, their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import BigInteger, bindparam, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.text import clean_text
from storage.models import Contact, Staff, Unit


@dataclass(frozen=True)
class Membership:
    contact_id: int
    unit_id: int
    unit_name: str
    unit_short: str
    contact_name: str


@dataclass
class Identity:
    telegram_user_id: int
    memberships: list[Membership] = field(default_factory=list)
    staff: Staff | None = None
    language: str | None = None  # chosen by the person; None follows Telegram
    unreachable: bool = False  # a contact row of the account is marked unreachable

    @property
    def is_contact(self) -> bool:
        return bool(self.memberships)

    def membership(self, unit_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.unit_id == unit_id), None)


# Run for every update: built once (building it anew cost more than running it).
_ME = select(bindparam("telegram_user_id", type_=BigInteger).label("id")).subquery("me")
_WHO_WRITES = (
    select(Contact, Unit, Staff)
    .select_from(_ME)
    .outerjoin(Contact, Contact.telegram_user_id == _ME.c.id)
    .outerjoin(Unit, Unit.id == Contact.unit_id)
    .outerjoin(Staff, Staff.telegram_user_id == _ME.c.id)
    .order_by(Contact.id)
)


async def identify(
    session: AsyncSession, telegram_user_id: int, staff_ids: list[int] | tuple[int, ...] = ()
) -> Identity:
    """Who writes, in one statement: their contact rows with units, and their staff row."""
    params = {"telegram_user_id": telegram_user_id}
    found = (await session.exec(_WHO_WRITES, params=params)).all()
    staff = found[0][2] if found else None
    rows = [(c, u) for c, u, _ in found if c is not None and u is not None and c.active]
    unreachable = any(c is not None and not c.reachable for c, _, _ in found)
    if staff is None and telegram_user_id in staff_ids:
        staff = Staff(telegram_user_id=telegram_user_id)
    languages = [c.language for c, _ in rows if c.language] + (
        [staff.language] if staff and staff.language else []
    )
    return Identity(
        telegram_user_id=telegram_user_id,
        memberships=[
            Membership(c.id, u.id, u.name, u.short_name or u.name, c.name) for c, u in rows
        ],
        staff=staff,
        language=languages[0] if languages else None,
        unreachable=unreachable,
    )


async def set_language(
    session: AsyncSession, telegram_user_id: int, language: str, staff_ids: tuple[int, ...] = ()
) -> None:
    """The person's choice, remembered on every role they have (and for staff without a row)."""
    contacts = (
        await session.exec(select(Contact).where(Contact.telegram_user_id == telegram_user_id))
    ).all()
    for contact in contacts:
        contact.language = language
    staff = (
        await session.exec(select(Staff).where(Staff.telegram_user_id == telegram_user_id))
    ).first()
    if staff is None and telegram_user_id in staff_ids:
        staff = Staff(telegram_user_id=telegram_user_id)
        session.add(staff)
    if staff is not None:
        staff.language = language
    await session.flush()


async def set_phone(session: AsyncSession, telegram_user_id: int, phone: str) -> int:
    phone = " ".join(clean_text(phone).split())
    contacts = (
        await session.exec(select(Contact).where(Contact.telegram_user_id == telegram_user_id))
    ).all()
    for contact in contacts:
        contact.phone = phone
    await session.flush()
    return len(contacts)


async def staff_recipients(
    session: AsyncSession, staff_ids: list[int] | tuple[int, ...] = ()
) -> list[tuple[int, str | None]]:
    """(chat id, language) of every staff member: rows in the table and STAFF_IDS alike.

    In a private chat the chat id is the user id, so STAFF_IDS alone are reachable.
    """
    rows = (await session.exec(select(Staff).order_by(Staff.id))).all()
    recipients = {s.telegram_user_id: (s.chat_id or s.telegram_user_id, s.language) for s in rows}
    for user_id in staff_ids:
        recipients.setdefault(user_id, (user_id, None))
    return list(recipients.values())


@dataclass(frozen=True)
class Reachability:
    """A contact that went from reachable to unreachable, or back."""

    contact_id: int
    telegram_user_id: int
    unit_id: int
    unit_name: str
    contact_name: str
    reachable: bool  # the state it went to
    reason: str  # why it cannot be reached ("" when it can)
    unit_reachable: bool  # whether the unit has any contact the bot can reach now


async def change_reachability(
    session: AsyncSession,
    reachable: bool,
    *,
    telegram_user_id: int | None = None,
    contact_id: int | None = None,
    reason: str = "",
) -> list[Reachability]:
    """The one place where contacts become reachable or not; returns what changed.

    A person who writes to the bot (or unblocks it) can be reached again; one who blocks it,
    or whose account is gone, cannot. Reachability belongs to the Telegram account, so every
    contact row of the account changes (given a contact, its account's rows). Only rows whose
    state really changes are returned, and only active ones: the conditional UPDATE makes two
    paths that notice the same block at the same moment report it once between them.
    """
    if telegram_user_id is None:
        contact = await session.get(Contact, contact_id) if contact_id is not None else None
        if contact is None:
            return []
        telegram_user_id = contact.telegram_user_id
    if telegram_user_id is None:
        return []  # a web contact: no Telegram account to reach or not
    changed = (
        (
            await session.exec(
                update(Contact)
                .where(
                    Contact.telegram_user_id == telegram_user_id,
                    Contact.reachable.is_(not reachable),
                )
                .values(reachable=reachable, unreachable_reason="" if reachable else reason[:500])
                .returning(Contact.id)
            )
        )
        .scalars()
        .all()
    )
    if not changed:
        return []
    rows = (
        await session.exec(
            select(Contact, Unit)
            .join(Unit, Unit.id == Contact.unit_id)
            .where(Contact.id.in_(changed), Contact.active.is_(True))
            .order_by(Contact.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    transitions = []
    for contact, unit in rows:
        left = (
            await session.exec(
                select(Contact.id).where(
                    Contact.unit_id == unit.id,
                    Contact.active.is_(True),
                    Contact.reachable.is_(True),
                )
            )
        ).first()
        transitions.append(
            Reachability(
                contact_id=contact.id,
                telegram_user_id=telegram_user_id,
                unit_id=unit.id,
                unit_name=unit.name,
                contact_name=contact.name,
                reachable=reachable,
                reason=contact.unreachable_reason,
                unit_reachable=left is not None,
            )
        )
    return transitions
