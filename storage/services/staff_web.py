"""Signing office staff into the web console: one-time login links and staff sessions.

A login link is made for a staff member (`create_login_link`, which asks `staff.authorize`
first) and sent to their own Telegram chat — by the bot's /console, or queued in the outbox by
`taizhang staff login-link`. Its token has 256 random bits, of which only the sha256 is kept;
it is valid for `LOGIN_LINK_LIFETIME` (10 minutes) and for one use. Exchanging it
(`exchange_login`) gives a session token for a cookie; that session ends after `idle` unused,
`lifetime` after sign-in, on sign-out, and as soon as the person is no longer staff.

Staff sessions are apart from the contacts' browser sessions (storage.services.web_access):
another table, another cookie. The rights are never kept with the session: every request
reads the staff row again (`session_member`), and every service checks them once more.

Nothing here knows of HTTP: web/ turns requests into these calls.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Staff, StaffLoginLink, StaffSession
from storage.services import audit, staff
from storage.services.errors import ServiceError
from storage.services.invites import token_hash
from storage.services.staff import StaffMember

TOKEN_BYTES = 32  # 256 bits; 43 characters of A-Za-z0-9_-
LOGIN_LINK_LIFETIME = dt.timedelta(minutes=10)
SESSION_IDLE = dt.timedelta(hours=8)  # a working day
SESSION_LIFETIME = dt.timedelta(days=7)
TOUCH_EVERY = dt.timedelta(minutes=5)
LOGIN_PATH = "/office/login/"


def login_path(token: str) -> str:
    return LOGIN_PATH + token


def login_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + login_path(token)


class LoginError(ServiceError):
    """Why a login link does not sign in: unknown | expired | used | not_staff."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class LoginLink:
    token: str  # for the link; never stored
    member: StaffMember
    expires_at: dt.datetime


@dataclass(frozen=True)
class StaffIdentity:
    """The staff member a console session belongs to, as the staff table says now."""

    session_id: int
    member: StaffMember
    token_hash: str

    @property
    def language(self) -> str | None:
        return self.member.language


@dataclass(frozen=True)
class StaffSignIn:
    token: str  # for the cookie; never stored
    identity: StaffIdentity


async def create_login_link(
    session: AsyncSession,
    who: int | StaffMember,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = LOGIN_LINK_LIFETIME,
) -> LoginLink:
    """A one-time login link for the staff member `who` (StaffError when not staff). Links
    made before for the same person and not used stay valid until they expire."""
    member = await staff.authorize(session, who)
    if member.telegram_user_id is None:
        raise LoginError("not_staff")  # the command line is no one to sign in
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + lifetime
    session.add(
        StaffLoginLink(
            token_hash=token_hash(token),
            telegram_user_id=member.telegram_user_id,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return LoginLink(token, member, expires)


async def exchange_login(
    session: AsyncSession,
    token: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta = SESSION_IDLE,
    lifetime: dt.timedelta = SESSION_LIFETIME,
) -> StaffSignIn:
    """Use the link (once: a second use, even at the same moment, is refused) for a new
    session of its staff member; LoginError unknown | expired | used | not_staff."""
    link = (
        await session.exec(
            select(StaffLoginLink).where(StaffLoginLink.token_hash == token_hash(token))
        )
    ).first()
    if link is None:
        raise LoginError("unknown")
    if link.used_at is not None:
        raise LoginError("used")
    if link.expires_at <= now:
        raise LoginError("expired")
    table = StaffLoginLink.__table__
    claimed = await (await session.connection()).execute(
        update(table)
        .where(table.c.id == link.id, table.c.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another browser used it meanwhile
        raise LoginError("used")
    try:
        member = await staff.authorize(session, link.telegram_user_id)
    except staff.StaffError:
        raise LoginError("not_staff") from None
    session_token = secrets.token_urlsafe(TOKEN_BYTES)
    row = StaffSession(
        token_hash=token_hash(session_token),
        telegram_user_id=link.telegram_user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=min(now + idle, now + lifetime),
    )
    session.add(row)
    await session.flush()
    await audit.record(session, member, "console.sign_in", detail={"session": row.id}, now=now)
    return StaffSignIn(session_token, StaffIdentity(row.id, member, row.token_hash))


async def session_member(
    session: AsyncSession,
    token: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta = SESSION_IDLE,
    lifetime: dt.timedelta = SESSION_LIFETIME,
) -> StaffIdentity | None:
    """Whose console this is; None when the session is unknown, ended or expired, or its
    person is no longer staff. A session in use is kept alive up to `lifetime`."""
    row = (
        await session.exec(
            select(StaffSession, Staff)
            .join(Staff, Staff.telegram_user_id == StaffSession.telegram_user_id)
            .where(StaffSession.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        return None
    web_session, person = row
    if web_session.ended_at is not None or web_session.expires_at <= now:
        return None
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        web_session.expires_at = min(now + idle, web_session.created_at + lifetime)
        await session.flush()
    member = StaffMember(
        person.telegram_user_id, person.name, person.role, person.language, person.chat_id
    )
    return StaffIdentity(web_session.id, member, web_session.token_hash)


async def end_session(session: AsyncSession, identity: StaffIdentity, *, now: dt.datetime) -> None:
    row = await session.get(StaffSession, identity.session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now
        await session.flush()
        await audit.record(
            session, identity.member, "console.sign_out", detail={"session": row.id}, now=now
        )


async def set_language(session: AsyncSession, member: StaffMember, language: str) -> None:
    if member.telegram_user_id is None:
        return
    row = (
        await session.exec(select(Staff).where(Staff.telegram_user_id == member.telegram_user_id))
    ).first()
    if row is not None:
        row.language = language
        await session.flush()
