"""The office's invite desk: a unit's contacts and invites, creating and revoking invites.

Staff may look (viewers included); only admins create and revoke, and both steps go into the
audit trail. The links themselves are built by the caller (storage.services.invites.deep_link):
the token is in hand only once, right after `create_unit_invite`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Contact, Invite, Plan, Unit
from storage.services import audit, staff
from storage.services.errors import NotFound
from storage.services.invites import CreatedInvite, create_invite, invite_state, revoke_invite
from storage.services.staff import StaffMember
from storage.services.web_access import LINK_LIFETIME as WEB_LINK_LIFETIME
from storage.services.web_access import LINK_USES as WEB_LINK_USES
from storage.services.web_access import create_web_invite

KINDS = ("department", "township", "street", "section")  # the order the desk lists them in
INVITE_USES = 1
INVITE_LIFETIME = dt.timedelta(days=14)
INVITES_SHOWN = 10  # the newest; older ones are counted
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class ContactLine:
    name: str
    phone: str
    reachable: bool
    reason: str  # why not reachable (e.g. blocked the bot)


@dataclass(frozen=True)
class InviteLine:
    id: int
    state: str  # active · expired · revoked · used_up
    uses: int
    max_uses: int
    expires_at: dt.datetime | None
    created_at: dt.datetime


@dataclass(frozen=True)
class UnitDesk:
    unit_id: int
    name: str
    short_name: str
    kind: str
    contacts: list[ContactLine]
    invites: list[InviteLine]  # newest first, at most INVITES_SHOWN
    older_invites: int  # not shown
    timezone: str  # where its times are shown: that of a plan of its directory

    @property
    def active_invites(self) -> list[InviteLine]:
        return [i for i in self.invites if i.state == "active"]


async def unit_kinds(session: AsyncSession, who: int | StaffMember) -> list[tuple[str, int]]:
    """(kind, number of active units) for each kind that has units."""
    await staff.authorize(session, who)
    rows = (
        await session.exec(
            select(Unit.kind, func.count()).where(Unit.active.is_(True)).group_by(Unit.kind)
        )
    ).all()
    counts = dict(rows)
    order = [k for k in KINDS if k in counts] + sorted(k for k in counts if k not in KINDS)
    return [(kind, counts[kind]) for kind in order]


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    contacts: int  # bound and active
    reachable: int  # of those, reachable


async def units_of_kind(session: AsyncSession, who: int | StaffMember, kind: str) -> list[UnitRow]:
    """The active units of a kind, in directory order, with how many contacts each has."""
    await staff.authorize(session, who)
    query = select(Unit).where(Unit.active.is_(True), Unit.kind == kind)
    units = (await session.exec(query.order_by(Unit.directory_id, Unit.position, Unit.id))).all()
    contacts = (
        await session.exec(
            select(Contact.unit_id, Contact.reachable).where(
                Contact.active.is_(True), Contact.unit_id.in_([u.id for u in units])
            )
        )
    ).all()
    rows = []
    for unit in units:
        mine = [reachable for unit_id, reachable in contacts if unit_id == unit.id]
        rows.append(UnitRow(unit.id, unit.name, len(mine), sum(mine)))
    return rows


async def unit_desk(
    session: AsyncSession, who: int | StaffMember, unit_id: int, *, now: dt.datetime
) -> UnitDesk:
    """The unit, its bound contacts (reachable or not) and its invites (state, uses, expiry)."""
    await staff.authorize(session, who)
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    contacts = (
        await session.exec(
            select(Contact)
            .where(Contact.unit_id == unit_id, Contact.active.is_(True))
            .order_by(Contact.id)
        )
    ).all()
    invites = (
        await session.exec(
            select(Invite).where(Invite.unit_id == unit_id).order_by(Invite.id.desc())
        )
    ).all()
    return UnitDesk(
        unit_id=unit.id,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        contacts=[
            ContactLine(c.name, c.phone, c.reachable, c.unreachable_reason) for c in contacts
        ],
        invites=[
            InviteLine(i.id, invite_state(i, now), i.uses, i.max_uses, i.expires_at, i.created_at)
            for i in invites[:INVITES_SHOWN]
        ],
        older_invites=max(0, len(invites) - INVITES_SHOWN),
        timezone=await _timezone(session, unit.directory_id),
    )


async def _timezone(session: AsyncSession, directory_id: int) -> str:
    query = select(Plan.timezone).where(Plan.directory_id == directory_id).order_by(Plan.id)
    return (await session.exec(query)).first() or DEFAULT_TIMEZONE


async def create_unit_invite(
    session: AsyncSession,
    who: int | StaffMember,
    unit_id: int,
    *,
    now: dt.datetime,
    uses: int = INVITE_USES,
    expires_in: dt.timedelta | None = INVITE_LIFETIME,
    web: bool = False,
) -> CreatedInvite:
    """A new invite for the unit (admins only); its token is in the result, and nowhere else.
    `web`: a link to the web report form (WEB_LINK_USES browsers, WEB_LINK_LIFETIME)."""
    member = await staff.authorize(session, who, admin=True)
    unit = await session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise NotFound(f"no active unit {unit_id}")
    if web:
        uses, expires_in = WEB_LINK_USES, WEB_LINK_LIFETIME
        created = await create_web_invite(session, unit, now=now, uses=uses, expires_in=expires_in)
    else:
        created = await create_invite(session, unit, uses=uses, expires_in=expires_in, now=now)
    expires = created.invite.expires_at
    await audit.record(
        session,
        member,
        "invite.create",
        unit_id=unit.id,
        detail={
            "invite": created.invite.id,
            "uses": uses,
            "expires_at": expires.isoformat() if expires else None,
            "channel": created.invite.channel,
        },
        now=now,
    )
    return created


@dataclass(frozen=True)
class Revoked:
    invite_id: int
    unit_id: int
    unit_name: str
    already: bool  # it was revoked before: nothing changed


async def revoke_unit_invite(
    session: AsyncSession, who: int | StaffMember, invite_id: int, *, now: dt.datetime
) -> Revoked:
    """Revoke an invite (admins only): its link binds no one any more; contacts it bound stay."""
    member = await staff.authorize(session, who, admin=True)
    existing = await session.get(Invite, invite_id)
    already = existing is not None and existing.revoked_at is not None
    invite = await revoke_invite(session, invite_id, now=now)
    unit = await session.get(Unit, invite.unit_id)
    if not already:
        await audit.record(
            session,
            member,
            "invite.revoke",
            unit_id=unit.id,
            detail={"invite": invite.id},
            now=now,
        )
    return Revoked(invite.id, unit.id, unit.name, already)
