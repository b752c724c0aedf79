"""/invite as messages: unit kinds, a page of units, a unit's contacts and invites, a new link."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.render import esc, local_time
from handlers.staff_callbacks import InviteAct
from storage.services.invites import CreatedInvite
from storage.services.staff_invites import (
    INVITE_LIFETIME,
    INVITE_USES,
    InviteLine,
    UnitDesk,
    UnitRow,
)

UNITS_PER_PAGE = 8
STATE_MARKS = {"active": "🟢", "expired": "⌛", "revoked": "⛔", "used_up": "☑️"}


def kind_label(kind: str) -> str:
    return {
        "department": _("Departments"),
        "township": _("Townships"),
        "street": _("Street offices"),
        "section": _("Sections"),
    }.get(kind, kind)


def state_label(state: str) -> str:
    return {
        "active": _("active"),
        "expired": _("expired"),
        "revoked": _("revoked"),
        "used_up": _("used up"),
    }[state]


def kinds_text() -> str:
    return "✉️ <b>" + _("Invites and contacts") + "</b>\n" + _("Which kind of unit?")


def kinds_keyboard(kinds: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind, count in kinds:
        data = InviteAct(act="units", kind=kind).pack()
        builder.button(text=f"{kind_label(kind)} ({count})", callback_data=data)
    builder.adjust(2)
    return builder.as_markup()


def no_units_text() -> str:
    return _("There are no units yet (the office loads them with `taizhang units import`).")


def units_text(kind: str) -> str:
    return (
        "✉️ <b>"
        + esc(kind_label(kind))
        + "</b>\n"
        + _("Choose a unit. 👤 the number of contacts bound to it.")
    )


def units_keyboard(kind: str, units: list[UnitRow], page: int) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for unit in units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]:
        if unit.contacts:
            label = f"{unit.name} · 👤{unit.contacts}"
        else:
            label = f"{unit.name} · ⚠️ " + _("nobody bound")
        data = InviteAct(act="unit", unit=unit.id, kind=kind, page=page).pack()
        builder.row(InlineKeyboardButton(text=label, callback_data=data))
    nav = []
    if page > 0:
        data = InviteAct(act="units", kind=kind, page=page - 1).pack()
        nav.append(InlineKeyboardButton(text="◀", callback_data=data))
    if pages > 1:
        data = InviteAct(act="units", kind=kind, page=page).pack()
        nav.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=data))
    if page < pages - 1:
        data = InviteAct(act="units", kind=kind, page=page + 1).pack()
        nav.append(InlineKeyboardButton(text="▶", callback_data=data))
    if nav:
        builder.row(*nav)
    back = InviteAct(act="kinds").pack()
    builder.row(InlineKeyboardButton(text="↩ " + _("Back"), callback_data=back))
    return builder.as_markup()


def _invite_line(invite: InviteLine, timezone: str) -> str:
    parts = [
        f"#{invite.id} {STATE_MARKS.get(invite.state, '')} {state_label(invite.state)}",
        _("used {uses} of {max_uses}").format(uses=invite.uses, max_uses=invite.max_uses),
    ]
    if invite.state == "active":
        if invite.expires_at is None:
            parts.append(_("never expires"))
        else:
            until = local_time(invite.expires_at, timezone)
            parts.append(_("valid until {moment}").format(moment=until))
    else:
        made = local_time(invite.created_at, timezone)
        parts.append(_("made {moment}").format(moment=made))
    return "• " + " · ".join(parts)


def unit_text(desk: UnitDesk, *, admin: bool) -> str:
    short = ""
    if desk.short_name and desk.short_name != desk.name:
        short = f" ({esc(desk.short_name)})"
    lines = [f"🏢 <b>{esc(desk.name)}</b>{short}", "", "<b>" + _("Contacts") + "</b>"]
    if not desk.contacts:
        lines.append(_("Nobody is bound to this unit yet."))
    for contact in desk.contacts:
        name = esc(contact.name or _("(no name)"))
        phone = f" · {esc(contact.phone)}" if contact.phone else ""
        state = "✅ " + _("reachable") if contact.reachable else "⚠️ " + _("not reachable")
        lines.append(f"• {name}{phone} · {state}")
    lines += ["", "<b>" + _("Invites") + "</b>"]
    if not desk.invites:
        lines.append(_("No invites yet."))
    lines += [_invite_line(invite, desk.timezone) for invite in desk.invites]
    if desk.older_invites:
        lines.append(_("…and {count} older ones").format(count=desk.older_invites))
    if admin:
        lines += [
            "",
            _("A new invite is for {uses} person(s) and valid for {days} days.").format(
                uses=INVITE_USES, days=INVITE_LIFETIME.days
            ),
        ]
    else:
        lines += ["", "<i>" + _("Your role can look, not create or revoke invites.") + "</i>"]
    return "\n".join(lines)


def unit_keyboard(desk: UnitDesk, kind: str, page: int, *, admin: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if admin:
        data = InviteAct(act="new", unit=desk.unit_id, kind=kind, page=page).pack()
        builder.row(InlineKeyboardButton(text="➕ " + _("New invite link"), callback_data=data))
        data = InviteAct(act="web", unit=desk.unit_id, kind=kind, page=page).pack()
        builder.row(InlineKeyboardButton(text="🌐 " + _("Web link"), callback_data=data))
        for invite in desk.active_invites:
            data = InviteAct(
                act="revoke", unit=desk.unit_id, invite=invite.id, kind=kind, page=page
            ).pack()
            text = "🚫 " + _("Revoke #{id}").format(id=invite.id)
            builder.row(InlineKeyboardButton(text=text, callback_data=data))
    back = InviteAct(act="units", kind=kind or desk.kind, page=page).pack()
    builder.row(InlineKeyboardButton(text="↩ " + _("Back to the units"), callback_data=back))
    return builder.as_markup()


def created_caption(created: CreatedInvite, link: str, timezone: str, *, web: bool = False) -> str:
    expires = created.invite.expires_at
    until = (
        _("valid until {moment}").format(moment=local_time(expires, timezone))
        if expires
        else _("never expires")
    )
    uses = created.invite.max_uses
    lines = [
        "✉️ <b>"
        + _("Invite #{id} for {unit}").format(id=created.invite.id, unit=esc(created.unit.name))
        + "</b>",
        _("For {uses} person(s), {until}.").format(uses=uses, until=until),
        "",
        esc(link),
        "",
        _(
            "Send the link or this QR code to the unit's contact: opening it binds their "
            "Telegram account to the unit. It is shown only now; the bot keeps only its hash."
        )
        if not web
        else _(
            "Send the link or this QR code to the unit's contact: it opens the unit's report "
            "form in a phone's browser, no Telegram needed. Keep it private, like a password. "
            "It is shown only now; the bot keeps only its hash."
        ),
    ]
    return "\n".join(lines)


def no_web_address_text() -> str:
    return _("Web links need the form's public address: the operator sets WEB__BASE_URL.")


def revoke_question(desk: UnitDesk, invite_id: int) -> str:
    return (
        "🚫 <b>"
        + _("Revoke invite #{id} of {unit}?").format(id=invite_id, unit=esc(desk.name))
        + "</b>\n"
        + _("Its link will no longer bind anyone. Contacts already bound through it stay bound.")
    )


def revoke_keyboard(unit_id: int, invite_id: int, kind: str, page: int) -> InlineKeyboardMarkup:
    yes = InviteAct(act="revoke_ok", unit=unit_id, invite=invite_id, kind=kind, page=page)
    no = InviteAct(act="unit", unit=unit_id, kind=kind, page=page)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="🚫 " + _("Yes, revoke"), callback_data=yes.pack()),
                InlineKeyboardButton(text=_("Cancel"), callback_data=no.pack()),
            ]
        ]
    )


def revoked_text(invite_id: int, already: bool) -> str:
    if already:
        return _("Invite #{id} was already revoked.").format(id=invite_id)
    return _("Invite #{id} revoked: its link binds no one any more.").format(id=invite_id)


def unknown_unit_text() -> str:
    return _("That unit or invite no longer exists.")
