"""Time as the scheduler sees it: the real clock, or one that tests move by hand.

Everything that asks "what time is it" or waits (the sweep, the sender's pacing, its
back-off) takes a Clock, so a test can walk a round through weeks in milliseconds and the
sandbox's flood limiter can share the same virtual seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (UTC)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""

    async def sleep(self, seconds: float) -> None:
        """Wait this long (a fake clock just moves on)."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class CallableClock(SystemClock):
    """Real waiting, but "now" from a function: the bot's own clock (bot.app.Clock)."""

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now()


def as_clock(clock: Any = None) -> Clock:
    """A Clock from a Clock, from a function returning now, or the system clock for None."""
    if clock is None:
        return SystemClock()
    if hasattr(clock, "now") and hasattr(clock, "sleep"):
        return clock
    if callable(clock):
        return CallableClock(clock)
    raise TypeError(f"not a clock: {clock!r}")


class FakeClock:
    """A clock that moves only when told to, or when someone sleeps on it.

    Sleeping advances the time at once (after letting other tasks run), so waiting out a
    429 of 30 seconds costs nothing. Call the clock itself for monotonic seconds, which is
    the signature the sandbox's rate limiter takes: `SandboxServer(clock=fake_clock)`.
    """

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the fake clock needs a timezone-aware start")
        self._now = start.astimezone(dt.UTC)
        self._monotonic = 1000.0
        self.slept: list[float] = []  # every sleep asked for, for tests that care

    @classmethod
    def at(cls, local: str, timezone: str = "Asia/Shanghai") -> FakeClock:
        """A clock set to a local time written `YYYY-MM-DD HH:MM`."""
        return cls(dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(timezone)))

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def __call__(self) -> float:
        return self._monotonic

    def advance(self, seconds: float | dt.timedelta) -> None:
        if isinstance(seconds, dt.timedelta):
            seconds = seconds.total_seconds()
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._now += dt.timedelta(seconds=seconds)
        self._monotonic += seconds

    def set(self, local: str | dt.datetime, timezone: str = "Asia/Shanghai") -> None:
        """Jump forward to a moment (a local `YYYY-MM-DD HH:MM` text or an aware datetime)."""
        if isinstance(local, str):
            local = dt.datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(timezone))
        self.advance(local.astimezone(dt.UTC) - self._now)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)
        if seconds > 0:
            self.advance(seconds)
