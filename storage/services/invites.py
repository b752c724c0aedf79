"""Invites: deep-link tokens that bind a person to a unit. Only the token's hash is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.text import clean_text
from storage.models import Contact, DialogState, Directory, Invite, Unit, UnitAlias, WebSession
from storage.services.errors import NotFound, ServiceError
from storage.types import utcnow

TOKEN_BYTES = 24  # 192 bits of randomness; 32 characters of A-Za-z0-9_-
BAD_TOKEN_LIMIT = 5  # bad tokens from one account before it is slowed down
BAD_TOKEN_WINDOW = dt.timedelta(minutes=15)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


@dataclass
class CreatedInvite:
    invite: Invite
    unit: Unit
    token: str  # shown once; never stored


class InviteProblem(ServiceError):
    """Why a token does not bind: unknown | expired | revoked | used_up | throttled."""

    def __init__(self, reason: str, retry_after: dt.timedelta | None = None):
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


async def find_unit(session: AsyncSession, name: str, directory: str | None = None) -> Unit:
    """A unit by canonical name, short name or alias, in one directory or any."""
    query = select(Unit).join(Directory, Directory.id == Unit.directory_id)
    if directory:
        query = query.where(Directory.key == directory)
    units = list((await session.exec(query.where(Unit.active.is_(True)))).all())
    matches = [u for u in units if name in (u.name, u.short_name)]
    if not matches:
        alias_units = (
            await session.exec(select(UnitAlias.unit_id).where(UnitAlias.alias == name))
        ).all()
        matches = [u for u in units if u.id in set(alias_units)]
    if not matches:
        raise NotFound(f"no unit called “{name}” (see `taizhang units list`)")
    if len(matches) > 1:
        raise NotFound(f"“{name}” names units in several directories: give --directory")
    return matches[0]


async def create_invite(
    session: AsyncSession,
    unit: Unit,
    *,
    uses: int = 1,
    expires_in: dt.timedelta | None = dt.timedelta(days=14),
    now: dt.datetime | None = None,
) -> CreatedInvite:
    if uses < 1:
        raise ServiceError("an invite needs at least one use")
    now = now or utcnow()
    token = new_token()
    invite = Invite(
        unit_id=unit.id,
        token_hash=token_hash(token),
        max_uses=uses,
        expires_at=now + expires_in if expires_in else None,
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return CreatedInvite(invite, unit, token)


async def list_invites(session: AsyncSession) -> list[tuple[Invite, Unit]]:
    rows = await session.exec(
        select(Invite, Unit).join(Unit, Unit.id == Invite.unit_id).order_by(Invite.id)
    )
    return list(rows.all())


async def revoke_invite(session: AsyncSession, invite_id: int, now: dt.datetime | None = None):
    invite = await session.get(Invite, invite_id)
    if invite is None:
        raise NotFound(f"no invite {invite_id} (see `taizhang invite list`)")
    if invite.revoked_at is None:
        invite.revoked_at = now or utcnow()
        # A web link's browsers are signed out with it (a Telegram account stays bound).
        await session.exec(
            update(WebSession)
            .where(WebSession.invite_id == invite.id, WebSession.ended_at.is_(None))
            .values(ended_at=invite.revoked_at)
        )
    return invite


def invite_state(invite: Invite, now: dt.datetime) -> str:
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    if invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


async def redeem_invite(
    session: AsyncSession,
    token: str,
    *,
    telegram_user_id: int,
    chat_id: int,
    name: str,
    now: dt.datetime | None = None,
) -> tuple[Contact, Unit, bool]:
    """Bind the account to the invite's unit: (contact, unit, newly bound)."""
    now = now or utcnow()
    name = " ".join(clean_text(name).split())  # one line, no control characters
    await _check_throttle(session, telegram_user_id, now)
    invite = (
        await session.exec(
            select(Invite).where(
                Invite.token_hash == token_hash(token), Invite.channel == "telegram"
            )  # a web link's token opens the web form, never binds a Telegram account
        )
    ).first()
    if invite is None:
        await _count_bad_token(session, telegram_user_id, now)
        raise InviteProblem("unknown")
    unit = await session.get(Unit, invite.unit_id)
    contact = (
        await session.exec(
            select(Contact).where(
                Contact.unit_id == unit.id, Contact.telegram_user_id == telegram_user_id
            )
        )
    ).first()
    if contact is not None and contact.active:
        return contact, unit, False  # the same link opened twice: nothing more to do
    state = invite_state(invite, now)
    if state != "active":
        await _count_bad_token(session, telegram_user_id, now)
        raise InviteProblem(state)
    invite.uses += 1
    if contact is None:
        contact = Contact(
            unit_id=unit.id,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            name=name,
            invite_id=invite.id,
        )
        session.add(contact)
    else:
        contact.active, contact.reachable, contact.chat_id = True, True, chat_id
    await session.flush()
    return contact, unit, True


def _throttle_key(telegram_user_id: int) -> str:
    return f"invite-failures:{telegram_user_id}"


async def _recent_failures(
    session: AsyncSession, telegram_user_id: int, now: dt.datetime
) -> tuple[DialogState | None, list[dt.datetime]]:
    row = await session.get(DialogState, _throttle_key(telegram_user_id))
    if row is None:
        return None, []
    times = [dt.datetime.fromisoformat(t) for t in row.data.get("failures", [])]
    return row, [t for t in times if now - t < BAD_TOKEN_WINDOW]


async def _check_throttle(session: AsyncSession, telegram_user_id: int, now: dt.datetime) -> None:
    _, recent = await _recent_failures(session, telegram_user_id, now)
    if len(recent) >= BAD_TOKEN_LIMIT:
        raise InviteProblem("throttled", retry_after=recent[0] + BAD_TOKEN_WINDOW - now)


async def _count_bad_token(session: AsyncSession, telegram_user_id: int, now: dt.datetime) -> None:
    # Kept in its own row, committed with the refusal, so a flood of guesses is remembered.
    row, recent = await _recent_failures(session, telegram_user_id, now)
    if row is None:
        row = DialogState(key=_throttle_key(telegram_user_id))
    row.data = {"failures": [t.isoformat() for t in [*recent, now]]}
    row.updated_at = now
    session.add(row)
    await session.flush()
