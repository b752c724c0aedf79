"""/healthz says whether the database, Redis and the outbox sender are alive (503 naming what
is not); /metrics serves the process's counters and the outbox's rows by status."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.health import Health, build_health_app
from scheduler import metrics
from storage.services.outbox import enqueue


class DeadRedis:
    async def ping(self) -> None:
        raise ConnectionError("Connection refused")


@pytest.fixture
def heartbeat(monkeypatch):
    beat = metrics.Heartbeat()
    monkeypatch.setattr(metrics, "SENDER_HEARTBEAT", beat)
    return beat


async def _get(health: Health, path: str):
    async with TestClient(TestServer(build_health_app(health))) as client:
        response = await client.get(path)
        body = await (response.json() if path == "/healthz" else response.text())
        return response.status, body


async def test_healthy_when_the_database_answers_and_the_sender_runs(sessions, heartbeat):
    heartbeat.beat()
    status, body = await _get(Health(sessions), "/healthz")
    assert status == 200 and body["status"] == "ok"
    assert body["checks"] == {"database": {"ok": True}, "sender": {"ok": True}}


async def test_a_silent_sender_or_a_dead_redis_is_503_and_named(sessions, heartbeat):
    status, body = await _get(Health(sessions, DeadRedis()), "/healthz")
    assert status == 503 and body["status"] == "failing"
    assert body["checks"]["database"] == {"ok": True}
    assert "has not run yet" in body["checks"]["sender"]["error"]
    assert "Connection refused" in body["checks"]["redis"]["error"]
    heartbeat.beat()
    heartbeat.last -= 31  # the last round was 31 s ago
    status, body = await _get(Health(sessions), "/healthz")
    assert status == 503 and "silent for 31 s" in body["checks"]["sender"]["error"]


async def test_metrics_count_the_outbox_rows_by_status(sessions, heartbeat):
    async with sessions() as session:
        for n in range(3):
            await enqueue(session, dedupe_key=f"m{n}", kind="staff_notice", chat_id=n + 1,
                          payload={"text": "x"})  # fmt: skip
        await session.commit()
    status, text = await _get(Health(sessions), "/metrics")
    assert status == 200
    assert 'taizhang_outbox_messages{status="queued"} 3.0' in text
    assert "taizhang_telegram_429_total" in text and "taizhang_send_seconds_bucket" in text
