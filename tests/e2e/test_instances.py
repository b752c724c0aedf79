"""Several bot instances as processes on one PostgreSQL database; the leader killed by SIGKILL.

Each instance is the real `bot.runner.run` in a process of its own (tests/e2e/instance.py), in
webhook mode behind a small reverse proxy of the test's, with its own /metrics. They share the
test's clock: the reminder morning (2026-03-09 10:00 Shanghai), when the sample round's
5-working-days reminder is due, running at real speed, whatever the hour of the wall.

What the test proves, with two instances and with three:

1. One leader: the first instance leads (`taizhang_leader` 1) and sweeps once, while no contact
   is bound yet, so nothing is queued. The contacts are bound then, and the other instances
   started: each opens its lock connection and tries, none leads and none sweeps (their sweep
   count stays 0 and the outbox holds no reminder), where before every instance swept at start.
2. Takeover: the leader is killed with SIGKILL, holding nothing (it never had a reminder to
   send, so no call of its was in flight: docs/delivery.md's "at most K twice" cannot apply). A
   survivor reports leader within SCHEDULER__LEADER_EVERY plus a margin, and exactly one does.
3. None lost: the new leader's sweep, at once on taking over, queues the day's reminders the dead
   leader would have queued at its next sweep (5 minutes later).
4. Every reminder once: every contact's chat holds exactly one reminder, every reminder row
   ends `sent`, and there are as many rows as contacts; with three instances the two survivors
   send side by side from the one outbox.
5. The survivors answer people: a contact presses the reminder's "report now" button, and the
   update, through the proxy to a live instance, is answered with the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import select

from sandbox.client import button_texts
from tests.e2e.harness import SHANGHAI, _migrate_and_load
from tests.e2e.instance import MONOTONIC_VARIABLE, NOW_VARIABLE, REMINDER_MORNING
from tests.e2e.phone import is_reminder, screen

# Always the reminder morning, whatever TAIZHANG_TEST_NOW says: CI runs it once, not per moment.
pytestmark = pytest.mark.own_clock

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = 12
LEADER_EVERY = 2.0  # seconds between leadership tries, in this test
TAKEOVER_MARGIN = 6.0  # for a loaded machine: the try itself, the scrape, the scheduler's tick
START_TIMEOUT = 60.0  # an instance's start: importing aiogram on a busy two-core machine
WAIT_TIMEOUT = 30.0
SECRET = "instances-Secret_1"
HOOK_PATH = "/hook"
FIRST_USER = 61_000_001
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Instance:
    """One `python -m tests.e2e.instance` process and the ports it serves."""

    name: str
    env: dict[str, str]
    log_path: Path
    health_port: int
    webhook_port: int
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.instance"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        """SIGTERM, as an orchestrator stops it; SIGKILL if it does not end within 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def metrics(self, http: aiohttp.ClientSession) -> dict[str, float] | None:
        """`/metrics` as {sample name: value} (labels dropped: only unlabelled ones are read)."""
        try:
            url = f"http://127.0.0.1:{self.health_port}/metrics"
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                if response.status != 200:
                    return None
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError):
            return None
        samples = {}
        for line in body.splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    async def healthy(self, http: aiohttp.ClientSession) -> bool:
        try:
            url = f"http://127.0.0.1:{self.health_port}/healthz"
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


async def until(
    what: str,
    check: Callable[[], Awaitable[T]],
    instances: list[Instance],
    timeout: float = WAIT_TIMEOUT,
) -> T:
    """Poll `check` until it returns something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        for instance in instances:
            if instance.exited():
                raise AssertionError(f"{instance.name} exited:\n{instance.log()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {i.name}\n{i.log()[-1500:]}" for i in instances)
            raise AssertionError(f"no {what} within {timeout:.0f} s\n{logs}")
        await asyncio.sleep(0.05)


async def start_proxy(instances: list[Instance]) -> tuple[web.AppRunner, str]:
    """The reverse proxy in front of the instances: each update goes to a live one."""
    http = aiohttp.ClientSession()
    turn = 0

    async def forward(request: web.Request) -> web.Response:
        nonlocal turn
        body = await request.read()
        headers = {
            key: request.headers[key]
            for key in ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
            if key in request.headers
        }
        turn += 1
        for step in range(len(instances)):
            port = instances[(turn + step) % len(instances)].webhook_port
            with contextlib.suppress(aiohttp.ClientConnectionError):
                url = f"http://127.0.0.1:{port}{HOOK_PATH}"
                async with http.post(url, data=body, headers=headers) as answer:
                    return web.Response(status=answer.status, body=await answer.read())
        return web.Response(status=502)

    async def close_http(_: web.Application) -> None:
        await http.close()

    app = web.Application()
    app.router.add_post(HOOK_PATH, forward)
    app.on_cleanup.append(close_http)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}{HOOK_PATH}"


async def bind_contacts(sessions: Any, user_ids: list[int]) -> None:
    """One contact for each of the first units that answer for tasks, as an invite would."""
    from storage.models import Assignment, Unit
    from storage.services.samples import SamplePerson, bind_sample_people

    async with sessions() as session:
        units = (
            await session.exec(
                select(Unit.name)
                .where(Unit.id.in_(select(Assignment.unit_id)))  # type: ignore[union-attr]
                .order_by(Unit.id)
            )
        ).all()
        assert len(units) >= len(user_ids)
        people = [
            SamplePerson(user_id, f"联系人{n + 1}", unit)
            for n, (user_id, unit) in enumerate(zip(user_ids, units, strict=False))
        ]
        await bind_sample_people(session, people)
        await session.commit()


async def leader_connections(sessions: Any) -> int:
    from sqlalchemy import text

    from scheduler.leader import APPLICATION_NAME

    async with sessions() as session:
        query = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = :name"
        )
        connection = await session.connection()
        return (await connection.execute(query, {"name": APPLICATION_NAME})).scalar_one()


async def reminder_rows(sessions: Any) -> list[tuple[int, str]]:
    from storage.models import OutboxMessage

    async with sessions() as session:
        rows = await session.exec(
            select(OutboxMessage.chat_id, OutboxMessage.status).where(
                OutboxMessage.kind == "reminder"
            )
        )
        return list(rows.all())


@pytest.mark.postgres
@pytest.mark.parametrize("count", [2, 3])
async def test_the_leader_killed_another_takes_over_and_every_reminder_goes_once(
    count: int, sandbox, fresh_postgres_url: str, tmp_path: Path
) -> None:
    from storage.db import make_engine, make_session_factory

    # The test's clock: the reminder morning now, at real speed; the instances share it.
    anchor = time.monotonic()
    start = dt.datetime.fromisoformat(REMINDER_MORNING).replace(tzinfo=SHANGHAI)
    await _migrate_and_load(fresh_postgres_url, start.date())
    engine = make_engine(fresh_postgres_url)
    sessions = make_session_factory(engine)
    users = [
        await sandbox.client.create_user(
            f"联系人{n + 1}", user_id=FIRST_USER + n, language_code="zh-hans", started=True
        )
        for n in range(CONTACTS)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK__", "SEND__"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # every start would compile aiogram anew
    env.update(
        PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "taizhang-instances-pycache"),
        PYTHONUNBUFFERED="1",
        BOT_TOKEN=sandbox.token,
        TELEGRAM_API_BASE=sandbox.base_url,
        DATABASE_URL=fresh_postgres_url,
        DATA_DIR=str(tmp_path / "data"),
        STAFF_IDS="",
        REDIS_URL="",
        WEBHOOK__SECRET=SECRET,
        WEBHOOK__PATH=HOOK_PATH,
        SCHEDULER__LEADER_EVERY=str(LEADER_EVERY),
        **{NOW_VARIABLE: REMINDER_MORNING, MONOTONIC_VARIABLE: repr(anchor)},
    )
    instances = []
    for n in range(count):
        log_path = tmp_path / f"instance-{n + 1}.log"
        instances.append(
            Instance(f"instance-{n + 1}", dict(env), log_path, free_port(), free_port())
        )
    proxy, hook_url = await start_proxy(instances)
    for instance in instances:
        instance.env.update(
            WEBHOOK__URL=hook_url,
            WEBHOOK__LISTEN_PORT=str(instance.webhook_port),
            HEALTH__PORT=str(instance.health_port),
        )
    first, others = instances[0], instances[1:]
    http = aiohttp.ClientSession()
    try:
        # 1. The first instance alone leads, and its sweep at once finds no contact to remind.
        first.start()

        async def first_led_and_swept() -> bool:
            seen = await first.metrics(http)
            return (
                bool(seen)
                and seen.get("taizhang_leader") == 1
                and (seen.get("taizhang_reminder_sweep_seconds_count", 0) >= 1)
            )

        await until("first leader", first_led_and_swept, instances, START_TIMEOUT)
        phases = {"first leads": time.monotonic() - anchor}
        await bind_contacts(sessions, [user.id for user in users])
        for instance in others:
            instance.start()

        async def others_up() -> bool:
            for instance in others:
                if not await instance.healthy(http):  # its sender has run
                    return False
            return True

        await until("other instances up", others_up, instances, START_TIMEOUT)
        phases["others up"] = time.monotonic() - anchor
        for instance in others:
            seen = await instance.metrics(http)
            assert seen["taizhang_leader"] == 0, instance.name
            assert seen.get("taizhang_reminder_sweep_seconds_count", 0) == 0, instance.name
        assert (await first.metrics(http))["taizhang_leader"] == 1

        async def all_contending() -> bool:  # every instance's lock connection is open
            return await leader_connections(sessions) == count

        await until("every instance trying to lead", all_contending, instances)
        assert await reminder_rows(sessions) == []  # nobody swept since the contacts came

        # 2. The leader dies; a survivor takes over within an interval and a margin.
        first.kill()
        killed_at = time.monotonic()

        async def new_leader() -> Instance | None:
            for instance in others:
                seen = await instance.metrics(http)
                if seen and seen.get("taizhang_leader") == 1:
                    return instance
            return None

        leader = await until("new leader", new_leader, others, LEADER_EVERY + TAKEOVER_MARGIN)
        takeover = time.monotonic() - killed_at
        assert takeover <= LEADER_EVERY + TAKEOVER_MARGIN

        # 3-4. Its sweep queues every reminder; the survivors send each exactly once.
        ids = {user.id for user in users}

        async def all_sent() -> bool:
            rows = await reminder_rows(sessions)
            return len(rows) == CONTACTS and all(status == "sent" for _, status in rows)

        await until("every reminder sent", all_sent, others)
        phases["all sent"] = time.monotonic() - anchor
        rows = await reminder_rows(sessions)
        assert sorted(chat for chat, _ in rows) == sorted(ids)
        for user in users:
            reminders = [m for m in (await user.read_chat()).bot_messages if is_reminder(m)]
            assert len(reminders) == 1, (user.id, [m.get("text") for m in reminders])
        leaders = [i for i in others if (await i.metrics(http))["taizhang_leader"] == 1]
        assert leaders == [leader]  # and only that one
        assert leader.log().count("leader: this instance now runs") == 1
        assert first.log().count("leader: this instance now runs") == 1

        # 5. A survivor answers the reminder's button, through the proxy.
        person = users[0]
        person.looks_past = is_reminder
        reminder = next(m for m in (await person.read_chat()).bot_messages if is_reminder(m))
        await person.press(button_texts(reminder)[0], message_id=reminder["message_id"])
        await screen(person, "序号", timeout=15)
    finally:
        codes = {instance.name: instance.stop() for instance in others}
        first.kill()
        await http.close()
        await proxy.cleanup()
        await engine.dispose()
    # A graceful stop gives up leadership and exits cleanly.
    assert all(code == 0 for code in codes.values()), codes
    assert "gave up leadership" in leader.log()
    timings = ", ".join(f"{name} {at:.1f} s" for name, at in phases.items())
    print(f"{count} instances: takeover in {takeover:.1f} s; {timings}")
