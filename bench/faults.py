"""Is anything a contact sends lost when the bot is killed or its database fails?

    uv run python bench/faults.py [--contacts 50] [--messages 4] [--kills 5] [--db-faults 10]
                                  [--pairs 20] [--seed 1] [--sqlite] [--json] [--strict]

Sets up, as the office would (through the services): a fresh database (PostgreSQL on
127.0.0.1:5432, a temporary database `taizhang_faults_<random>` dropped at the end; --sqlite:
a file in a temporary directory), migrated, holding the sample ledger; the Bot API stand-in
in this process; N contacts of the sample's units (departments, townships, street offices),
each bound by opening an invite (`/start TOKEN`), and 2 x PAIRS more for the pairs.

Then the real bot runs as a subprocess (`python -m bot.cli run`, i.e. `taizhang run`),
pointed at the stand-in and the database, while:
  - every contact, through the stand-in as on a phone, sends /report, picks a task, presses
    "write progress" and sends MESSAGES progress messages, each a unique text, waiting for
    the bot's reply (or a while) between two;
  - the bot process is killed with SIGKILL KILLS times at random moments of the stream of
    messages, and started again each time;
  - the bot's PostgreSQL connections are cut DB_FAULTS times (pg_terminate_backend from the
    benchmark, aimed at a connection in the middle of a statement or transaction when one is
    found within a second), so the statements on them fail;
  - PAIRS pairs of contacts of one unit, both on the same not yet answered task, send their
    first answer at the same moment.
Navigation steps (/report, the task, "write progress") are repeated when the bot does not
answer, as a person would; a progress message is sent once and never again.

At the end it waits until the bot is quiet (no update pending at the stand-in and no change
to the stored answers for a few seconds), then compares every message sent with what is
stored: the ProgressEntry.text of that unit, round and task must contain each text exactly
once. Chat replies are not compared (reminders may arrive at any time; the bot runs on the
real clock). `kept` counts texts stored at least once, `duplicated` those stored more than
once, `lost` those not stored; the aim is lost = 0 and duplicated = 0, so kept/sent = 1.
There is no baseline to run: the ratio that matters is kept/sent, and the figures are split
into the single contacts and the pairs so a loss can be told apart by cause.

--strict: exit 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench/sandbox.py would otherwise shadow the sandbox package

import aiohttp  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from sandbox.client import (  # noqa: E402
    ChatView,
    SandboxClient,
    SandboxError,
    SimulatedUser,
    inline_buttons,
)
from sandbox.server import SandboxServer  # noqa: E402

TOKEN = "777000111:AAfaultsbenchfaultsbenchfaultsbench"
BOT_ID = int(TOKEN.split(":")[0])
STAFF_USER = 70_000_000
FIRST_USER = 70_000_001
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
BENCH_APPLICATION = "taizhang-faults-bench"  # our own connections, never cut
STEP_TIMEOUT = 15.0  # seconds a person waits for the bot before doing a step again
REPLY_TIMEOUT = 10.0  # seconds a person waits for "saved" before writing the next message
NAVIGATION_ATTEMPTS = 12
QUIET_SECONDS = 8.0  # no update pending and no answer changed for this long: the bot is done
PHRASES = (
    "在政府门户网站公开政策文件",
    "召开政务公开专题会议",
    "更新政务新媒体栏目",
    "完成政策解读材料",
    "办理依申请公开事项",
    "整理年度工作台账",
    "开展政府开放日活动",
    "核对公开目录信息",
)


class BenchError(Exception):
    """The benchmark itself could not go on (not a finding about the bot)."""


# ---------------------------------------------------------------- the database


class Database:
    """A fresh database for one run: PostgreSQL (created, dropped) or a SQLite file."""

    def __init__(self, sqlite: bool, workdir: Path) -> None:
        self.sqlite = sqlite
        self.name = f"taizhang_faults_{secrets.token_hex(4)}"
        if sqlite:
            self.url = f"sqlite+aiosqlite:///{(workdir / 'faults.db').as_posix()}"
        else:
            self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"
        self.engine: Any = None
        self.sessions: Any = None
        self._admin: Any = None  # asyncpg connection to the `postgres` database
        self.created = False

    @property
    def kind(self) -> str:
        return "SQLite" if self.sqlite else "PostgreSQL"

    async def create(self) -> None:
        from storage.db import make_engine, make_session_factory
        from storage.migrate import upgrade

        if not self.sqlite:
            import asyncpg

            self._admin = await asyncpg.connect(
                f"{PG_HOST}/postgres", server_settings={"application_name": BENCH_APPLICATION}
            )
            await self._admin.execute(f'CREATE DATABASE "{self.name}"')
            self.created = True
        await asyncio.to_thread(upgrade, self.url)
        if self.sqlite:
            self.engine = make_engine(self.url)
        else:
            from sqlalchemy.ext.asyncio import create_async_engine

            self.engine = create_async_engine(
                self.url,
                pool_pre_ping=True,
                connect_args={"server_settings": {"application_name": BENCH_APPLICATION}},
            )
        self.sessions = make_session_factory(self.engine)

    async def cut_bot_connections(self, hunt_seconds: float = 1.0) -> tuple[int, int]:
        """Terminate the bot's backends, preferably while one runs a statement or holds a
        transaction open. Returns (terminated, of which busy)."""
        query = (
            "SELECT pid, state FROM pg_stat_activity WHERE datname = $1 "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND coalesce(application_name, '') <> $2"
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + hunt_seconds
        while True:
            rows = await self._admin.fetch(query, self.name, BENCH_APPLICATION)
            busy = [r["pid"] for r in rows if r["state"] in ("active", "idle in transaction")]
            if busy or loop.time() >= deadline:
                break
            await asyncio.sleep(0.005)
        pids = busy or [r["pid"] for r in rows]
        terminated = 0
        for pid in pids:
            if await self._admin.fetchval("SELECT pg_terminate_backend($1)", pid):
                terminated += 1
        return terminated, len(busy)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        if self._admin is not None:
            if self.created:
                await self._admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await self._admin.close()


# ---------------------------------------------------------------- the bot process


class BotProcess:
    """`taizhang run` as a subprocess, killed and started again."""

    def __init__(self, env: dict[str, str], log_path: Path, client: SandboxClient) -> None:
        self.env = env
        self.log_path = log_path
        self.client = client
        self.proc: subprocess.Popen | None = None
        self.lock = asyncio.Lock()  # one kill or restart at a time
        self.starts = 0
        self.start_seconds: list[float] = []
        self.up_since: float | None = None  # when it began polling; None while down

    async def start(self, timeout: float = 60.0) -> None:
        """Start the bot and wait until it polls the stand-in."""
        self.up_since = None
        polls_before = await self._polls()
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {self.starts + 1} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # signals from the terminal reach only us
            )
        self.starts += 1
        started = time.monotonic()
        while await self._polls() <= polls_before:
            if self.proc.poll() is not None:
                raise BenchError(f"the bot exited at start-up:\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise BenchError(f"the bot did not poll within {timeout:.0f} s")
            await asyncio.sleep(0.05)
        self.start_seconds.append(time.monotonic() - started)
        self.up_since = time.monotonic()

    async def _polls(self) -> int:
        bots = await self.client.bots()
        bot = next((b for b in bots if b["id"] == BOT_ID), None)
        return bot["get_updates_started"] if bot else 0

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.up_since = None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


# ---------------------------------------------------------------- people


@dataclass
class Person:
    user: SimulatedUser
    unit_id: int
    unit_name: str
    task_id: int
    label: str  # C007, or P03a / P03b in a pair
    group: str  # "contacts" or "pairs"


@dataclass
class Sent:
    person: Person
    text: str
    at: float  # seconds since the stream began
    answered: bool = False


@dataclass
class Figures:
    kills: list[float] = field(default_factory=list)  # seconds since the stream began
    crashes: int = 0  # exits nobody asked for (restarted too)
    db_faults: list[float] = field(default_factory=list)
    backends_terminated: int = 0
    backends_busy: int = 0
    navigation_retries: int = 0


def find_button(view: ChatView, prefix: str, after: int) -> tuple[int, str] | None:
    """The newest bot message after message `after` with a button whose data starts so."""
    for message in reversed(view.bot_messages):
        if message["message_id"] <= after:
            break
        for button in inline_buttons(message):
            data = button.get("callback_data") or ""
            if data.startswith(prefix):
                return message["message_id"], data
    return None


def newest_id(view: ChatView) -> int:
    return view.messages[-1]["message_id"] if view.messages else 0


async def wait_for(
    user: SimulatedUser, predicate: Callable[[ChatView], bool], timeout: float
) -> ChatView | None:
    try:
        return await user.wait_until(predicate, timeout=timeout)
    except TimeoutError:
        return None


# ---------------------------------------------------------------- the run


class FaultBench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.workdir = workdir
        self.db = Database(args.sqlite, workdir)
        self.server = SandboxServer("127.0.0.1", 0, bot_username="taizhang_faults_bot")
        self.http: aiohttp.ClientSession | None = None
        self.client: SandboxClient | None = None
        self.bot: BotProcess | None = None
        self.round_id = 0
        self.people: list[Person] = []
        self.pairs: list[tuple[Person, Person]] = []
        self.sent: list[Sent] = []
        self.sent_changed = asyncio.Condition()
        self.figures = Figures()
        self.began = 0.0
        self.log_path = Path(args.log) if args.log else workdir / "bot.log"

    def clock(self) -> float:
        return time.monotonic() - self.began

    # ------------------------------------------------------------ set-up

    async def set_up(self) -> None:
        from storage.services.samples import load_sample_ledger

        await self.db.create()
        async with self.db.sessions() as session:
            sample = await load_sample_ledger(session, dt.date.today())
            await session.commit()
        self.round_id = sample.round_id
        await self.server.start()
        self.server.register_bot(TOKEN)
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.client = SandboxClient(self.server.base_url, session=self.http)
        await self.client.create_user("张主任", user_id=STAFF_USER, started=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("WEBHOOK__", "SEND__", "REDIS"))
        }
        # Bytecode caches outside the tree: with PYTHONDONTWRITEBYTECODE every restart would
        # compile aiogram anew (over 15 s of CPU), which no deployment does.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "taizhang-faults-pycache"),
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=self.server.base_url,
            DATABASE_URL=self.db.url,
            DATA_DIR=str(self.workdir / "data"),
            STAFF_IDS=str(STAFF_USER),
            REDIS_URL="",
            PYTHONUNBUFFERED="1",
        )
        self.bot = BotProcess(env, self.log_path, self.client)
        await self.bot.start()
        await self.make_people()

    async def make_people(self) -> None:
        """Contacts round-robin over the units, each on a task of its own from the first
        page of the unit's list; the pairs on tasks nobody else writes to."""
        from handlers.render import PAGE_SIZE
        from storage.models import Unit
        from storage.services.reporting import overview

        async with self.db.sessions() as session:
            units = (await session.exec(select(Unit).order_by(Unit.id))).all()
            free: dict[int, list[int]] = {}
            for unit in units:
                lines = (await overview(session, self.round_id, unit.id)).lines
                if lines:
                    free[unit.id] = [line.task_id for line in lines[:PAGE_SIZE]]
        names = {unit.id: unit.name for unit in units}
        unit_ids = list(free)
        if not unit_ids:
            raise BenchError("the sample ledger has no unit with tasks")
        slots = {unit_id: list(tasks) for unit_id, tasks in free.items()}

        def take(unit_id: int) -> int:
            # Past the first page's tasks, contacts share a task (their texts add up).
            return slots[unit_id].pop(0) if slots[unit_id] else self.rng.choice(free[unit_id])

        plan: list[tuple[str, str, int, int]] = []  # label, group, unit, task
        for index in range(self.args.contacts):
            unit_id = unit_ids[index % len(unit_ids)]
            plan.append((f"C{index + 1:03d}", "contacts", unit_id, take(unit_id)))
        pair_plan = []
        for index in range(self.args.pairs):
            unit_id = unit_ids[(self.args.contacts + index) % len(unit_ids)]
            task_id = take(unit_id)
            pair_plan.append(index)
            for side in "ab":
                plan.append((f"P{index + 1:02d}{side}", "pairs", unit_id, task_id))

        gate = asyncio.Semaphore(16)

        async def bind(number: int, label: str, group: str, unit_id: int, task_id: int):
            async with gate:
                user = await self.client.create_user(
                    f"联系人{label}",
                    user_id=FIRST_USER + number,
                    language_code="zh-hans" if number % 3 else "en",
                )
                await self.bind(user, unit_id)
                return Person(user, unit_id, names[unit_id], task_id, label, group)

        people = await asyncio.gather(*(bind(number, *row) for number, row in enumerate(plan)))
        self.people = [p for p in people if p.group == "contacts"]
        paired = [p for p in people if p.group == "pairs"]
        self.pairs = [(paired[2 * i], paired[2 * i + 1]) for i in pair_plan]

    async def bind(self, user: SimulatedUser, unit_id: int) -> None:
        """The person opens an invite link for the unit, until the bot has bound them."""
        from storage.models import Contact, Unit
        from storage.services.invites import create_invite

        for _ in range(5):
            async with self.db.sessions() as session:
                unit = await session.get(Unit, unit_id)
                invite = await create_invite(session, unit, uses=1)
                await session.commit()
            sent = await user.start(invite.token)
            await wait_for(
                user,
                lambda v, after=sent["message_id"]: any(
                    m["message_id"] > after for m in v.bot_messages
                ),
                STEP_TIMEOUT,
            )
            async with self.db.sessions() as session:
                bound = (
                    await session.exec(
                        select(Contact).where(
                            Contact.unit_id == unit_id, Contact.telegram_user_id == user.id
                        )
                    )
                ).first()
            if bound is not None:
                return
        raise BenchError(f"user {user.id} could not be bound to unit {unit_id}")

    # ------------------------------------------------------------ a person at the phone

    async def open_writing(self, person: Person) -> None:
        """/report, the task's button on the list, "write progress": until the bot is
        waiting for this task's progress text."""
        unit, task = person.unit_id, person.task_id
        open_prefix = f"tk:o:{unit}:{self.round_id}:{task}:"
        write_prefix = f"tk:w:{unit}:{self.round_id}:{task}:"
        user = person.user
        for attempt in range(NAVIGATION_ATTEMPTS):
            if attempt:
                self.figures.navigation_retries += 1
            asked = (await user.send("/report"))["message_id"]
            view = await wait_for(
                user,
                lambda v, asked=asked: find_button(v, open_prefix, asked) is not None,
                STEP_TIMEOUT,
            )
            if view is None:
                continue
            list_id, data = find_button(view, open_prefix, asked)
            if not await self.press(user, data, list_id):
                continue
            # The card replaces the list in place (or comes as a new message).
            view = await wait_for(
                user,
                lambda v, shown=list_id: find_button(v, write_prefix, shown - 1) is not None,
                STEP_TIMEOUT,
            )
            if view is None:
                continue
            card_id, data = find_button(view, write_prefix, list_id - 1)
            before = newest_id(view)
            if not await self.press(user, data, card_id):
                continue
            if await self.writing_on(person, before):
                return
        raise BenchError(f"{person.label} never got to writing task {task}")

    async def press(self, user: SimulatedUser, data: str, message_id: int) -> bool:
        try:
            await user.client.press_button(user.id, data=data, message_id=message_id)
        except SandboxError:  # the message changed meanwhile: look again
            return False
        return True

    async def writing_on(self, person: Person, after: int) -> bool:
        """Wait for the bot's answer to "write progress"; then its stored dialog state must
        say it is waiting for this task's text (a reminder may have come in between)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        while (remaining := deadline - loop.time()) > 0:
            view = await wait_for(
                person.user,
                lambda v, after=after: any(m["message_id"] > after for m in v.bot_messages),
                remaining,
            )
            if view is None:
                return False
            if await self.dialog_writes(person):
                return True
            after = newest_id(view)
        return False

    async def dialog_writes(self, person: Person) -> bool:
        from storage.models import DialogState

        uid = person.user.id
        async with self.db.sessions() as session:
            rows = (
                await session.exec(
                    select(DialogState).where(DialogState.key.like(f"{BOT_ID}:{uid}:{uid}:%"))
                )
            ).all()
        return any(
            "writing" in (row.state or "") and row.data.get("task") == person.task_id
            for row in rows
        )

    async def write(self, person: Person, number: int) -> None:
        phrase = PHRASES[number % len(PHRASES)]
        text = f"〔S{self.args.seed}·{person.label}·{number + 1}〕{phrase}{number + 2}项。"
        message = await person.user.send(text)
        record = Sent(person, text, self.clock())
        async with self.sent_changed:
            self.sent.append(record)
            self.sent_changed.notify_all()
        view = await wait_for(
            person.user,
            lambda v: any(m["message_id"] > message["message_id"] for m in v.bot_messages),
            REPLY_TIMEOUT,
        )
        record.answered = view is not None

    async def contact_reports(self, person: Person, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, self.args.stagger))
        await self.open_writing(person)
        for number in range(self.args.messages):
            await asyncio.sleep(rng.uniform(0.2, 2 * self.args.think - 0.2))
            await self.write(person, number)

    async def pair_reports(self, pair: tuple[Person, Person], rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, self.args.stagger))
        await asyncio.gather(*(self.open_writing(person) for person in pair))
        await asyncio.gather(*(self.write(person, 0) for person in pair))  # the same moment

    # ------------------------------------------------------------ the faults

    def fault_points(self, count: int) -> list[int]:
        """After how many sent messages each fault comes: random, within 5-90 % of them."""
        total = self.args.contacts * self.args.messages + 2 * self.args.pairs
        low, high = max(1, total // 20), max(2, total * 9 // 10)
        if count <= high - low:
            return sorted(self.rng.sample(range(low, high), count))
        return sorted(self.rng.choices(range(low, high), k=count))

    async def sent_reaches(self, count: int) -> None:
        async with self.sent_changed:
            await self.sent_changed.wait_for(lambda: len(self.sent) >= count)

    async def bot_up_for(self, seconds: float) -> None:
        """Until the bot has been polling for `seconds` since it last started: messages sent
        while it was down pile up, and a fault due meanwhile must not always strike the
        moment it is back."""
        while True:
            since = self.bot.up_since
            if since is None:
                await asyncio.sleep(0.05)
                continue
            remaining = since + seconds - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)
            if self.bot.up_since == since:
                return

    async def killer(self, points: list[int], rng: random.Random) -> None:
        for point in points:
            await self.sent_reaches(point)
            await self.bot_up_for(rng.uniform(0.3, 3.0))
            async with self.bot.lock:
                self.bot.kill()
                self.figures.kills.append(self.clock())
                await self.bot.start()

    async def db_cutter(self, points: list[int], rng: random.Random) -> None:
        for point in points:
            await self.sent_reaches(point)
            await self.bot_up_for(rng.uniform(0.3, 3.0))
            async with self.bot.lock:  # not while it restarts: there is no connection to cut
                terminated, busy = await self.db.cut_bot_connections()
            self.figures.db_faults.append(self.clock())
            self.figures.backends_terminated += terminated
            self.figures.backends_busy += busy

    async def watchdog(self) -> None:
        """A bot that exits on its own (not killed by us) is counted and started again."""
        while True:
            await asyncio.sleep(0.25)
            async with self.bot.lock:
                if not self.bot.alive():
                    self.figures.crashes += 1
                    await self.bot.start()

    # ------------------------------------------------------------ the end

    async def fingerprint(self) -> tuple[int, int]:
        from storage.models import ProgressEntry

        async with self.db.sessions() as session:
            row = (
                await session.exec(
                    select(func.count(), func.coalesce(func.sum(ProgressEntry.version), 0)).where(
                        ProgressEntry.round_id == self.round_id
                    )
                )
            ).one()
        return int(row[0]), int(row[1])

    async def settle(self) -> float:
        """Until nothing is pending at the stand-in and the answers stop changing."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.args.settle
        last, stable_since = None, loop.time()
        while loop.time() < deadline:
            bots = await self.client.bots()
            pending = next(b["pending_update_count"] for b in bots if b["id"] == BOT_ID)
            now_print = await self.fingerprint()
            if now_print != last:
                last, stable_since = now_print, loop.time()
            if pending == 0 and loop.time() - stable_since >= QUIET_SECONDS:
                return loop.time() - started
            await asyncio.sleep(0.5)
        raise BenchError(f"the bot was not quiet within {self.args.settle:.0f} s")

    async def stored_texts(self) -> dict[tuple[int, int], str]:
        from storage.models import ProgressEntry

        async with self.db.sessions() as session:
            entries = (
                await session.exec(
                    select(ProgressEntry).where(ProgressEntry.round_id == self.round_id)
                )
            ).all()
        return {(e.unit_id, e.task_id): e.text for e in entries}

    def nearest(self, moments: list[float], at: float) -> float | None:
        return min((round(m - at, 1) for m in moments), key=abs, default=None)

    async def compare(self) -> dict[str, Any]:
        stored = await self.stored_texts()
        result: dict[str, Any] = {}
        lost_examples = []
        totals = {"sent": 0, "kept": 0, "lost": 0, "duplicated": 0, "unanswered": 0}
        for group in ("contacts", "pairs"):
            counts = dict.fromkeys(totals, 0)
            for record in (s for s in self.sent if s.person.group == group):
                found = stored.get((record.person.unit_id, record.person.task_id), "")
                times = found.count(record.text)
                counts["sent"] += 1
                counts["kept"] += times >= 1
                counts["lost"] += times == 0
                counts["duplicated"] += times > 1
                counts["unanswered"] += not record.answered
                if times == 0 and len(lost_examples) < 10:
                    lost_examples.append(
                        {
                            "text": record.text,
                            "unit": record.person.unit_name,
                            "sent_at_s": round(record.at, 1),
                            "answered": record.answered,
                            "nearest_kill_s": self.nearest(self.figures.kills, record.at),
                            "nearest_db_fault_s": self.nearest(self.figures.db_faults, record.at),
                        }
                    )
            result[group] = counts
            for key in totals:
                totals[key] += counts[key]
        return {**totals, "by_group": result, "lost_examples": lost_examples}

    # ------------------------------------------------------------ all of it

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        await self.set_up()
        setup_seconds = time.monotonic() - started
        self.began = time.monotonic()
        kill_points = self.fault_points(self.args.kills)
        db_points = [] if self.db.sqlite else self.fault_points(self.args.db_faults)
        faults = [
            asyncio.create_task(self.killer(kill_points, random.Random(f"{self.args.seed}k"))),
            asyncio.create_task(self.db_cutter(db_points, random.Random(f"{self.args.seed}d"))),
            asyncio.create_task(self.watchdog()),
        ]
        people = [
            self.contact_reports(person, random.Random(f"{self.args.seed}-{person.label}"))
            for person in self.people
        ] + [
            self.pair_reports(pair, random.Random(f"{self.args.seed}-{pair[0].label}"))
            for pair in self.pairs
        ]
        everyone = asyncio.ensure_future(asyncio.gather(*people))
        running = {everyone, *faults}
        try:
            while not everyone.done():  # a failing fault task (the bot cannot start) ends it
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()
            # Faults still due (the stream ended early) come now, before settling.
            try:
                await asyncio.wait_for(asyncio.gather(*faults[:2]), 120)
            except TimeoutError:
                raise BenchError("the faults still due did not come within 120 s") from None
        finally:
            for task in (everyone, *faults):
                task.cancel()
            await asyncio.gather(everyone, *faults, return_exceptions=True)
        stream_seconds = self.clock()
        async with self.bot.lock:
            if not self.bot.alive():
                self.figures.crashes += 1
                await self.bot.start()
        settle_seconds = await self.settle()
        compared = await self.compare()
        errors = self.log_path.read_text(errors="replace").count("Traceback")
        figures = self.figures
        return {
            "sent": compared["sent"],
            "kept": compared["kept"],
            "lost": compared["lost"],
            "duplicated": compared["duplicated"],
            "kept_ratio": round(compared["kept"] / compared["sent"], 4) if compared["sent"] else 1,
            "kills": len(figures.kills),
            "kill_times_s": [round(t, 1) for t in figures.kills],
            "db_fault_times_s": [round(t, 1) for t in figures.db_faults],
            "crashes": figures.crashes,
            "db_faults": len(figures.db_faults),
            "db_backends_terminated": figures.backends_terminated,
            "db_backends_busy_when_cut": figures.backends_busy,
            "pairs": len(self.pairs),
            "contacts": len(self.people),
            "units": len({p.unit_id for p in self.people}),
            "messages_per_contact": self.args.messages,
            "unanswered": compared["unanswered"],
            "navigation_retries": figures.navigation_retries,
            "by_group": compared["by_group"],
            "lost_examples": compared["lost_examples"],
            "bot_tracebacks": errors,
            "bot_start_seconds": round(
                sum(self.bot.start_seconds) / len(self.bot.start_seconds), 2
            ),
            "database": self.db.kind,
            "seed": self.args.seed,
            "seconds": {
                "setup": round(setup_seconds, 1),
                "stream": round(stream_seconds, 1),
                "settle": round(settle_seconds, 1),
                "total": round(time.monotonic() - started, 1),
            },
        }

    async def close(self) -> None:
        if self.bot is not None:
            self.bot.stop()
        if self.client is not None:
            await self.client.close()
        if self.http is not None:
            await self.http.close()
        with contextlib.suppress(Exception):
            await self.server.stop()
        await self.db.close()


# ---------------------------------------------------------------- output


def print_report(result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    print(
        f"fault benchmark: {result['contacts']} contacts of {result['units']} units x "
        f"{result['messages_per_contact']} messages, {result['pairs']} pairs writing a first "
        f"answer at once; {result['database']}, seed {result['seed']}"
    )
    print(
        f"faults: {result['kills']} SIGKILLs of the bot (restart {result['bot_start_seconds']} s "
        f"on average), {result['db_faults']} cuts of its database connections "
        f"({result['db_backends_terminated']} backends, {result['db_backends_busy_when_cut']} "
        f"busy), {result['crashes']} exits on its own"
    )
    print(
        f"kills at {result['kill_times_s']} s, database cuts at {result['db_fault_times_s']} s "
        "into the stream"
    )
    print(f"{'':28}{'sent':>7}{'kept':>7}{'lost':>7}{'twice':>7}{'no reply':>10}")
    labels = {"contacts": "progress messages", "pairs": "first answers in pairs"}
    for group, counts in result["by_group"].items():
        print(
            f"{labels[group]:28}{counts['sent']:7}{counts['kept']:7}{counts['lost']:7}"
            f"{counts['duplicated']:7}{counts['unanswered']:10}"
        )
    print(
        f"{'all':28}{result['sent']:7}{result['kept']:7}{result['lost']:7}"
        f"{result['duplicated']:7}{result['unanswered']:10}"
    )
    print(f"kept / sent: {result['kept_ratio']:.4f} (aim 1.0000, with nothing stored twice)")
    for example in result["lost_examples"][:5]:
        print(
            f"  lost: {example['text']} ({example['unit']}, sent at {example['sent_at_s']} s, "
            f"nearest kill {example['nearest_kill_s']} s, "
            f"nearest database cut {example['nearest_db_fault_s']} s)"
        )
    print(
        f"time: set-up {seconds['setup']} s, stream {seconds['stream']} s, "
        f"settling {seconds['settle']} s, total {seconds['total']} s; "
        f"{result['bot_tracebacks']} tracebacks in the bot's log"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=50, help="single contacts (50)")
    parser.add_argument("--messages", type=int, default=4, help="progress messages each (4)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of the bot (5)")
    parser.add_argument(
        "--db-faults", type=int, default=10, help="cuts of the bot's PostgreSQL connections (10)"
    )
    parser.add_argument("--pairs", type=int, default=20, help="pairs racing a first answer (20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true", help="SQLite (no database cuts)")
    parser.add_argument(
        "--stagger", type=float, default=20.0, help="people begin within this many seconds"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds between a person's messages"
    )
    parser.add_argument(
        "--settle", type=float, default=180.0, help="seconds to wait for the bot to go quiet"
    )
    parser.add_argument("--log", help="keep the bot's output in this file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--strict", action="store_true", help="exit 1 if anything was lost")
    args = parser.parse_args(argv)
    if args.contacts < 1 or args.messages < 1 or min(args.kills, args.db_faults, args.pairs) < 0:
        parser.error("--contacts and --messages must be positive, the others not negative")
    return args


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="taizhang-faults-") as workdir:
        bench = FaultBench(args, Path(workdir))
        try:
            return await bench.run()
        finally:
            await bench.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = asyncio.run(amain(args))
    except BenchError as error:
        print(f"faults benchmark: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_report(result)
    if args.strict and (result["lost"] or result["duplicated"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
