"""`/healthz` and `/metrics` on HEALTH__LISTEN_HOST:HEALTH__PORT, in polling and webhook mode.

`/healthz` answers 200 with JSON when the database answers, Redis answers (when it is set) and
the outbox sender's job has run lately; 503 with the same JSON, naming what failed, when not.
`/metrics` is Prometheus's text format (scheduler/metrics.py), with the outbox's rows by
status read from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from scheduler import metrics
from storage.services.outbox import outbox_stats

log = logging.getLogger("taizhang.health")

CHECK_TIMEOUT = 3.0  # seconds each check may take before it counts as failed
SENDER_SILENT_AFTER = 30.0  # seconds without a sender round before it counts as stuck

Check = Callable[[], Awaitable[None]]


@dataclass
class Health:
    sessions: async_sessionmaker
    redis: Any = None  # a redis.asyncio client, when dialog state is kept in Redis
    sender_expected: bool = True  # False where no sender runs (e.g. `taizhang web` alone)

    async def database(self) -> None:
        async with self.sessions() as session:
            await (await session.connection()).execute(text("SELECT 1"))

    async def redis_ping(self) -> None:
        await self.redis.ping()

    async def sender(self) -> None:
        age = metrics.SENDER_HEARTBEAT.age()
        if age is None:
            raise RuntimeError("has not run yet")
        if age > SENDER_SILENT_AFTER:
            raise RuntimeError(f"silent for {age:.0f} s")

    def checks(self) -> dict[str, Check]:
        found: dict[str, Check] = {"database": self.database}
        if self.redis is not None:
            found["redis"] = self.redis_ping
        if self.sender_expected:
            found["sender"] = self.sender
        return found


async def _run_check(check: Check) -> dict[str, Any]:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as error:  # any failure is the answer, not a crash of the endpoint
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    return {"ok": True}


def build_health_app(health: Health) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        names = list(health.checks())
        results = await asyncio.gather(*(_run_check(c) for c in health.checks().values()))
        checks = dict(zip(names, results, strict=True))
        ok = all(result["ok"] for result in checks.values())
        body = {"status": "ok" if ok else "failing", "checks": checks}
        return web.json_response(body, status=200 if ok else 503)

    async def metrics_page(_: web.Request) -> web.Response:
        try:
            async with health.sessions() as session:
                stats = await asyncio.wait_for(outbox_stats(session), CHECK_TIMEOUT)
            for status, count in stats.by_status.items():
                metrics.OUTBOX_ROWS.labels(status).set(count)
        except Exception as error:  # the counters of the process are still worth serving
            log.warning("metrics: outbox counts unavailable: %s", error)
        return web.Response(
            body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app


async def start_health(health: Health, host: str, port: int) -> web.AppRunner:
    """Serve the two endpoints; the caller cleans the runner up."""
    runner = web.AppRunner(build_health_app(health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on http://%s:%s/healthz and /metrics", host, port)
    return runner
