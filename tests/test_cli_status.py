"""`taizhang status ROUND` and `taizhang nudge ROUND`, on a database of their own."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from storage.services.reporting import Actor, append_text, submit
from tests.cli_helpers import in_database, make_cli
from tests.scheduler.world import build_world

DUE = dt.date(2023, 10, 10)
AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(database_url, monkeypatch, tmp_path):
    """单位1 submitted, 单位2 answered one task, 单位3 has nobody reachable."""
    invoke = make_cli(database_url, monkeypatch, tmp_path)

    async def build(session):
        world = await build_world(session, due=DUE, chat_ids=[[741], [742], [743]])
        for index in (0, 1):
            contact = world.contact(index)
            actor = Actor(world.unit_ids[index], contact.name, contact.id, at=AT)
            await append_text(session, actor, world.round_id, world.task_ids[0], "进展")
        first = world.contact(0)
        await submit(
            session, Actor(world.unit_ids[0], first.name, first.id, at=AT), world.round_id
        )
        world.contact(2).reachable = False
        return world

    return invoke, in_database(database_url, build)


def test_status_prints_each_unit_state_answers_submission_and_version(world):
    cli, built = world
    data = json.loads(cli("status", str(built.round_id), "--json").stdout)
    assert data["counts"] == {"on_time": 1, "late": 0, "partly": 1, "not_started": 1}
    assert [
        (u["unit"], u["state"], u["answered"], u["total"], u["version"]) for u in data["units"]
    ] == [
        ("单位1", "on_time", 1, 3, 1),
        ("单位2", "partly", 1, 3, 0),
        ("单位3", "not_started", 0, 3, 0),
    ]
    assert data["units"][0]["submitted_local"] == "2023-09-25 10:00"
    assert data["unreachable"] == 1
    table = cli("status", DUE.isoformat()).stdout
    assert "单位2" in table and "partly" in table and "1/3" in table and "NO" in table


def test_nudge_queues_once_a_day_for_the_units_not_submitted(world):
    cli, built = world
    first = json.loads(
        cli("nudge", str(built.round_id), "--at", "2023-09-25 09:30", "--json").stdout
    )
    assert (first["queued"], first["nudged"], first["unreachable"]) == (1, ["单位2"], ["单位3"])
    again = cli("nudge", str(built.round_id), "--at", "2023-09-25 15:00").stdout
    assert "0 reminders queued" in again and "already reminded today" in again
    one = json.loads(
        cli(
            "nudge", str(built.round_id), "--unit", "单位1", "--at", "2023-09-26 09:00", "--json"
        ).stdout
    )
    assert (one["queued"], one["already_submitted"]) == (0, ["单位1"])


def test_an_unknown_round_is_a_clear_error(world):
    cli, _ = world
    result = cli("status", "9999", ok=False)
    assert result.exit_code == 1 and "9999" in result.output
