"""A broadcast with 收到 to N contacts, from confirm to the last delivery, as the bot runs it.

    uv run python bench/broadcast.py [--contacts 2000] [--rate 25] [--latency-ms 200]
        [--concurrency 8] [--postgres] [--json]

Units (five contacts each) and their contacts are made in a fresh database; the stand-in runs
with Telegram's flood limits on (30 messages/s in all, 1/s per chat) and holds every Bot API
answer back `--latency-ms`. The bot's own scheduler runs (scheduler/jobs.py: the sender job
every 2 s, the broadcast-progress job every 3 s, the sweep), with the sender built from the
settings, as `taizhang run` builds it. The staff member's summary message is in their chat; the
broadcast (to all contacts, 收到 asked) is confirmed with it as its progress message, and the
clock runs from confirm to the last recipient's delivery, then on to the last progress edit.

Reported: seconds from confirm to the last delivery (and to the first), messages a second
(first to last delivery, and over the whole time) against the configured rate, the progress
message's edits (how many, the smallest interval between two, and how far the first estimate
of the end was from the real end), 429s met, messages lost and sent twice. The baseline, in the
same run: the same N contacts sent plain reminders through the same scheduler and sender (a
fresh stand-in and database), from the commit that queues them to the last delivery; the
broadcast's own overhead shows as the ratio of the two times.

SQLite in a temporary directory; `--postgres` also runs both on PostgreSQL (127.0.0.1:5432,
a temporary database made next to `test`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram.client.session.middlewares.base import BaseRequestMiddleware  # noqa: E402
from aiogram.exceptions import TelegramRetryAfter  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.send_pacing import (  # noqa: E402
    TOKEN,
    make_bot,
    received,
    start_sandbox,
    temporary_postgres,
)
from bot.settings import load_settings  # noqa: E402
from scheduler import broadcasts as sb  # noqa: E402
from scheduler.jobs import start_scheduler, stop_scheduler  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Broadcast, Contact, Directory, OutboxMessage, Unit  # noqa: E402
from storage.services import broadcasts as bc  # noqa: E402
from storage.services import staff  # noqa: E402
from storage.services.outbox import NewMessage, enqueue  # noqa: E402

CONTACTS_PER_UNIT = 5
TAG = "台账通知"  # in every broadcast message, and only there
REMINDER_TAG = "台账提醒"  # in every baseline reminder
ZONE = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- the database


async def build_contacts(sessions, users: list[int], admin: int) -> None:
    """Units of five contacts each, one contact per stand-in user; one admin."""
    now = dt.datetime.now(dt.UTC)
    units = (len(users) + CONTACTS_PER_UNIT - 1) // CONTACTS_PER_UNIT
    async with sessions() as session:
        connection = await session.connection()
        await connection.execute(Directory.__table__.insert(), [{"id": 1, "key": "bench"}])
        await connection.execute(Unit.__table__.insert(), [{
            "id": u, "directory_id": 1, "name": f"单位{u}", "short_name": f"单位{u}",
            "kind": "department", "position": u, "active": True,
        } for u in range(1, units + 1)])  # fmt: skip
        await connection.execute(Contact.__table__.insert(), [{
            "unit_id": n // CONTACTS_PER_UNIT + 1, "telegram_user_id": user, "chat_id": user,
            "name": f"联系人{n}", "phone": "", "language": None, "reachable": True,
            "unreachable_reason": "", "active": True, "created_at": now,
        } for n, user in enumerate(users)])  # fmt: skip
        await staff.add_staff(session, admin, "张主任", staff.ADMIN)
        await session.commit()


@contextlib.asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / f'broadcast-{uuid.uuid4().hex[:8]}.db'}"
        yield url
        return
    async with temporary_postgres() as url:
        yield url


# ---------------------------------------------------------------- watching the calls


class Calls(BaseRequestMiddleware):
    """Every Bot API call as it comes back: deliveries to the recipients, the progress
    message's edits (with their text), 429s."""

    def __init__(self, recipients: set[int]) -> None:
        self.recipients = recipients
        self.delivered: dict[int, float] = {}  # chat → first answered (monotonic)
        self.deliveries: list[float] = []  # every answered send to a recipient
        self.edits: list[tuple[float, str]] = []  # (started, text) of answered edits
        self.flooded = 0  # 429s met
        self.other_errors = 0
        self.everyone = asyncio.Event()

    async def __call__(self, make_request, bot, method):
        started = time.monotonic()
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self.flooded += 1
            raise
        except Exception:
            self.other_errors += 1
            raise
        answered = time.monotonic()
        chat = getattr(method, "chat_id", None)
        if method.__api_method__ == "editMessageText":
            self.edits.append((started, method.text))
        elif chat in self.recipients:
            self.deliveries.append(answered)
            self.delivered.setdefault(chat, answered)
            if len(self.delivered) == len(self.recipients):
                self.everyone.set()
        return response


@dataclass
class Run:
    name: str
    contacts: int
    seconds: float  # from confirm (or queuing) to the last delivery
    first_delivery: float  # from confirm to the first delivery
    sustained: float  # messages a second, first to last delivery
    overall: float  # messages a second over `seconds`
    errors_429: int
    lost: int
    duplicated: int
    edits: int = 0
    edit_times: list[float] = field(default_factory=list)  # seconds from confirm, each edit
    edit_min_interval: float | None = None
    last_edit_after: float | None = None  # seconds from the last delivery to the last edit
    estimate_error: float | None = None  # the first estimate of the end minus the real end
    final_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, rate: float) -> dict[str, Any]:
        def r(value: float | None, digits: int = 2) -> float | None:
            return None if value is None else round(value, digits)

        out = {
            "contacts": self.contacts,
            "seconds": r(self.seconds, 1),
            "first_delivery_s": r(self.first_delivery),
            "rate_per_s": r(self.sustained),
            "rate_fraction": r(self.sustained / rate, 3),
            "overall_per_s": r(self.overall),
            "overall_fraction": r(self.overall / rate, 3),
            "errors_429": self.errors_429,
            "lost": self.lost,
            "duplicated": self.duplicated,
        }
        if self.name == "broadcast":
            out.update(
                progress_edits=self.edits,
                edit_min_interval_s=r(self.edit_min_interval),
                last_edit_after_s=r(self.last_edit_after),
                first_estimate_error_s=r(self.estimate_error, 1),
                edit_times_s=[round(at, 1) for at in self.edit_times],
            )
        return out


def _estimate(text: str, near: dt.datetime) -> dt.datetime | None:
    """The HH:MM:SS of "finishes at about …" in a progress text, on the day nearest `near`."""
    found = re.search(r"\b(\d\d):(\d\d):(\d\d)\b", text)
    if not found:
        return None
    local = near.astimezone(ZONE)
    clock = dt.time(*(int(g) for g in found.groups()))
    days = (local.date() + dt.timedelta(days=d) for d in (-1, 0, 1))
    moments = [dt.datetime.combine(day, clock, tzinfo=ZONE) for day in days]
    return min(moments, key=lambda m: abs((m - local).total_seconds()))


def _summary(
    name: str, users: list[int], calls: Calls, started: float, counts: dict[int, int]
) -> Run:
    deliveries = sorted(calls.deliveries)
    delivered = sum(1 for count in counts.values() if count)
    last = max(calls.delivered.values(), default=started)
    first = min(calls.delivered.values(), default=started)
    span = deliveries[-1] - deliveries[0] if len(deliveries) > 1 else 0.0
    return Run(
        name=name,
        contacts=len(users),
        seconds=last - started,
        first_delivery=first - started,
        sustained=(len(deliveries) - 1) / span if span > 0 else 0.0,
        overall=delivered / (last - started) if last > started else 0.0,
        errors_429=calls.flooded,
        lost=len(users) - delivered,
        duplicated=sum(count - 1 for count in counts.values() if count > 1),
    )


# ---------------------------------------------------------------- one run


async def run_once(
    name: str, db: str, workdir: Path, contacts: int, rate: float, latency: float, k: int
) -> Run:
    """`broadcast`: confirm a broadcast with 收到 to everyone; `reminders`: queue a plain
    reminder to everyone. Either way through the bot's scheduler, sender and progress job."""
    server, everyone = await start_sandbox(contacts + 1, latency)
    admin, users = everyone[0], everyone[1:]
    async with database(db, workdir) as url:
        await asyncio.to_thread(upgrade, url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        bot = make_bot(server)
        calls = Calls(set(users))
        bot.session.middleware(calls)
        settings = load_settings(
            _env_file=None,
            bot_token=TOKEN,
            telegram_api_base=server.base_url,
            database_url=url,
            staff_ids=[admin],
            send={"rate_per_second": rate, "concurrency": k},
        )
        scheduler = None
        try:
            await build_contacts(sessions, users, admin)
            now = dt.datetime.now(dt.UTC)
            if name == "broadcast":  # the staff's summary, which becomes the progress message
                async with sessions() as session:
                    row = await bc.create_draft(
                        session, admin, audience="all", text=f"{TAG}：请于周五前报送。",
                        ask_ack=True, now=now,
                    )  # fmt: skip
                    broadcast_id = row.id
                    await session.commit()
                summary = await bot.send_message(admin, f"📣 #{broadcast_id}")
            app = SimpleNamespace(settings=settings, sessions=sessions, bot=bot)
            scheduler = start_scheduler(app)  # the bot's jobs, on the wall clock
            await asyncio.sleep(0.5)  # its first ticks ran on an empty queue, as in a live bot
            started = time.monotonic()
            async with sessions() as session:
                if name == "broadcast":
                    await sb.confirm_and_queue(
                        session, admin, broadcast_id, now=dt.datetime.now(dt.UTC),
                        progress_chat_id=admin, progress_message_id=summary.message_id,
                    )  # fmt: skip
                else:
                    ids = dict((await session.exec(select(Contact.chat_id, Contact.id))).all())
                    await enqueue(session, [
                        NewMessage(f"bench-reminder:{user}", "reminder", user,
                                   {"text": f"{REMINDER_TAG}：请于周五前报送。"},
                                   contact_id=ids[user])
                        for user in users
                    ], now=dt.datetime.now(dt.UTC))  # fmt: skip
                await session.commit()
            guard = 60 + 3 * contacts / rate
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(calls.everyone.wait(), guard)  # or some were lost
            last_delivery_wall = dt.datetime.now(dt.UTC)
            if name == "broadcast":
                await _until_finished(sessions, broadcast_id, guard)
        finally:
            if scheduler is not None:
                await stop_scheduler(scheduler)
            await bot.session.close()
            await engine.dispose()
        counts = received(server, users, TAG if name == "broadcast" else REMINDER_TAG)
        result = _summary(name, users, calls, started, counts)
        if name == "broadcast":
            _progress_figures(result, calls, started, server, admin, summary.message_id,
                              last_delivery_wall)  # fmt: skip
        await server.stop()
    return result


async def _until_finished(sessions, broadcast_id: int, guard: float) -> None:
    """Until the broadcast is marked done and its last progress edit went out."""
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        async with sessions() as session:
            row = await session.get(Broadcast, broadcast_id)
            waiting = (
                await session.exec(
                    select(OutboxMessage.id).where(
                        OutboxMessage.kind == "broadcast_progress",
                        OutboxMessage.status.in_(["queued", "sending"]),
                    )
                )
            ).first()
        if row.status == bc.DONE and waiting is None:
            return
        await asyncio.sleep(0.2)


def _progress_figures(
    result: Run,
    calls: Calls,
    started: float,
    server,
    admin: int,
    message_id: int,
    end: dt.datetime,
) -> None:
    starts = [at for at, _ in calls.edits]
    result.edits = len(starts)
    result.edit_times = [at - started for at in starts]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    result.edit_min_interval = min(gaps) if gaps else None
    if starts and calls.delivered:
        result.last_edit_after = starts[-1] - max(calls.delivered.values())
    for _, text in calls.edits:  # the first edit that gives an end
        estimate = _estimate(text, end)
        if estimate is not None:
            result.estimate_error = (estimate - end).total_seconds()
            break
    chat = server.world.bot_for_token(TOKEN).chats.get(admin)
    stored = chat.messages.get(message_id) if chat else None
    result.final_text = stored.message.get("text", "") if stored else ""


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    contacts, rate, latency, k = args.contacts, args.rate, args.latency_ms / 1000, args.concurrency
    say = (lambda *_a, **_k: None) if args.json else print
    out: dict[str, Any] = {
        "contacts": contacts,
        "configured_per_s": rate,
        "latency_ms": args.latency_ms,
        "concurrency": k,
        "runs": {},
    }
    say(f"A broadcast with 收到 to {contacts} contacts through the stand-in (Telegram's limits "
        f"on, every answer {args.latency_ms:g} ms late), the bot's scheduler and sender at "
        f"{rate:g}/s with {k} in flight; baseline: the same {contacts} as plain "
        "reminders\n")  # fmt: skip
    say(f"{'database':<11}{'run':<11}{'time':>8}{'first':>7}{'sustained':>11}{'of rate':>9}"
        f"{'overall':>9}{'429s':>6}{'lost':>6}{'twice':>6}{'edits':>7}{'min gap':>9}")  # fmt: skip
    databases = ["sqlite", *(["postgresql"] if args.postgres else [])]
    with tempfile.TemporaryDirectory() as tmp:
        for db in databases:
            runs = {}
            for name in ("broadcast", "reminders"):
                result = await run_once(name, db, Path(tmp), contacts, rate, latency, k)
                runs[name] = result
                edits = f"{result.edits:>7}" if name == "broadcast" else f"{'-':>7}"
                gap = result.edit_min_interval
                gap_text = f"{gap:>8.2f}s" if gap is not None else f"{'-':>9}"
                say(f"{db:<11}{name:<11}{result.seconds:>7.1f}s{result.first_delivery:>6.1f}s"
                    f"{result.sustained:>9.1f}/s{result.sustained / rate:>9.2f}"
                    f"{result.overall:>7.1f}/s{result.errors_429:>6}{result.lost:>6}"
                    f"{result.duplicated:>6}{edits}{gap_text}")  # fmt: skip
            broadcast, baseline = runs["broadcast"], runs["reminders"]
            overhead = broadcast.seconds / baseline.seconds if baseline.seconds else None
            out["runs"][db] = {
                **broadcast.to_json(rate),
                "baseline": baseline.to_json(rate),
                "time_ratio": round(overhead, 3) if overhead else None,
                "final_progress_text": broadcast.final_text,
            }
            say(f"{'':<11}broadcast / reminders: {overhead:.2f}× the time; the last progress "
                f"edit {broadcast.last_edit_after or 0:.1f} s after the last delivery; first "
                f"estimate of the end {broadcast.estimate_error or 0:+.1f} s off\n")  # fmt: skip
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0, help="the outbox's messages/s")
    parser.add_argument(
        "--latency-ms", type=float, default=200.0, help="the stand-in holds every answer this long"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight at once")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    asyncio.run(main(parser.parse_args()))
