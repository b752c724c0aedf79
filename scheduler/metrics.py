"""What the running bot counts, for `/metrics` (Prometheus text format, prometheus-client).

One registry of our own (no process or platform collectors of the library's default), filled
where things happen: the inbox counts updates, the sender its calls, the jobs their sweeps.
The outbox's rows by status are read from the database when `/metrics` is asked
(bot/health.py), since every instance shares them. Time here is wall time on purpose: these
are durations measured by the process, not moments of the bot's (test-controlled) clock.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "taizhang_updates_total",
    "Telegram updates taken from the inbox, by outcome (handled, retried, failed, duplicate).",
    ["outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "taizhang_handler_seconds",
    "Seconds to handle one update, its database commit included.",
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SENDS = Counter(
    "taizhang_outbox_calls_total",
    "Bot API calls made by the outbox sender, by outcome (sent, retry, failed, rate_limited).",
    ["outcome"],
    registry=REGISTRY,
)
SEND_SECONDS = Histogram(
    "taizhang_send_seconds",
    "Seconds one Bot API call of the outbox sender took.",
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
)
RATE_LIMITED = Counter(
    "taizhang_telegram_429_total",
    "Answers 'Too Many Requests' (429) met by the outbox sender.",
    registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "taizhang_reminder_sweep_seconds",
    "Seconds one reminder sweep took.",
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_ROWS = Gauge(
    "taizhang_outbox_messages",
    "Outbox rows by status (queued, sending, sent, failed, withdrawn), read when scraped.",
    ["status"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "taizhang_leader",
    "1 while this instance runs the scheduled work (reminder sweeps), else 0.",
    registry=REGISTRY,
)


class Heartbeat:
    """When a loop last went round, so /healthz can tell a live sender from a stuck one."""

    def __init__(self) -> None:
        self.last: float | None = None

    def beat(self) -> None:
        self.last = time.monotonic()

    def age(self) -> float | None:
        return None if self.last is None else time.monotonic() - self.last


SENDER_HEARTBEAT = Heartbeat()
