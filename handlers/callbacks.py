"""Button payloads: short, ids only, checked again on every press (≤ 64 bytes each)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class UnitPick(CallbackData, prefix="un"):
    unit: int


class RoundPick(CallbackData, prefix="rd"):
    unit: int
    round: int


class OverviewPage(CallbackData, prefix="ov"):
    unit: int
    round: int
    page: int = 0


class TaskAct(CallbackData, prefix="tk"):
    """act: o open · s status · w write · d done · c clear (asks first) · y clear, confirmed ·
    n keep (clear cancelled) · p previous round · m more · f full.

    Buttons that change the answer carry the version they were drawn for; at most about
    40 bytes even with seven-digit ids and version (Telegram allows 64)."""

    act: str
    unit: int
    round: int
    task: int
    arg: str = ""
    version: int = -1  # the answer's version the button was drawn for; -1: not checked


# What each TaskAct letter does, in the words of storage.services.reporting.CHANGING_ACTIONS.
TASK_ACTIONS = {
    "o": "open",
    "s": "status",
    "w": "write",
    "d": "done",
    "c": "clear",
    "y": "clear_confirmed",
    "n": "clear_cancelled",
    "p": "previous",
    "m": "more",
    "f": "full",
}


class SubmitAct(CallbackData, prefix="sb"):
    """act: ask · ok (confirm) · pv (preview the form)."""

    act: str
    unit: int
    round: int


class LanguagePick(CallbackData, prefix="lg"):
    code: str


STATUS_CODES = {
    "n": "not_started",
    "i": "in_progress",
    "d": "done",
    "x": "not_applicable",
}
STATUS_LETTERS = {status: letter for letter, status in STATUS_CODES.items()}


class CoUnitsView(CallbackData, prefix="cu"):
    """A lead unit reads its co-units' answers for a task it leads."""

    unit: int
    round: int
    task: int
