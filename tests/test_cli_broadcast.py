"""`taizhang broadcast send|list|show|cancel` as the operator, on a database of its own: the
messages are queued for the running bot's sender; bad input is refused with its reason."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from storage.models import OutboxMessage
from tests.cli_helpers import in_database, make_cli
from tests.scheduler.world import build_world


def test_send_list_show_cancel_and_refusals(database_url, monkeypatch, tmp_path):
    cli = make_cli(database_url, monkeypatch, tmp_path)

    async def build(session):  # 单位1: 751 and 752; 单位2: 761; 单位3: nobody
        return await build_world(session, due=dt.date(2023, 10, 10),
                                 chat_ids=[[751, 752], [761], []])  # fmt: skip

    world = in_database(database_url, build)
    args = ("--to", "units:单位1,单位3", "--text", "请于周五前报送。", "--ack", "--json")
    sent = json.loads(cli("broadcast", "send", *args).stdout)
    assert (sent["recipients"], sent["units"], sent["unreachable_units"]) == (2, 1, ["单位3"])
    later = cli("broadcast", "send", "--to", "all", "--text", "下周一开会。",
                "--at", "2031-03-10 10:00").stdout  # fmt: skip
    later_id = int(later.split()[0])
    assert "3 people in 2 units, queued at 2031-03-10 10:00" in later

    async def outbox(session):
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [(row.chat_id, row.status, row.payload["text"]) for row in rows]

    assert [row[:2] for row in in_database(database_url, outbox)] == [
        (751, "queued"), (752, "queued"), (751, "queued"), (752, "queued"), (761, "queued"),
    ]  # fmt: skip
    listed = json.loads(cli("broadcast", "list", "--json").stdout)
    assert [(b["id"], b["status"], b["pending"]) for b in listed] == [
        (later_id, "scheduled", 3), (sent["id"], "sending", 2),
    ]  # fmt: skip
    shown = json.loads(cli("broadcast", "show", str(sent["id"]), "--json").stdout)
    assert {k: shown[k] for k in ("recipients", "sent", "failed", "pending", "acknowledged")} == {
        "recipients": 2, "sent": 0, "failed": 0, "pending": 2, "acknowledged": 0,
    }  # fmt: skip
    assert [u["unit"] for u in shown["units"]] == ["单位1"]
    assert "withdrawn" in cli("broadcast", "show", str(later_id)).stdout
    assert "3 messages withdrawn" in cli("broadcast", "cancel", str(later_id)).stdout
    assert [row[1] for row in in_database(database_url, outbox)][2:] == ["withdrawn"] * 3

    refusals = {
        ("--to", "all", "--text", "  "): "needs some text",
        ("--to", "all", "--text", "字" * 4097): "the text has 4097 characters",
        ("--to", "units:单位3", "--text", "通知"): "nobody in this audience",
        ("--to", "kind:moon", "--text", "通知"): "unknown unit kind",
        ("--to", "all", "--text", "通知", "--at", "2020-03-09 10:00"): "has passed",
        ("--to", "all", "--text", "通知", "--at", "2031-03-10 20:00"): "outside office hours",
    }
    for args, words in refusals.items():
        refused = cli("broadcast", "send", *args, ok=False)
        assert refused.exit_code == 1 and words in refused.output.replace("\n", " "), args
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)
    refused = cli(
        "broadcast", "send", "--to", "all", "--text", "附件", "--file", str(big), ok=False
    )
    assert refused.exit_code == 1 and "at most 50 MB" in refused.output
    assert world.round_id and len(in_database(database_url, outbox)) == 5
