"""How fast the outbox sends within Telegram's limits, and how the sweep scales.

    uv run python bench/send_pacing.py [--contacts 2000] [--rate 25] [--latency-ms 200]
        [--concurrency 8] [--baseline-contacts N] [--hung] [--no-sweep] [--postgres] [--json]

1. Pacing: one message to each of N contacts through the sandbox with Telegram's flood
   limits switched on (30 messages/s in all, 1/s per chat with a burst of 3) and every
   Bot API answer held back `--latency-ms` (Telegram's round trip is 100–300 ms). The outbox
   sender with `--concurrency` calls in flight: its sustained rate as a fraction of its
   configured rate (aim ≥ 0.9), the 429s it met (aim 0), the messages lost (must be 0) and
   sent twice; beside it, in the same run, the one-in-flight sender (concurrency 1, on
   `--baseline-contacts`, default all N) and a naive `asyncio.gather` over every
   sendMessage, which meets 429s and loses what they refused.
   `--hung`: also 200 messages with the first call hung until its 30 s time-out, at both
   concurrencies: the longest gap between two deliveries (how long the others waited).
2. The sweep: one reminder sweep over 1,000 and over 10,000 contacts, timed, with its SQL
   statements counted (SQLAlchemy's before_cursor_execute): the count must not grow with the
   number of contacts.

SQLite in a temporary directory by default; --postgres also runs the sweep on PostgreSQL
(127.0.0.1:5432, a temporary database).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.session.middlewares.base import BaseRequestMiddleware  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.exceptions import TelegramRetryAfter  # noqa: E402
from sqlalchemy import event  # noqa: E402

from sandbox.server import SandboxServer  # noqa: E402
from scheduler.clock import FakeClock  # noqa: E402
from scheduler.outbox import Sender, SenderOptions  # noqa: E402
from scheduler.reminders import sweep  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.services.outbox import NewMessage, enqueue  # noqa: E402

TOKEN = "424242:AAbenchmarkbenchmarkbenchmarkbench1"
FIRST_USER = 50_000_000
PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


# ---------------------------------------------------------------- the sandbox


async def start_sandbox(contacts: int, latency: float = 0.0) -> tuple[SandboxServer, list[int]]:
    """A stand-in with Telegram's limits on and N users who have opened the bot."""
    server = SandboxServer("127.0.0.1", 0, rate_limits=True, latency=latency)
    await server.start()
    server.register_bot(TOKEN)
    users = [FIRST_USER + n for n in range(contacts)]
    for user_id in users:
        server.world.add_user(user_id, first_name=f"联系人{user_id}", started=True)
    return server, users


def make_bot(server: SandboxServer) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(TOKEN, session=session)


def received(server: SandboxServer, users: list[int], tag: str) -> dict[int, int]:
    """How many messages carrying `tag` each user got."""
    bot = server.world.bot_for_token(TOKEN)
    counts = {}
    for user_id in users:
        chat = bot.chats.get(user_id)
        texts = [m.message.get("text", "") for m in chat.messages.values()] if chat else []
        counts[user_id] = sum(1 for text in texts if tag in text)
    return counts


class SendTimes(BaseRequestMiddleware):
    def __init__(self) -> None:
        self.times: list[float] = []
        self.delivered: list[tuple[float, int]] = []  # (answered at, chat)
        self.failed_chats: set[int] = set()  # chats a call to failed (time-out, 429, ...)

    async def __call__(self, make_request, bot, method):
        try:
            response = await make_request(bot, method)
        except Exception:
            self.failed_chats.add(getattr(method, "chat_id", 0))
            raise
        self.times.append(time.monotonic())  # answered: it went through
        self.delivered.append((self.times[-1], getattr(method, "chat_id", 0)))
        return response

    def longest_wait(self, started: float) -> float:
        """The longest time, from the start, that no message to a chat whose calls all
        went well arrived: how long one hung call held everybody else back."""
        others = sorted(at for at, chat in self.delivered if chat not in self.failed_chats)
        return max((b - a for a, b in itertools.pairwise([started, *others])), default=0.0)


@dataclass
class PacingResult:
    name: str
    contacts: int
    delivered: int
    duplicates: int
    lost: int
    rate_limited: int
    seconds: float
    sustained: float  # messages a second from the first to the last delivered
    longest_gap: float = 0.0  # the longest wait for the next delivery (see longest_wait)

    def row(self, rate: float | None) -> str:
        fraction = f"{self.sustained / rate:5.2f}" if rate else "    -"
        return (
            f"{self.name:<22}{self.delivered:>10}{self.lost:>7}{self.duplicates:>7}"
            f"{self.rate_limited:>7}{self.seconds:>9.1f}s{self.sustained:>10.1f}/s{fraction:>10}"
        )

    def to_json(self, rate: float | None) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "rate_per_s": round(self.sustained, 2),
            "rate_fraction": round(self.sustained / rate, 3) if rate else None,
            "errors_429": self.rate_limited,
            "lost": self.lost,
            "duplicated": self.duplicates,
            "seconds": round(self.seconds, 1),
            "longest_wait_s": round(self.longest_gap, 2),
        }


async def outbox_pacing(
    contacts: int,
    rate: float,
    workdir: Path,
    *,
    latency: float = 0.0,
    concurrency: int = 8,
    hung: bool = False,
) -> PacingResult:
    """The outbox sender sends one message to each of N contacts; with `hung`, the first
    call hangs until the client's 30 s time-out (the stand-in answers it never)."""
    server, users = await start_sandbox(contacts, latency)
    if hung:
        server.inject_fault("timeout", method="sendMessage", delay=3600)
    url = f"sqlite+aiosqlite:///{workdir / f'pacing-{uuid.uuid4().hex[:8]}.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    bot = make_bot(server)
    times = SendTimes()
    bot.session.middleware(times)
    try:
        async with sessions() as session:
            messages = [
                NewMessage(f"bench:{user}", "broadcast", user, {"text": f"outbox 提醒 {user}"})
                for user in users
            ]
            await enqueue(session, messages)
            await session.commit()
        options = SenderOptions(rate_per_second=rate, concurrency=concurrency)
        sender = Sender(sessions, bot, options)
        started = time.monotonic()
        report = await sender.drain(follow_retries=True)
        seconds = time.monotonic() - started
        counts = received(server, users, "outbox")
    finally:
        await bot.session.close()
        await engine.dispose()
        await server.stop()
    name = f"outbox, {concurrency} in flight" + (", 1 hung" if hung else "")
    result = _result(name, contacts, counts, report.rate_limited, seconds, times.times)
    result.longest_gap = times.longest_wait(started)
    return result


async def naive_gather(contacts: int, latency: float = 0.0) -> PacingResult:
    server, users = await start_sandbox(contacts, latency)
    bot = make_bot(server)
    times = SendTimes()
    bot.session.middleware(times)
    try:
        started = time.monotonic()
        answers = await asyncio.gather(
            *(bot.send_message(user, f"naive 提醒 {user}") for user in users),
            return_exceptions=True,
        )
        seconds = time.monotonic() - started
        counts = received(server, users, "naive")
    finally:
        await bot.session.close()
        await server.stop()
    flooded = sum(1 for answer in answers if isinstance(answer, TelegramRetryAfter))
    result = _result("naive asyncio.gather", contacts, counts, flooded, seconds, times.times)
    result.sustained = result.delivered / seconds  # what got through, over the whole burst
    return result


def _result(
    name: str,
    contacts: int,
    counts: dict[int, int],
    rate_limited: int,
    seconds: float,
    times: list[float],
) -> PacingResult:
    delivered = sum(1 for count in counts.values() if count)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    times = sorted(times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    sustained = (len(times) - 1) / span if span > 0 else float(len(times))
    return PacingResult(
        name, contacts, delivered, duplicates, contacts - delivered, rate_limited, seconds,
        sustained,
    )  # fmt: skip


# ---------------------------------------------------------------- the sweep


DUE = dt.date(2023, 10, 10)
TASKS = 10
CONTACTS_PER_UNIT = 5


async def build_ledger(sessions, contacts: int) -> None:
    """A plan of 10 tasks, every unit answering all of them, five contacts a unit."""
    from storage.models import (
        Assignment,
        Contact,
        Directory,
        Item,
        Plan,
        ProgressEntry,
        Round,
        Section,
        Submission,
        Task,
        Unit,
    )
    from storage.services.plans import round_deadline

    units = contacts // CONTACTS_PER_UNIT
    now = dt.datetime.now(dt.UTC)
    async with sessions() as session:
        connection = await session.connection()

        async def insert(model, rows: list[dict[str, Any]]) -> None:
            await connection.execute(model.__table__.insert(), rows)

        await insert(Directory, [{"id": 1, "key": "bench", "title": ""}])
        await insert(Plan, [{
            "id": 1, "key": "bench", "title": "台账", "subtitle": "", "year": 2023,
            "issuer": "", "intro": "", "layout": "division", "directory_id": 1,
            "directory_key": "bench", "timezone": "Asia/Shanghai", "created_at": now,
            "updated_at": now,
        }])  # fmt: skip
        await insert(Section, [{"id": 1, "plan_id": 1, "position": 0, "title": None}])
        await insert(Item, [{"id": 1, "plan_id": 1, "section_id": 1, "position": 0,
                             "title": "重点工作"}])  # fmt: skip
        await insert(Task, [{
            "id": t, "plan_id": 1, "item_id": 1, "number": t, "position": t, "name": "",
            "content": f"{t}.任务内容", "indicator": "", "responsibility": "各科室",
            "due_text": "2023年10月", "due_date": DUE, "due_kind": "date",
            "recurrence": None, "retired": False, "unresolved": [], "pending_groups": [],
        } for t in range(1, TASKS + 1)])  # fmt: skip
        await insert(Round, [{
            "id": 1, "plan_id": 1, "name": "2023年报送", "due_date": DUE,
            "deadline_at": round_deadline(DUE, "Asia/Shanghai"), "status": "open",
            "created_at": now,
        }])  # fmt: skip
        await insert(Unit, [{
            "id": u, "directory_id": 1, "name": f"单位{u}", "short_name": "", "kind": "section",
            "position": u, "active": True,
        } for u in range(1, units + 1)])  # fmt: skip
        await insert(Assignment, [{
            "task_id": t, "unit_id": u, "role": "responsible", "position": 0,
        } for u in range(1, units + 1) for t in range(1, TASKS + 1)])  # fmt: skip
        await insert(Contact, [{
            "unit_id": u, "telegram_user_id": u * 10 + c, "chat_id": u * 10 + c, "name": "",
            "phone": "", "language": None, "reachable": c != 4, "unreachable_reason": "",
            "active": True, "created_at": now,
        } for u in range(1, units + 1) for c in range(CONTACTS_PER_UNIT)])  # fmt: skip
        await insert(ProgressEntry, [{
            "round_id": 1, "unit_id": u, "task_id": t, "status": "done", "text": "已完成",
            "reason": "", "version": 1, "updated_at": now, "updated_by": "",
        } for u in range(1, units + 1) for t in (1, 2, 3)])  # fmt: skip
        await insert(Submission, [{
            "round_id": 1, "unit_id": u, "receipt_no": f"B{u}", "submitted_at": now,
            "on_time": True, "version": 1, "updated_at": now,
        } for u in range(1, units + 1, 10)])  # fmt: skip
        await session.commit()


@dataclass
class SweepResult:
    database: str
    contacts: int
    queued: int
    statements: int
    seconds: float
    again_statements: int
    again_seconds: float


async def time_sweep(url: str, contacts: int, database: str) -> SweepResult:
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        await build_ledger(sessions, contacts)
        now = FakeClock.at("2023-10-09 10:00").now()  # one working day before the deadline
        statements = 0

        def count(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        runs = []
        for _ in range(2):  # the second sweep finds everything queued already
            statements = 0
            started = time.perf_counter()
            async with sessions() as session:
                result = await sweep(session, now=now)
                await session.commit()
            runs.append((result.queued, statements, time.perf_counter() - started))
    finally:
        await engine.dispose()
    (queued, first_count, first_seconds), (_, again_count, again_seconds) = runs
    return SweepResult(
        database, contacts, queued, first_count, first_seconds, again_count, again_seconds
    )


async def sweeps(workdir: Path, postgres: bool) -> list[SweepResult]:
    results = []
    for contacts in (1_000, 10_000):
        url = f"sqlite+aiosqlite:///{workdir / f'sweep-{contacts}.db'}"
        results.append(await time_sweep(url, contacts, "sqlite"))
    if postgres:
        for contacts in (1_000, 10_000):
            async with temporary_postgres() as url:
                results.append(await time_sweep(url, contacts, "postgresql"))
    return results


class temporary_postgres:  # used as `async with temporary_postgres() as url`
    async def __aenter__(self) -> str:
        import asyncpg

        self.name = f"taizhang_bench_{uuid.uuid4().hex[:10]}"
        self.admin = await asyncpg.connect(PG_ADMIN.replace("+asyncpg", ""))
        await self.admin.execute(f'CREATE DATABASE "{self.name}"')
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"

    async def __aexit__(self, *exc_info: object) -> None:
        await self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        await self.admin.close()


# ---------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    contacts, rate, latency = args.contacts, args.rate, args.latency_ms / 1000
    say = (lambda *_a, **_k: None) if args.json else print
    out: dict[str, Any] = {
        "contacts": contacts,
        "configured_per_s": rate,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        say(f"1. {contacts} contacts through the sandbox, Telegram's limits on (30/s in all, "
            f"1/s a chat), every answer {args.latency_ms:g} ms late; outbox configured at "
            f"{rate:g}/s\n")  # fmt: skip
        say(f"{'':<22}{'delivered':>10}{'lost':>7}{'twice':>7}{'429s':>7}{'time':>10}"
            f"{'sustained':>12}{'of limit':>10}")  # fmt: skip
        naive = await naive_gather(contacts, latency)
        say(naive.row(None))
        paced = await outbox_pacing(
            contacts, rate, workdir, latency=latency, concurrency=args.concurrency
        )
        say(paced.row(rate))
        baseline = await outbox_pacing(
            args.baseline_contacts or contacts, rate, workdir, latency=latency, concurrency=1
        )
        say(baseline.row(rate))
        out.update(paced.to_json(rate))
        out["baseline"] = {"concurrency": 1, **baseline.to_json(rate)}
        out["speedup"] = round(paced.sustained / baseline.sustained, 2)
        out["naive"] = naive.to_json(None)
        say(f"\noutbox: {paced.sustained / rate:.2f} of the configured rate with "
            f"{args.concurrency} in flight ({paced.rate_limited} 429s, {paced.lost} lost, "
            f"{paced.duplicates} twice), {baseline.sustained / rate:.2f} with one in flight "
            f"({out['speedup']:.1f}×); naive: {naive.rate_limited} 429s, "
            f"{naive.lost} lost\n")  # fmt: skip
        if args.hung:
            say("   200 messages, the first call hung until its 30 s time-out:")
            out["hung"] = {}
            for concurrency in (args.concurrency, 1):
                result = await outbox_pacing(
                    200, rate, workdir, latency=latency, concurrency=concurrency, hung=True
                )
                say(f"   {concurrency} in flight: the others waited at most "
                    f"{result.longest_gap:.2f} s for the next delivery; "
                    f"{result.delivered} of 200 delivered, "
                    f"{result.lost} lost, {result.duplicates} twice")  # fmt: skip
                out["hung"][f"concurrency_{concurrency}"] = result.to_json(rate)
            say("")
        if not args.no_sweep:
            say("2. one reminder sweep (a reminder day: every late unit's reachable contacts)\n")
            say(f"{'database':<12}{'contacts':>10}{'queued':>8}{'statements':>12}{'time':>9}"
                f"{'again: statements':>19}{'time':>9}")  # fmt: skip
            out["sweeps"] = []
            for result in await sweeps(workdir, args.postgres):
                say(f"{result.database:<12}{result.contacts:>10}{result.queued:>8}"
                    f"{result.statements:>12}{result.seconds:>8.2f}s"
                    f"{result.again_statements:>19}{result.again_seconds:>8.2f}s")  # fmt: skip
                out["sweeps"].append(vars(result))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0, help="the outbox's messages/s")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="the stand-in holds every answer this long"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight at once")
    parser.add_argument(
        "--baseline-contacts", type=int, default=0, help="messages for the one-in-flight run"
    )
    parser.add_argument("--hung", action="store_true", help="also time one hung call")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep timings")
    parser.add_argument("--postgres", action="store_true", help="also sweep on PostgreSQL")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    asyncio.run(main(parser.parse_args()))
