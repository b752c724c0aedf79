"""Web links and browser sessions: how a contact without Telegram reaches the report form.

A web link is an invite of the `web` channel: a random token of 256 bits, of which only the
sha256 is kept, that expires, can be revoked and serves a limited number of browsers. Opening
it (`exchange_link`) binds the browser to one contact of the unit — the one the link was made
for (`WebLink.contact_id`, a personal link), or a new web contact made at its first use —
and hands out a session token for a cookie; the link's token is then no longer needed. The
session token, too, is kept only as a hash; a session ends when it has not been used for
`idle`, `lifetime` after it began, when the person signs out, or when its link is revoked.

Nothing here knows of HTTP: web/ turns requests into these calls.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ledger.text import clean_text
from storage.models import Contact, Invite, Unit, WebLink, WebSession
from storage.services.errors import NotFound, ServiceError
from storage.services.invites import CreatedInvite, invite_state, token_hash
from storage.services.people import Membership

WEB = "web"
LINK_TOKEN_BYTES = 32  # 256 bits; 43 characters of A-Za-z0-9_-
SESSION_TOKEN_BYTES = 32
LINK_USES = 3  # a phone, a desk computer, one more
LINK_LIFETIME = dt.timedelta(days=30)
SESSION_IDLE = dt.timedelta(days=7)
SESSION_LIFETIME = dt.timedelta(days=30)
TOUCH_EVERY = dt.timedelta(minutes=5)  # how often a session's last use is written down
NO_TELEGRAM = "web"  # unreachable_reason of a web contact: the bot cannot reach them


def link_path(token: str) -> str:
    return f"/l/{token}"


def web_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + link_path(token)


class WebAccessError(ServiceError):
    """Why a link does not open the form: unknown | expired | revoked | used_up."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class WebIdentity:
    """The contact a browser session belongs to."""

    session_id: int
    contact_id: int
    unit_id: int
    unit_name: str
    unit_short: str
    contact_name: str
    language: str | None
    token_hash: str

    @property
    def membership(self) -> Membership:
        return Membership(
            self.contact_id, self.unit_id, self.unit_name, self.unit_short, self.contact_name
        )

    @property
    def label(self) -> str:
        return self.contact_name or self.unit_short


@dataclass(frozen=True)
class SignIn:
    token: str  # for the cookie; never stored
    identity: WebIdentity
    new_contact: bool


async def create_web_invite(
    session: AsyncSession,
    unit: Unit,
    *,
    now: dt.datetime,
    contact_id: int | None = None,
    name: str = "",
    phone: str = "",
    uses: int = LINK_USES,
    expires_in: dt.timedelta | None = LINK_LIFETIME,
) -> CreatedInvite:
    """A web link for the unit: for a contact already known (`contact_id`, e.g. one who also
    uses Telegram, or the address an e-mail reminder carries), or for a new web contact of
    that name and phone, made when the link is first opened."""
    if uses < 1:
        raise ServiceError("an invite needs at least one use")
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None or contact.unit_id != unit.id or not contact.active:
            raise NotFound(f"no active contact {contact_id} of {unit.name}")
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    invite = Invite(
        unit_id=unit.id,
        token_hash=token_hash(token),
        max_uses=uses,
        expires_at=now + expires_in if expires_in else None,
        created_at=now,
        channel=WEB,
    )
    session.add(invite)
    await session.flush()
    session.add(
        WebLink(
            invite_id=invite.id,
            contact_id=contact_id,
            name=_one_line(name),
            phone=_one_line(phone),
        )
    )
    await session.flush()
    return CreatedInvite(invite, unit, token)


def _one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


async def link_contact(session: AsyncSession, token: str) -> int | None:
    """The contact a link's token is bound to (None: unknown, or not used yet)."""
    row = (
        await session.exec(
            select(WebLink.contact_id)
            .join(Invite, Invite.id == WebLink.invite_id)
            .where(Invite.token_hash == token_hash(token), Invite.channel == WEB)
        )
    ).first()
    return row


async def exchange_link(
    session: AsyncSession,
    token: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta = SESSION_IDLE,
    lifetime: dt.timedelta = SESSION_LIFETIME,
) -> SignIn:
    """Use one of the link's uses: a new session for its contact (made at the first use)."""
    row = (
        await session.exec(
            select(Invite, WebLink)
            .join(WebLink, WebLink.invite_id == Invite.id)
            .where(Invite.token_hash == token_hash(token), Invite.channel == WEB)
        )
    ).first()
    if row is None:
        raise WebAccessError("unknown")
    invite, link = row
    state = invite_state(invite, now)
    if state != "active":
        raise WebAccessError(state)
    unit = await session.get(Unit, invite.unit_id)
    if unit is None or not unit.active:
        raise WebAccessError("revoked")
    new_contact = False
    if link.contact_id is None:
        contact = Contact(
            unit_id=unit.id,
            name=link.name,
            phone=link.phone,
            reachable=False,  # by the bot: a web contact has no Telegram chat
            unreachable_reason=NO_TELEGRAM,
            invite_id=invite.id,
            created_at=now,
        )
        session.add(contact)
        await session.flush()
        link.contact_id = contact.id
        new_contact = True
    else:
        contact = await session.get(Contact, link.contact_id)
        if contact is None or not contact.active:
            raise WebAccessError("revoked")
    invite.uses += 1
    session_token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    row = WebSession(
        token_hash=token_hash(session_token),
        contact_id=contact.id,
        unit_id=unit.id,
        invite_id=invite.id,
        created_at=now,
        last_seen_at=now,
        expires_at=min(now + idle, now + lifetime),
    )
    session.add(row)
    await session.flush()
    return SignIn(session_token, _identity(row, contact, unit), new_contact)


def _identity(row: WebSession, contact: Contact, unit: Unit) -> WebIdentity:
    return WebIdentity(
        session_id=row.id,
        contact_id=contact.id,
        unit_id=unit.id,
        unit_name=unit.name,
        unit_short=unit.short_name or unit.name,
        contact_name=contact.name,
        language=contact.language,
        token_hash=row.token_hash,
    )


async def session_identity(
    session: AsyncSession,
    token: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta = SESSION_IDLE,
    lifetime: dt.timedelta = SESSION_LIFETIME,
) -> WebIdentity | None:
    """Whose browser this is; None when the session is unknown, ended or expired, or its
    contact or unit is no longer active. A session in use is kept alive up to `lifetime`."""
    row = (
        await session.exec(
            select(WebSession, Contact, Unit)
            .join(Contact, Contact.id == WebSession.contact_id)
            .join(Unit, Unit.id == WebSession.unit_id)
            .where(WebSession.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        return None
    web_session, contact, unit = row
    if web_session.ended_at is not None or web_session.expires_at <= now:
        return None
    if not contact.active or not unit.active or contact.unit_id != unit.id:
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        web_session.expires_at = min(now + idle, web_session.created_at + lifetime)
        await session.flush()
    return _identity(web_session, contact, unit)


async def end_session(session: AsyncSession, session_id: int, *, now: dt.datetime) -> None:
    row = await session.get(WebSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now
        await session.flush()


async def set_language(session: AsyncSession, contact_id: int, language: str) -> None:
    contact = await session.get(Contact, contact_id)
    if contact is not None:
        contact.language = language
        await session.flush()
