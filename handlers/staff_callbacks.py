"""Staff buttons: short, ids only; every press is checked again in the service (≤ 64 bytes).

Each staff screen has its own payload class; `STAFF_PREFIXES` lets a press from someone who is
not staff get a plain refusal instead of "no longer in use".
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from scheduler.buttons import BroadcastButton


class StatusView(CallbackData, prefix="ss"):
    """The round's status screen. act: show · chart · tasks · pick (choose another round)."""

    act: str
    round: int = 0
    page: int = 0


class UnitView(CallbackData, prefix="su"):
    """One unit in a round. act: show · answers · versions."""

    act: str
    round: int
    unit: int
    page: int = 0


class NudgeAct(CallbackData, prefix="sn"):
    """act: all (every unit not yet submitted) · unit (one unit)."""

    act: str
    round: int
    unit: int = 0


class ExportAct(CallbackData, prefix="se"):
    """act: menu (what to export of a round) · rounds (a page of rounds to choose from) ·
    units (a page of units, for one unit's form) · file (make `what`: docx · xlsx · pdf · zip ·
    unit, with `unit`)."""

    act: str
    round: int = 0
    what: str = ""
    unit: int = 0
    page: int = 0


class ReviewAct(CallbackData, prefix="sr"):
    """act: accept · return (whole report) · task (return one task) · list."""

    act: str
    round: int
    unit: int
    version: int = 0
    task: int = 0


class InviteAct(CallbackData, prefix="si"):
    """act: kinds (the unit kinds) · units (a page of units of `kind`) · unit (its contacts and
    invites) · new · revoke (asks first) · revoke_ok (revokes)."""

    act: str
    unit: int = 0
    invite: int = 0
    page: int = 0
    kind: str = ""


class NoticeAct(CallbackData, prefix="sl"):
    """The 通报 of a round's late units, as a Word document."""

    round: int


class BroadcastPick(CallbackData, prefix="sc"):
    """Composing a broadcast. act: menu · all · kinds · kind (`v`) · plans · plan (`id`) ·
    rounds · late (`id`, a round) · units (a page) · toggle (`id`, a unit) · picked · list
    (recent broadcasts) · ack (`id` the draft, `v` 1 or 0). The draft's own buttons and the
    progress message's are BroadcastButton (scheduler.buttons: the outbox edits carry them)."""

    act: str
    id: int = 0
    v: str = ""
    page: int = 0


STAFF_CALLBACKS = (StatusView, UnitView, NudgeAct, ExportAct, ReviewAct, InviteAct, NoticeAct)
STAFF_CALLBACKS += (BroadcastPick, BroadcastButton)
STAFF_PREFIXES = tuple(f"{cls.__prefix__}:" for cls in STAFF_CALLBACKS)
