"""Contacts' e-mail addresses: who is reminded by e-mail, and addresses the mail server refused.

A contact is reminded by e-mail (scheduler/reminders.py) when the e-mail channel is on and the
contact has an address the server has not refused, and either has no Telegram chat the bot can
reach (a web contact) or chose e-mail (`remind_by_email`). Setting an address again clears a
refusal. Nothing here sends anything: scheduler/email_sender.py does, through the outbox.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Contact, Unit
from storage.services.errors import NotFound, ServiceError

MAX_EMAIL = 254
# Deliberately plain: one @, no spaces or angle brackets, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]{2,}$")


class BadEmail(ServiceError):
    """An address that cannot be one."""


def normalise_email(text: str) -> str:
    """The address as kept: trimmed, its domain in lower case; "" stays "" (no address).
    Raises BadEmail for anything that cannot be an address."""
    address = (text or "").strip()
    if not address:
        return ""
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise BadEmail(f"not an e-mail address: {address!r}")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def emails_reminders(
    *,
    email: str,
    email_error: str,
    remind_by_email: bool,
    telegram_reachable: bool,
) -> bool:
    """Whether a contact is reminded by e-mail (when the e-mail channel is on)."""
    return bool(email) and not email_error and (remind_by_email or not telegram_reachable)


@dataclass(frozen=True)
class EmailChange:
    contact_id: int
    unit_name: str
    email: str
    remind_by_email: bool


async def set_email(
    session: AsyncSession,
    contact_id: int,
    address: str,
    *,
    prefer: bool | None = None,
) -> EmailChange:
    """Set (or with "" clear) a contact's address, and optionally the preference; a new
    address is a fresh start (any refusal forgotten). The caller commits."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id} (see `taizhang invite list`)")
    email = normalise_email(address)
    if email != contact.email:
        contact.email = email
        contact.email_error = ""
    if prefer is not None:
        contact.remind_by_email = prefer
    if not contact.email:
        contact.remind_by_email = False
    unit = await session.get(Unit, contact.unit_id)
    await session.flush()
    unit_name = unit.name if unit else ""
    return EmailChange(contact.id, unit_name, contact.email, contact.remind_by_email)


async def create_email_contact(
    session: AsyncSession,
    unit: Unit,
    address: str,
    *,
    name: str = "",
    phone: str = "",
    now: dt.datetime,
) -> Contact:
    """The unit's contact with this address: the one it has already, else a new web contact
    (no Telegram), so e-mail reminders reach them before they first open their link."""
    from storage.services.web_access import NO_TELEGRAM

    email = normalise_email(address)
    if not email:
        raise BadEmail("an e-mail address is needed")
    existing = await _contact_with_email(session, unit.id, email)
    if existing is not None:
        return existing
    contact = Contact(
        unit_id=unit.id,
        name=name,
        phone=phone,
        reachable=False,  # by the bot: no Telegram chat
        unreachable_reason=NO_TELEGRAM,
        email=email,
        created_at=now,
    )
    session.add(contact)
    await session.flush()
    return contact


async def _contact_with_email(session: AsyncSession, unit_id: int, email: str) -> Contact | None:
    rows = (
        await session.exec(
            select(Contact).where(Contact.unit_id == unit_id, Contact.active.is_(True))
        )
    ).all()
    for contact in rows:
        if contact.email and contact.email.lower() == email.lower():
            return contact
    return None


async def sync_directory_contacts(
    session: AsyncSession,
    unit: Unit,
    entries: list[tuple[str, str, str]],
    *,
    now: dt.datetime,
) -> int:
    """A units file's contacts of one unit (name, phone, e-mail): each address that no
    contact of the unit has yet is given to the unit's contact of that name when it has no
    address, else to a new web contact. Contacts are never removed by an import. Returns how
    many contacts were added or changed."""
    changed = 0
    for name, phone, address in entries:
        email = normalise_email(address)
        if not email or await _contact_with_email(session, unit.id, email) is not None:
            continue
        named = None
        if name:
            named = (
                await session.exec(
                    select(Contact).where(
                        Contact.unit_id == unit.id,
                        Contact.active.is_(True),
                        Contact.name == name,
                        Contact.email == "",
                    )
                )
            ).first()
        if named is not None:
            named.email = email
            named.email_error = ""
            await session.flush()
        else:
            await create_email_contact(session, unit, email, name=name, phone=phone, now=now)
        changed += 1
    return changed


@dataclass(frozen=True)
class RefusedAddress:
    contact_id: int
    contact_name: str
    unit_name: str
    email: str
    reason: str


async def mark_address_refused(
    session: AsyncSession, contact_id: int, address: str, reason: str
) -> RefusedAddress | None:
    """The mail server refused the address for good (a 5xx): no more e-mail to it until it
    is set again. Returns the change only the first time (a conditional UPDATE), so the staff
    are told once however many messages meet the refusal. The caller commits."""
    changed = (
        (
            await session.exec(
                update(Contact)
                .where(
                    Contact.id == contact_id,
                    Contact.email == address,
                    Contact.email_error == "",
                )
                .values(email_error=(reason or "refused")[:500])
                .returning(Contact.id)
            )
        )
        .scalars()
        .all()
    )
    if not changed:
        return None
    row = (
        await session.exec(
            select(Contact, Unit)
            .join(Unit, Unit.id == Contact.unit_id)
            .where(Contact.id == contact_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    contact, unit = row
    return RefusedAddress(contact.id, contact.name, unit.name, address, reason)
