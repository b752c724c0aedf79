"""How many updates a second does the whole bot handle, and what does each one cost?

    uv run python bench/updates.py [--contacts 200] [--seconds 10] [--warm 4]
                                   [--only echo,sqlite,postgres] [--statements] [--json]

The Bot API stand-in (sandbox/) runs in this process with CONTACTS simulated people, each
bound to a unit of the sample ledger and writing a task of their own. They answer at once and
over and over, as a closed loop: send a progress text, wait for the bot's reply, press the
reply's button, wait for the bot to answer the press, send the next text … (a text answer and
a button press, half and half). People act through the stand-in's user API over HTTP
(sandbox/client.py) and see the bot's answers the moment the stand-in has them.

Against this load, each in a process of its own polling its own bot token:
  - echo: a bare aiogram echo bot (the baseline): it sends each text back with one inline
    button and answers each press; nothing else.
  - sqlite, postgres: the real bot (`bot.runner.run`, as `taizhang run`): the durable inbox
    (stored before acknowledged, marked handled in the handler's commit), the middlewares, a
    database session per update, dialog state in the database. SQLite is a file in a
    temporary directory; PostgreSQL a fresh database `taizhang_bench_<random>` on
    127.0.0.1:5432, created from `test` and dropped at the end. Texts go to the task's
    progress answer; the button is the reply's "Done", which shows the task's card.
Each database is migrated and loaded with the sample ledger, and the people bound, through
the services before its bot starts; each person's dialog starts in "writing" on their task.
The bot's clock stands on a Monday evening (no reminder is due), and runs.

After WARM seconds of load, the bot's own counters are read, and again SECONDS later: updates
handled per second in that window, while every person kept an answer in flight. The real
bot's process counts, in the benchmark only (event listeners on its engine and pool, a
middleware on its Bot API session), the SQL statements, commits, connections taken from the
pool (each pinged first on PostgreSQL) and Bot API calls made while handling each kind of
update, and those of the inbox around them (storing a batch, finding what is due,
getUpdates), amortised per handled update. At the end the bot stops and every text it said it
saved is looked for in the database.

Also printed: the CPU the bot's process and this one (the stand-in and the people) used per
second of the window, the bot's CPU time per handled update (steadier than the rate when the
machine is shared), a person's mean wait for an answer, and how many of the window's updates
were texts and presses (people tend to move in waves, so the mix is not always half and half;
the per-update costs are by kind either way).

--statements also lists the statements per update, grouped by their SQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/sandbox.py would otherwise shadow the sandbox package

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_USER = 71_000_001
STAFF_USER = 71_000_000
# Monday 2026-03-09, 20:00 in Shanghai: a working day's evening, when no reminder is due.
CLOCK_START = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)
STEP_TIMEOUT = 120.0  # seconds a person waits for the bot before giving up
ECHO_PREFIX = "echo:"
KINDS = ("text", "button", "other")  # updates, by what they are
AROUND = ("intake", "worker", "polling", "background")  # work around the updates


class BenchError(Exception):
    """The benchmark itself could not go on."""


# ================================================================ inside the bot's process


class Counters:
    """Counts by the kind of work going on (a context variable), dumped on SIGUSR1."""

    def __init__(self, path: str) -> None:
        from contextvars import ContextVar

        self.path = Path(path)
        self.kind: ContextVar[str] = ContextVar("bench_kind", default="background")
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.statements: dict[str, Counter] = defaultdict(Counter)
        self.seq = 0

    def add(self, name: str, amount: float = 1) -> None:
        self.counts[self.kind.get()][name] += amount

    def dump(self) -> None:
        self.seq += 1
        snapshot = {
            "seq": self.seq,
            "t": time.monotonic(),
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "statements": {k: dict(v) for k, v in self.statements.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(snapshot))
        tmp.replace(self.path)

    def install_dump(self) -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.dump)
        self.dump()  # seq 1: ready

    def within(self, kind: str, work: Callable) -> Callable:
        """`work` (a coroutine function) with its statements and calls counted under `kind`."""

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            token = self.kind.set(kind)
            try:
                return await work(*args, **kwargs)
            finally:
                self.kind.reset(token)

        return wrapped

    def count_api_calls(self, bot: Any) -> None:
        from aiogram.client.session.middlewares.base import BaseRequestMiddleware

        counters = self

        class CountCalls(BaseRequestMiddleware):
            async def __call__(self, make_request, bot, method):
                counters.add("api_calls")
                counters.add(f"api:{method.__api_method__}")
                return await make_request(bot, method)

        bot.session.middleware(CountCalls())


def update_kind(payload: dict[str, Any]) -> str:
    message = payload.get("message")
    if isinstance(message, dict) and message.get("text") and message["text"][:1] != "/":
        return "text"
    if "callback_query" in payload:
        return "button"
    return "other"


@functools.lru_cache(maxsize=1024)  # the same few statements over and over: shaped once
def _sql_shape(statement: str) -> str:
    """A statement without its values and column lists, to group like with like."""
    text = " ".join(statement.split())
    text = re.sub(r"SELECT .*? FROM", "SELECT … FROM", text)
    text = re.sub(r"\(\$?\??[\w$?, ]*\)", "(…)", text)
    text = re.sub(r"\$\d+|\?", "?", text)
    return text[:150]


def serve_bot(counters_path: str) -> None:
    """The real bot, as `taizhang run` starts it, with counters around it."""
    from sqlalchemy import event

    import bot.app as app_module
    import bot.inbox as inbox_module
    import bot.middlewares as middlewares_module
    import bot.runner as runner_module
    from bot.settings import load_settings

    counters = Counters(counters_path)
    make_engine, build_bot = app_module.make_engine, app_module.build_bot

    def counted_engine(url: str, **options: Any):
        engine = make_engine(url, **options)
        sync = engine.sync_engine

        @event.listens_for(sync, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            counters.add("statements")
            counters.statements[counters.kind.get()][_sql_shape(statement)] += 1
            conn.info["bench_started"] = time.perf_counter()

        @event.listens_for(sync, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            started = conn.info.pop("bench_started", None)
            if started is not None:
                counters.add("db_ms", (time.perf_counter() - started) * 1000)

        @event.listens_for(sync, "commit")
        def commit(conn):
            counters.add("commits")

        @event.listens_for(sync, "rollback")
        def rollback(conn):
            counters.add("rollbacks")

        @event.listens_for(sync.pool, "checkout")
        def checkout(dbapi_connection, record, proxy):  # each one pinged first on PostgreSQL
            counters.add("checkouts")

        return engine

    def counted_bot(settings):
        bot = build_bot(settings)
        counters.count_api_calls(bot)
        return bot

    app_module.make_engine = counted_engine
    app_module.build_bot = counted_bot

    Inbox = inbox_module.Inbox
    handle = Inbox._handle

    async def counted_handle(self, update_id: int, payload: dict[str, Any]) -> None:
        token = counters.kind.set(update_kind(payload))
        try:
            await handle(self, update_id, payload)
        finally:
            counters.add("updates")
            counters.kind.reset(token)

    session_middleware = middlewares_module.DatabaseSession.__call__

    async def timed_session(self, handler, event, data):  # from the session's opening on
        started = time.perf_counter()
        try:
            return await session_middleware(self, handler, event, data)
        finally:
            counters.add("handle_ms", (time.perf_counter() - started) * 1000)

    Inbox._handle = counted_handle
    middlewares_module.DatabaseSession.__call__ = timed_session
    Inbox.receive = counters.within("intake", Inbox.receive)
    Inbox._start_due = counters.within("worker", Inbox._start_due)
    Inbox._housekeeping = counters.within("worker", Inbox._housekeeping)
    runner_module.poll = counters.within("polling", runner_module.poll)

    start = dt.datetime.fromisoformat(os.environ["BENCH_CLOCK_START"])
    began = time.monotonic()

    def clock() -> dt.datetime:
        return start + dt.timedelta(seconds=time.monotonic() - began)

    async def main() -> None:
        counters.install_dump()
        await runner_module.run(load_settings(), clock=clock)

    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        asyncio.run(main())
        return
    import cProfile

    with cProfile.Profile() as profile:
        asyncio.run(main())
    profile.dump_stats(profile_path)


def serve_echo(counters_path: str) -> None:
    """The baseline: a bare aiogram echo bot, long polling, nothing else."""
    from aiogram import BaseMiddleware, Bot, Dispatcher, F
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    counters = Counters(counters_path)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="✓", callback_data=f"{ECHO_PREFIX}ok")]]
    )
    dispatcher = Dispatcher()

    class CountUpdates(BaseMiddleware):
        async def __call__(self, handler, event, data):
            kind = "text" if event.message else "button" if event.callback_query else "other"
            token = counters.kind.set(kind)
            try:
                return await handler(event, data)
            finally:
                counters.add("updates")
                counters.kind.reset(token)

    dispatcher.update.outer_middleware(CountUpdates())

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "", reply_markup=markup)

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()

    async def main() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
        bot = Bot(os.environ["BOT_TOKEN"], session=session)
        counters.count_api_calls(bot)
        counters.install_dump()
        await dispatcher.start_polling(bot, handle_signals=True)

    asyncio.run(main())


# ================================================================ the benchmark's side


class Watcher:
    """Wakes the person whose chat changed (the stand-in's in-process listener): waiting
    costs nothing while others' chats change."""

    def __init__(self, world: Any) -> None:
        self.events: dict[tuple[int, int], asyncio.Event] = {}
        world.listeners.add(self._changed)

    def _changed(self, event: dict[str, Any]) -> None:
        if event.get("type") == "chat":
            waiting = self.events.get((event["bot_id"], event["chat_id"]))
            if waiting is not None:
                waiting.set()

    async def wait(self, key: tuple[int, int], found: Callable[[], Any], timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = self.events.setdefault(key, asyncio.Event())
        while True:
            changed.clear()
            result = found()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise BenchError(f"chat {key[1]}: no answer from the bot within {timeout:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)


def newest_button(log: Any, bot_id: int, prefix: str, after: int) -> tuple[int, str] | None:
    """The newest bot message after message `after` with a button whose data starts so."""
    if log is None:
        return None
    for message_id in reversed(log.messages):
        if message_id <= after:
            return None
        stored = log.messages[message_id]
        if stored.deleted or stored.sender_id != bot_id:
            continue
        for row in stored.message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if (button.get("callback_data") or "").startswith(prefix):
                    return message_id, button["callback_data"]
    return None


class Person:
    def __init__(self, user_id: int, unit_id: int = 0, task_id: int = 0) -> None:
        self.user_id = user_id
        self.unit_id = unit_id
        self.task_id = task_id
        self.saved: list[str] = []  # texts the bot answered
        self.steps = 0


class Load:
    """CONTACTS people in a closed loop against one bot token of the stand-in."""

    def __init__(self, server: Any, http: Any, watcher: Watcher, token: str, prefix: str):
        from sandbox.client import SandboxClient

        self.world = server.world
        self.bot = server.world.bot_for_token(token)
        self.client = SandboxClient(server.base_url, bot=self.bot.id, session=http)
        self.watcher = watcher
        self.prefix = prefix
        self.stop = asyncio.Event()
        self.step_seconds: list[float] = []

    async def person(self, person: Person, label: str) -> None:
        key = (self.bot.id, person.user_id)
        number = 0
        while not self.stop.is_set():
            number += 1
            text = f"〔{label}·{number}〕完成政策解读{number}项"
            started = time.perf_counter()
            sent = await self.client.send_text(person.user_id, text)

            def reply(after: int = sent["message_id"]) -> Any:
                log = self.bot.chats.get(person.user_id)
                return newest_button(log, self.bot.id, self.prefix, after)

            message_id, data = await self.watcher.wait(key, reply, STEP_TIMEOUT)
            person.saved.append(text)
            person.steps += 1
            self.step_seconds.append(time.perf_counter() - started)
            if self.stop.is_set():
                return
            started = time.perf_counter()
            pressed = await self.client.press_button(
                person.user_id, data=data, message_id=message_id
            )
            query = self.bot.callback_queries[pressed["callback_query_id"]]
            await self.watcher.wait(key, lambda q=query: q.answer is not None, STEP_TIMEOUT)
            person.steps += 1
            self.step_seconds.append(time.perf_counter() - started)


class Process:
    """One bot in a process of its own, with its counters file."""

    def __init__(self, role: str, env: dict[str, str], workdir: Path) -> None:
        self.role = role  # echo, sqlite or postgres
        self.counters = workdir / f"{role}-counters.json"
        self.log_path = workdir / f"{role}.log"
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--role",
                    "echo" if self.role == "echo" else "bot",
                ],
                cwd=ROOT,
                env={**self.env, "BENCH_COUNTERS": str(self.counters)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def snapshot(self, timeout: float = 20.0) -> dict[str, Any]:
        """The bot's counters as they are now."""
        before = self._read()["seq"] if self.counters.exists() else 0
        os.kill(self.proc.pid, signal.SIGUSR1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.counters.exists():
                data = self._read()
                if data["seq"] > before:
                    data["cpu"] = self.cpu_seconds()
                    return data
            if self.proc.poll() is not None:
                raise BenchError(f"the {self.role} bot exited:\n{self.log_tail()}")
            if loop.time() > deadline:
                raise BenchError(f"the {self.role} bot did not report its counters")
            await asyncio.sleep(0.01)

    def _read(self) -> dict[str, Any]:
        return json.loads(self.counters.read_text())

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, and wait for the bot to finish the updates in hand and exit; returns its
        exit code. Waited for in a thread: the stand-in that answers the bot's last calls runs
        on this event loop (waiting here froze it, and the bot's replies in flight were cut
        off when it gave up waiting and closed its HTTP session)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            return await asyncio.to_thread(self.proc.wait)


class Database:
    """A fresh database for one run: a SQLite file, or a PostgreSQL database (dropped)."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.name = f"taizhang_bench_{secrets.token_hex(4)}"
        if kind == "sqlite":
            self.url = f"sqlite+aiosqlite:///{(workdir / 'bench.db').as_posix()}"
        else:
            self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"
        self.created = False
        self.engine: Any = None
        self.sessions: Any = None

    async def _admin(self, statement: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def create(self) -> None:
        from storage.db import make_engine, make_session_factory
        from storage.migrate import upgrade

        if self.kind == "postgres":
            try:
                await self._admin(f'CREATE DATABASE "{self.name}"')
            except OSError as error:
                raise BenchError(f"PostgreSQL is not reachable at {PG_ADMIN}: {error}") from None
            self.created = True
        await asyncio.to_thread(upgrade, self.url)
        self.engine = make_engine(self.url)
        self.sessions = make_session_factory(self.engine)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        if self.created:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def prepare(db: Database, contacts: int, bot_id: int) -> tuple[int, list[Person]]:
    """The sample ledger, CONTACTS people bound to its units (each on a task of their own,
    spread over the units), each one's dialog waiting for that task's progress text."""
    from aiogram.fsm.storage.base import StorageKey
    from sqlmodel import select

    from bot.fsm import DatabaseStorage
    from handlers.report import Report
    from storage.models import Contact, Unit
    from storage.services.reporting import overview
    from storage.services.samples import load_sample_ledger
    from storage.services.staff import sync_configured

    async with db.sessions() as session:
        today = CLOCK_START.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        sample = await load_sample_ledger(session, today)
        await sync_configured(session, [STAFF_USER])
        units = (await session.exec(select(Unit).order_by(Unit.id))).all()
        tasks = {
            u.id: [line.task_id for line in (await overview(session, sample.round_id, u.id)).lines]
            for u in units
        }
        slots: list[tuple[int, int]] = []
        depth = 0
        while len(slots) < contacts:
            row = [(u, t[depth]) for u, t in tasks.items() if depth < len(t)]
            if not row:
                raise BenchError(f"the sample ledger has fewer than {contacts} unit tasks")
            slots.extend(row)
            depth += 1
        people = []
        for number, (unit_id, task_id) in enumerate(slots[:contacts]):
            user_id = FIRST_USER + number
            session.add(
                Contact(
                    unit_id=unit_id,
                    telegram_user_id=user_id,
                    chat_id=user_id,
                    name=f"联系人{number + 1:03d}",
                )
            )
            people.append(Person(user_id, unit_id, task_id))
        await session.commit()
    storage = DatabaseStorage(db.sessions)
    for person in people:
        key = StorageKey(bot_id=bot_id, chat_id=person.user_id, user_id=person.user_id)
        await storage.set_state(key, Report.writing)
        data = {"unit": person.unit_id, "round": sample.round_id, "task": person.task_id}
        await storage.set_data(key, {**data, "seen": 0})
    return sample.round_id, people


async def stored_check(db: Database, round_id: int, people: list[Person]) -> dict[str, int]:
    """Every text the bot said it saved must be in the task's answer, once."""
    from sqlmodel import select

    from storage.models import ProgressEntry

    async with db.sessions() as session:
        entries = (
            await session.exec(select(ProgressEntry).where(ProgressEntry.round_id == round_id))
        ).all()
    stored = {(e.unit_id, e.task_id): e.text.split("\n") for e in entries}
    saved = found = twice = 0
    for person in people:
        lines = Counter(stored.get((person.unit_id, person.task_id), []))
        for text in person.saved:
            saved += 1
            found += lines[text] >= 1
            twice += lines[text] > 1
    return {"saved": saved, "found": found, "lost": saved - found, "stored_twice": twice}


def difference(before: dict[str, Any], after: dict[str, Any], key: str) -> dict[str, Counter]:
    result = {}
    for kind, values in after[key].items():
        old = before[key].get(kind, {})
        result[kind] = Counter({name: value - old.get(name, 0) for name, value in values.items()})
    return result


def per_update(counts: dict[str, Counter], statements: dict[str, Counter]) -> dict[str, Any]:
    """What each kind of update cost, and what the work around them cost per update."""
    handled = sum(counts.get(kind, Counter())["updates"] for kind in KINDS)
    figures: dict[str, Any] = {}

    def row(values: Counter, per: float) -> dict[str, float]:
        per = per or 1
        return {
            "statements": round(values["statements"] / per, 2),
            "commits": round(values["commits"] / per, 2),
            "checkouts": round(values["checkouts"] / per, 2),
            "rollbacks": round(values["rollbacks"] / per, 2),
            "api_calls": round(values["api_calls"] / per, 2),
            "db_ms": round(values["db_ms"] / per, 2),
            "handle_ms": round(values["handle_ms"] / per, 2),
            "api": {
                name[4:]: round(value / per, 2)
                for name, value in sorted(values.items())
                if name.startswith("api:") and value
            },
        }

    for kind in KINDS:
        values = counts.get(kind, Counter())
        if values["updates"]:
            figures[kind] = {"updates": values["updates"], **row(values, values["updates"])}
    around = Counter()
    for kind in AROUND:
        around.update(counts.get(kind, Counter()))
        figures[kind] = row(counts.get(kind, Counter()), handled)
    everything = Counter()
    for values in counts.values():
        everything.update(values)
    figures["all"] = {"updates": handled, **row(everything, handled)}
    figures["statements_by_sql"] = {
        kind: {
            sql: round(n / (counts.get(kind, Counter())["updates"] or handled or 1), 2)
            for sql, n in statements[kind].most_common()
            if n
        }
        for kind in statements
    }
    return figures


async def measure(
    role: str,
    env: dict[str, str],
    token: str,
    people: list[Person],
    server: Any,
    http: Any,
    watcher: Watcher,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[dict[str, Any], Process]:
    """Start the bot, load it, read its counters WARM and WARM + SECONDS into the load."""
    bot_state = server.world.bot_for_token(token)
    process = Process(role, env, workdir)
    process.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    while bot_state.get_updates_started == 0:
        if process.proc.poll() is not None:
            raise BenchError(f"the {role} bot exited at start-up:\n{process.log_tail()}")
        if loop.time() - started > 90:
            raise BenchError(f"the {role} bot did not poll within 90 s")
        await asyncio.sleep(0.05)
    start_seconds = loop.time() - started
    prefix = ECHO_PREFIX if role == "echo" else "tk:d:"
    load = Load(server, http, watcher, token, prefix)
    runs = [
        asyncio.create_task(load.person(p, f"{role[0].upper()}{i + 1:03d}"))
        for i, p in enumerate(people)
    ]
    try:
        # Until everyone has been through one text and one press (and at least WARM s): from
        # then on each text's reply also takes the buttons off the card before it.
        await asyncio.sleep(args.warm)
        while min(p.steps for p in people) < 2:
            for run in runs:
                if run.done():
                    raise run.exception() or BenchError("a person stopped")
            if loop.time() - started > args.warm + 300:
                raise BenchError(f"the {role} bot did not answer everyone within 300 s")
            await asyncio.sleep(0.05)
        warmed = loop.time() - started - start_seconds
        steps_before = sum(p.steps for p in people)
        cpu_before = time.process_time()
        before = await process.snapshot()
        await asyncio.sleep(args.seconds)
        after = await process.snapshot()
        cpu_after = time.process_time()
        steps_after = sum(p.steps for p in people)
        for run in runs:
            if run.done() and run.exception():
                raise run.exception()
    finally:
        load.stop.set()
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
    window = after["t"] - before["t"]
    counts = difference(before, after, "counts")
    handled = sum(counts.get(kind, Counter())["updates"] for kind in KINDS)
    result = {
        "updates_per_second": round(handled / window, 1),
        "updates": handled,
        "window_seconds": round(window, 2),
        "answers_per_second": round((steps_after - steps_before) / window, 1),
        "bot_cpu": round((after["cpu"] - before["cpu"]) / window, 2),
        "bot_cpu_ms_per_update": round(1000 * (after["cpu"] - before["cpu"]) / max(1, handled), 1),
        "load_cpu": round((cpu_after - cpu_before) / window, 2),
        "start_seconds": round(start_seconds, 1),
        "warm_seconds": round(warmed, 1),
        "mean_step_seconds": round(sum(load.step_seconds) / max(1, len(load.step_seconds)), 3),
        "mix": {kind: counts.get(kind, Counter())["updates"] for kind in KINDS},
        "per_update": per_update(counts, difference(before, after, "statements")),
    }
    return result, process


def bot_env(token: str, base_url: str, database_url: str, workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WEBHOOK__", "SEND__", "UPDATES__", "WEB__", "REDIS", "LOG__"))
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("BENCH_PROFILE", None)
    env.update(
        BOT_TOKEN=token,
        TELEGRAM_API_BASE=base_url,
        DATABASE_URL=database_url,
        DATA_DIR=str(workdir / "data"),
        STAFF_IDS=str(STAFF_USER),
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
        BENCH_CLOCK_START=CLOCK_START.isoformat(),
    )
    return env


def make_token(number: int) -> str:
    return f"{780_000_000 + number}:AA{secrets.token_urlsafe(25)[:33]}"


async def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import aiohttp

    from sandbox.server import SandboxServer

    server = SandboxServer("127.0.0.1", 0, bot_username="taizhang_bench_bot", call_log_size=10)
    await server.start()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    watcher = Watcher(server.world)
    results: dict[str, Any] = {"contacts": args.contacts, "seconds": args.seconds}
    try:
        for number in range(args.contacts):
            server.world.add_user(
                FIRST_USER + number,
                first_name=f"联系人{number + 1:03d}",
                language_code="zh-hans",
                started=True,
            )
        for number, role in enumerate(args.only):
            token = make_token(number + 1)
            server.register_bot(token)
            bot_id = int(token.split(":")[0])
            if role == "echo":
                people = [Person(FIRST_USER + n) for n in range(args.contacts)]
                env = bot_env(token, server.base_url, "", workdir)
                result, process = await measure(
                    role, env, token, people, server, http, watcher, args, workdir
                )
                await process.stop()
                results[role] = result
                continue
            db = Database(role, workdir)
            try:
                await db.create()
                round_id, people = await prepare(db, args.contacts, bot_id)
                env = bot_env(token, server.base_url, db.url, workdir)
                if args.profile:
                    env["BENCH_PROFILE"] = str(Path(args.profile).resolve() / f"{role}.prof")
                result, process = await measure(
                    role, env, token, people, server, http, watcher, args, workdir
                )
                await process.stop()
                result["stored"] = await stored_check(db, round_id, people)
                tracebacks = process.log_path.read_text(errors="replace").count("Traceback")
                result["bot_tracebacks"] = tracebacks
                results[role] = result
            finally:
                await db.close()
    finally:
        await http.close()
        await server.stop()
    echo = results.get("echo", {}).get("updates_per_second")
    for role in ("sqlite", "postgres"):
        if role in results and echo:
            results[role]["ratio"] = round(results[role]["updates_per_second"] / echo, 3)
    return results


# ================================================================ output


def print_report(results: dict[str, Any], statements: bool) -> None:
    names = {
        "echo": "aiogram echo bot",
        "sqlite": "taizhang, SQLite",
        "postgres": "taizhang, PostgreSQL",
    }
    print(
        f"updates benchmark: {results['contacts']} contacts answering at once (a text, then "
        f"the reply's button, over and over), {results['seconds']:.0f} s measured"
    )
    print(
        f"{'':24}{'updates/s':>10}{'ratio':>8}{'bot CPU':>9}{'load CPU':>10}{'step s':>8}"
        f"{'texts':>7}{'presses':>9}{'CPU ms/update':>15}"
    )
    echo = results.get("echo", {}).get("updates_per_second")
    for role in ("echo", "sqlite", "postgres"):
        if role not in results:
            continue
        r = results[role]
        ratio = r["updates_per_second"] / echo if echo else float("nan")
        print(
            f"{names[role]:24}{r['updates_per_second']:10.1f}{ratio:8.2f}{r['bot_cpu']:9.2f}"
            f"{r['load_cpu']:10.2f}{r['mean_step_seconds']:8.2f}"
            f"{r['mix']['text']:7}{r['mix']['button']:9}{r['bot_cpu_ms_per_update']:15.1f}"
        )
    for role in ("sqlite", "postgres"):
        if role not in results:
            continue
        r = results[role]
        figures = r["per_update"]
        print(f"\n{names[role]}: per handled update")
        print(
            f"{'':34}{'statements':>11}{'commits':>9}{'checkouts':>10}{'API calls':>11}"
            f"{'DB ms':>8}{'wall ms':>9}"
        )
        labels = {
            "text": "a text answer",
            "button": "a button press",
            "other": "other updates",
            "intake": "  storing batches (per update)",
            "worker": "  finding due updates (per update)",
            "polling": "  getUpdates (per update)",
            "background": "  scheduler, sender (per update)",
            "all": "all, per update",
        }
        for kind, label in labels.items():
            if kind not in figures:
                continue
            f = figures[kind]
            print(
                f"{label:34}{f['statements']:11.2f}{f['commits']:9.2f}{f['checkouts']:10.2f}"
                f"{f['api_calls']:11.2f}"
                f"{f['db_ms']:8.2f}{f['handle_ms'] if kind in KINDS else 0:9.1f}"
            )
            if kind in KINDS and f["api"]:
                calls = ", ".join(f"{name} {n:g}" for name, n in f["api"].items())
                print(f"{'':36}Bot API: {calls}")
        stored = r["stored"]
        print(
            f"texts the bot said it saved: {stored['saved']}, found stored {stored['found']}, "
            f"lost {stored['lost']}, stored twice {stored['stored_twice']}; "
            f"{r['bot_tracebacks']} tracebacks in its log"
        )
        if statements:
            for kind, rows in figures["statements_by_sql"].items():
                print(f"  {kind}:")
                for sql, n in rows.items():
                    print(f"    {n:6.2f}  {sql}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per bot (10)")
    parser.add_argument("--warm", type=float, default=4.0, help="load before measuring (4)")
    parser.add_argument(
        "--only", default="echo,sqlite,postgres", help="which bots, in order (all three)"
    )
    parser.add_argument("--statements", action="store_true", help="list the SQL per update")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", help="keep the bots' logs and the SQLite file in this folder")
    parser.add_argument("--profile", help="cProfile the real bots into this folder")
    parser.add_argument("--role", choices=("bot", "echo"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - {"echo", "sqlite", "postgres"}
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        return await run_all(args, Path(args.keep))
    with tempfile.TemporaryDirectory(prefix="taizhang-bench-updates-") as workdir:
        return await run_all(args, Path(workdir))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "bot":
        serve_bot(os.environ["BENCH_COUNTERS"])
        return 0
    if args.role == "echo":
        serve_echo(os.environ["BENCH_COUNTERS"])
        return 0
    try:
        results = asyncio.run(amain(args))
    except BenchError as error:
        print(f"updates benchmark: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        print_report(results, args.statements)
    return 0


if __name__ == "__main__":
    sys.exit(main())
