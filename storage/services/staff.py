"""Who is office staff, with what rights; every staff service asks here first.

Staff are the rows of the `staff` table: those added with `taizhang staff add`, and the
`STAFF_IDS` of the settings, written in at start-up (`sync_configured`) so that the database
alone answers "may this person do this?". A viewer reads status and exports; an admin does
everything. The command line acts as `OPERATOR`: whoever has the server's shell has every right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.text import clean_text
from storage.models import Staff
from storage.services.errors import NotFound, ServiceError

ADMIN, VIEWER = "admin", "viewer"
ROLES = (ADMIN, VIEWER)


@dataclass(frozen=True)
class StaffMember:
    telegram_user_id: int | None  # None: the operator at the command line
    name: str
    role: str
    language: str | None = None
    chat_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def label(self) -> str:
        """How the audit trail and the people told name them."""
        if self.telegram_user_id is None:
            return self.name
        return self.name or f"staff {self.telegram_user_id}"


OPERATOR = StaffMember(None, "command line", ADMIN)


class StaffError(ServiceError):
    """code: not_staff (a refusal for anyone else) · admin_only (a viewer asked to change)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _member(row: Staff) -> StaffMember:
    return StaffMember(row.telegram_user_id, row.name, row.role, row.language, row.chat_id)


async def _row(session: AsyncSession, telegram_user_id: int) -> Staff | None:
    return (
        await session.exec(select(Staff).where(Staff.telegram_user_id == telegram_user_id))
    ).first()


async def authorize(
    session: AsyncSession, who: int | StaffMember, *, admin: bool = False
) -> StaffMember:
    """The staff member behind `who` (a Telegram user id, or a member seen before), read
    again from the database; StaffError when they are not staff, or not admin when `admin`."""
    if who is OPERATOR:  # the object itself: an equal copy made elsewhere is not the shell
        return OPERATOR
    user_id = who.telegram_user_id if isinstance(who, StaffMember) else who
    row = await _row(session, user_id) if user_id is not None else None
    if row is None:
        raise StaffError("not_staff")
    if admin and row.role != ADMIN:
        raise StaffError("admin_only")
    return _member(row)


async def remember_name(session: AsyncSession, member: StaffMember, name: str) -> StaffMember:
    """Name a staff member who has none yet (a `STAFF_IDS` entry) after their Telegram name,
    so the audit trail and the people told read a name, not an id. A name given with
    `taizhang staff add` is never replaced."""
    name = " ".join(clean_text(name).split())
    row = await _row(session, member.telegram_user_id) if member.telegram_user_id else None
    if row is None or row.name or not name:
        return member
    row.name = name
    await session.flush()
    return _member(row)


async def find(session: AsyncSession, telegram_user_id: int) -> StaffMember | None:
    row = await _row(session, telegram_user_id)
    return _member(row) if row else None


async def add_staff(
    session: AsyncSession, telegram_user_id: int, name: str = "", role: str = ADMIN
) -> tuple[StaffMember, bool]:
    """Add a staff member, or change the name and role of one; returns (member, created)."""
    if role not in ROLES:
        raise ServiceError(f"unknown role {role!r}: admin or viewer")
    row = await _row(session, telegram_user_id)
    created = row is None
    if row is None:
        row = Staff(telegram_user_id=telegram_user_id, chat_id=telegram_user_id)
        session.add(row)
    row.name = " ".join(clean_text(name).split()) or row.name
    row.role = role
    row.source = "command"  # kept when the id later leaves STAFF_IDS
    await session.flush()
    return _member(row), created


async def remove_staff(session: AsyncSession, telegram_user_id: int) -> StaffMember:
    row = await _row(session, telegram_user_id)
    if row is None:
        raise NotFound(f"no staff member with Telegram id {telegram_user_id}")
    member = _member(row)
    await session.delete(row)
    await session.flush()
    return member


async def list_staff(session: AsyncSession) -> list[StaffMember]:
    rows = (await session.exec(select(Staff).order_by(Staff.id))).all()
    return [_member(row) for row in rows]


async def sync_configured(session: AsyncSession, staff_ids: Sequence[int]) -> None:
    """STAFF_IDS become admin rows; an id taken out of STAFF_IDS loses what they gave it
    (a member added with `staff add` stays)."""
    configured = set(staff_ids)
    rows = {row.telegram_user_id: row for row in (await session.exec(select(Staff))).all()}
    for user_id in configured - rows.keys():
        session.add(
            Staff(telegram_user_id=user_id, chat_id=user_id, role=ADMIN, source="settings")
        )
    for user_id, row in rows.items():
        if row.source == "settings" and user_id not in configured:
            await session.delete(row)
        elif user_id in configured and row.source == "settings":
            row.role = ADMIN
    await session.flush()
