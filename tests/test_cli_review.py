"""`taizhang review list|accept|return` as the operator, on a database of their own."""

from __future__ import annotations

import datetime as dt
import json

from storage.services.reporting import Actor, append_text, submit
from tests.cli_helpers import in_database, make_cli
from tests.scheduler.world import build_world

DUE = dt.date(2023, 10, 10)
AT = dt.datetime(2023, 9, 25, 2, 0, tzinfo=dt.UTC)


def test_review_list_return_a_task_then_accept_and_refusals(database_url, monkeypatch, tmp_path):
    cli = make_cli(database_url, monkeypatch, tmp_path)

    async def build(session):  # 单位1 submitted version 1, 单位2 nothing
        world = await build_world(session, due=DUE, chat_ids=[[751], [752]])
        contact = world.contact(0)
        actor = Actor(world.unit_ids[0], contact.name, contact.id, at=AT)
        await append_text(session, actor, world.round_id, world.task_ids[0], "进展")
        await submit(session, actor, world.round_id)
        return world

    round_id = str(in_database(database_url, build).round_id)
    listed = json.loads(cli("review", "list", round_id, "--json").stdout)
    assert [(u["unit"], u["review"], u["version"]) for u in listed["units"]] == [
        ("单位1", "awaiting", 1)
    ]
    assert listed["not_submitted"] == 1

    returned = json.loads(
        cli("review", "return", round_id, "单位1", "--task", "2", "--comment", "请补充", "--json")
        .stdout
    )  # fmt: skip
    assert (returned["decision"], returned["task"], returned["contacts_told"]) == (
        "returned", 2, 1,
    )  # fmt: skip
    stale = cli("review", "accept", round_id, "单位1", "--version", "2", ok=False)
    assert stale.exit_code == 1 and "no longer the latest" in stale.output
    nothing = cli("review", "return", round_id, "单位2", "--comment", "请提交", ok=False)
    assert nothing.exit_code == 1 and "has not submitted" in nothing.output
    accepted = cli("review", "accept", round_id, "单位1").stdout
    assert "version 1 accepted; notice queued for 1 contacts" in accepted
    listed = json.loads(cli("review", "list", round_id, "--json").stdout)
    assert [u["review"] for u in listed["units"]] == ["accepted"]
