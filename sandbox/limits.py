"""Flood limits and injected faults: what a real deployment meets and tests must survive."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.errors import too_many_requests

CALL_FAULTS = {"error", "timeout", "slow", "flood"}
UPDATE_FAULTS = {"drop_updates", "duplicate_updates"}


@dataclass
class RateLimitSettings:
    """Telegram's published limits (bots FAQ); off unless a test or the control API asks."""

    enabled: bool = False
    global_per_second: float = 30.0
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0


class TokenBucket:
    def __init__(self, capacity: float, per_second: float, now: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = capacity
        self.updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """One bucket per bot for all its messages and one per (bot, chat)."""

    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._buckets: dict[tuple[int, int | None], TokenBucket] = {}

    def configure(self, **changes: Any) -> None:
        for name, value in changes.items():
            if not hasattr(self.settings, name):
                raise ValueError(f"unknown rate limit setting {name!r}")
            setattr(self.settings, name, type(getattr(self.settings, name))(value))
        self._buckets.clear()

    def check(self, bot_id: int, chat_id: int, is_group: bool) -> None:
        """Count one message to `chat_id`, or raise 429 with retry_after when over a limit."""
        if not self.settings.enabled:
            return
        now = self.clock()
        buckets = [self._bucket(bot_id, None, now), self._bucket(bot_id, chat_id, now, is_group)]
        wait = max(bucket.wait_needed(now) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take()

    def _bucket(
        self, bot_id: int, chat_id: int | None, now: float, is_group: bool = False
    ) -> TokenBucket:
        key = (bot_id, chat_id)
        if key not in self._buckets:
            s = self.settings
            if chat_id is None:
                self._buckets[key] = TokenBucket(s.global_per_second, s.global_per_second, now)
            elif is_group:
                per_second = s.group_per_minute / 60
                self._buckets[key] = TokenBucket(s.group_per_minute, per_second, now)
            else:
                self._buckets[key] = TokenBucket(s.private_burst, s.private_per_second, now)
        return self._buckets[key]

    def reset(self) -> None:
        self._buckets.clear()


@dataclass
class Fault:
    """One injected fault, used up after `count` matching calls (or update deliveries).

    kind: "error" (answer `status`, 500 or 502), "timeout" (hang `delay` seconds, default
    until the server stops, doing the call first when `execute`), "slow" (do the call, answer
    after `delay` seconds), "flood" (429 with `retry_after`), "drop_updates" (the next
    updates never reach the bot), "duplicate_updates" (the next updates arrive twice).
    """

    kind: str
    count: int = 1
    method: str | None = None
    status: int = 500
    delay: float | None = None
    execute: bool = False
    retry_after: int = 5
    id: int = field(default=0)

    def matches_call(self, method: str) -> bool:
        return self.kind in CALL_FAULTS and self.method in (None, method.lower())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in CALL_FAULTS | UPDATE_FAULTS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        fault.method = fault.method.lower() if fault.method else None
        fault.id = next(self._ids)
        self.rules.append(fault)
        return fault

    def take_call_fault(self, method: str) -> Fault | None:
        return self._take(lambda rule: rule.matches_call(method))

    def take_update_fault(self) -> Fault | None:
        return self._take(lambda rule: rule.kind in UPDATE_FAULTS)

    def _take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        for rule in self.rules:
            if wanted(rule):
                rule.count -= 1
                if rule.count == 0:
                    self.rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()
