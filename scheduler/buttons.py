"""Buttons carried by messages the bot sends on its own (reminders, notices).

The handlers answer these presses; keeping the callback format here lets the outbox build
the buttons without knowing the handlers.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ReportButton(CallbackData, prefix="go"):
    """Open the unit's report for a round at its first unanswered task."""

    unit: int
    round: int


class SnoozeButton(CallbackData, prefix="zz"):
    """Remind me tomorrow (the next working day)."""

    unit: int
    round: int


class ReviewButton(CallbackData, prefix="rv"):
    """From the office's review notice: open the returned task's card (`task`), or the
    unit's task list (`task` 0)."""

    unit: int
    round: int
    task: int = 0


class AckButton(CallbackData, prefix="ak"):
    """收到 on a broadcast's message: the recipient confirms they received it."""

    b: int


class BroadcastButton(CallbackData, prefix="sb"):
    """Staff, on a broadcast's screens (its progress message too). act: send · now (drop the
    time) · time (ask for one) · cancel · show · acks · remind · report."""

    act: str
    b: int
