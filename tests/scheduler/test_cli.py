"""`taizhang remind …` and `taizhang outbox …` through Typer's runner."""

from __future__ import annotations

import json

import pytest
import typer

from bot.cli_outbox import outbox_app, remind_app
from scheduler.clock import FakeClock
from storage.services.outbox import NewMessage, enqueue
from tests.cli_helpers import in_database, make_cli
from tests.scheduler.world import build_world, submit

app = typer.Typer()
app.add_typer(remind_app, name="remind")
app.add_typer(outbox_app, name="outbox")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: nothing here is dialect-specific (the queries run on both elsewhere)."""
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("STAFF_IDS", "")
    return make_cli(database_url, monkeypatch, tmp_path)


@pytest.fixture
def world(database_url):
    async def build(session):
        world = await build_world(session, due=FakeClock.at("2023-10-10 09:00").now().date(),
                                  chat_ids=[[101], [102], []])  # fmt: skip
        await submit(session, world, 1, FakeClock.at("2023-10-01 12:00").now())
        return world

    return in_database(database_url, build)


def test_preview_lists_day_by_day_who_is_reminded_and_why(cli, world) -> None:
    lines = json.loads(cli("remind", "preview", str(world.round_id), "--json").stdout)
    days = sorted({line["date"] for line in lines})
    assert days == [
        "2023-09-27", "2023-10-08", "2023-10-09", "2023-10-10", "2023-10-11",
        "2023-10-12", "2023-10-13", "2023-10-16", "2023-10-17", "2023-10-18",
    ]  # fmt: skip
    first_day = [line for line in lines if line["date"] == "2023-09-27"]
    assert [(line["unit"], line["step"], line["reachable"]) for line in first_day] == [
        ("单位1", "before-5", True),
        ("单位3", "before-5", False),  # no contact at all: shown, marked
    ]  # 单位2 submitted: not there
    (escalation,) = [line for line in lines if line["step"] == "escalation"]
    assert escalation["late_units"] == ["单位1", "单位3"]
    shown = cli("remind", "preview", "2023-10-10", "--from", "2023-10-08", "--to", "2023-10-09")
    assert "no reachable contact" in shown.stdout and "before-2" in shown.stdout
    assert "2023-09-27" not in shown.stdout


def test_preview_takes_policy_settings_from_the_command_line(cli, world) -> None:
    lines = json.loads(
        cli(
            "remind", "preview", str(world.round_id), "--json",
            "--before", "3", "--overdue-days", "1",
        ).stdout
    )  # fmt: skip
    assert sorted({(line["date"], line["step"]) for line in lines if line["unit"] == "单位1"}) == [
        ("2023-10-07", "before-3"),
        ("2023-10-10", "due"),
        ("2023-10-11", "overdue-1"),
    ]
    bad = cli("remind", "preview", str(world.round_id), "--office-hours", "9-6", ok=False)
    assert bad.exit_code == 2 and "09:00-18:00" in bad.output


def test_policy_is_set_per_plan_and_per_round(cli, world, tmp_path) -> None:
    shown = json.loads(cli("remind", "policy", "--plan", "test-plan", "--json").stdout)
    assert shown["own"] == {} and shown["effective"]["before"] == [5, 2, 1]
    cli("remind", "policy", "--plan", "test-plan", "--before", "3,1")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("overdue_days: 2\noffice_hours: 08:30-17:30\n", encoding="utf-8")
    args = ["--round", str(world.round_id), "--file", str(policy_file), "--json"]
    shown = json.loads(cli("remind", "policy", *args).stdout)
    assert shown["own"] == {"overdue_days": 2, "office_hours": "08:30-17:30"}
    assert shown["effective"]["before"] == [3, 1]  # from the plan
    assert shown["effective"]["overdue_days"] == 2  # from the round
    lines = json.loads(cli("remind", "preview", str(world.round_id), "--json").stdout)
    assert {line["step"] for line in lines if line["unit"] == "单位1"} == {
        "before-3", "before-1", "due", "overdue-1", "overdue-2",
    }  # fmt: skip
    cli("remind", "policy", "--round", str(world.round_id), "--reset")
    shown = json.loads(cli("remind", "policy", "--round", str(world.round_id), "--json").stdout)
    assert shown["own"] == {} and shown["effective"]["overdue_days"] == 5


def test_outbox_stats_and_list_show_what_failed_and_why(cli, database_url) -> None:
    async def fill(session):
        await enqueue(
            session,
            [NewMessage(f"m{n}", "reminder", 100 + n, {"text": "x"}) for n in range(3)],
        )
        from sqlalchemy import update

        from storage.models import OutboxMessage

        await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "m0")
            .values(status="failed", last_error="403 Forbidden: bot was blocked by the user")
        )

    in_database(database_url, fill)
    stats = json.loads(cli("outbox", "stats", "--json").stdout)
    assert stats["by_status"] == {"queued": 2, "sending": 0, "sent": 0, "failed": 1}
    assert stats["by_kind"] == {"reminder": {"queued": 2, "failed": 1}}
    (failed,) = json.loads(cli("outbox", "list", "--status", "failed", "--json").stdout)
    assert failed["last_error"] == "403 Forbidden: bot was blocked by the user"
    assert "blocked" in cli("outbox", "list", "--status", "failed").stdout
    assert "failed" in cli("outbox", "stats").stdout
    assert "1 failed messages queued again" in cli("outbox", "retry").stdout
    assert json.loads(cli("outbox", "stats", "--json").stdout)["by_status"]["failed"] == 0


def test_sweep_now_queues_what_is_due(cli, world) -> None:
    result = json.loads(cli("remind", "sweep", "--json").stdout)
    # the round is in 2023, so today nothing is due; the sweep still ran over it
    assert (result["rounds"], result["queued"]) == (1, 0)
