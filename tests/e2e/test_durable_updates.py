"""No answer is lost: an update is stored before it is acknowledged, and handling that fails
(the database refuses, the bot dies mid-way) is tried again until it is saved, or the person
is told. PostgreSQL, whose triggers let the test make the database refuse a statement."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlmodel import select

from storage.models import InboundUpdate, ProgressEntry
from tests.e2e.conftest import STAFF_ID
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import message_with, text_of, writing_task_1

pytestmark = pytest.mark.postgres

# The database refuses a progress text marked #refuse-twice twice (a sequence is not rolled
# back with the transaction), one marked #refuse-always always, and sits on #slow-once.
FAULTS = """
CREATE SEQUENCE refusals;
CREATE SEQUENCE slow_ones;
CREATE FUNCTION refuse_marked() RETURNS trigger AS $$
BEGIN
  IF NEW.text LIKE '%#refuse-twice%' AND nextval('refusals') <= 2 THEN
    RAISE EXCEPTION 'refused by the test';
  END IF;
  IF NEW.text LIKE '%#refuse-always%' THEN
    RAISE EXCEPTION 'refused by the test';
  END IF;
  IF NEW.text LIKE '%#slow-once%' AND nextval('slow_ones') = 1 THEN
    PERFORM pg_sleep(60);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_marked BEFORE INSERT OR UPDATE ON progress_entry
  FOR EACH ROW EXECUTE FUNCTION refuse_marked();
"""


async def sql(url: str, statement: str):
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        if statement.lstrip().upper().startswith("SELECT"):
            return await connection.fetch(statement)
        return await connection.execute(statement)  # several statements at once
    finally:
        await connection.close()


@pytest.fixture
async def taizhang_pg(sandbox, fresh_postgres_url) -> AsyncIterator[BotUnderTest]:
    bot = BotUnderTest(
        sandbox,
        fresh_postgres_url,
        staff_ids=[STAFF_ID],
        extra_settings={"updates": {"retry_delay": 0.05, "max_attempts": 3}},
    )
    await bot.prepare()
    await sql(fresh_postgres_url, FAULTS)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.close()


async def task_1_text(taizhang: BotUnderTest) -> str:
    async def read(session):
        entry = (
            await session.exec(
                select(ProgressEntry).where(ProgressEntry.round_id == taizhang.round_id)
            )
        ).first()
        return entry.text if entry else ""

    return await taizhang.query(read)


async def inbound_with(taizhang: BotUnderTest, marker: str) -> list[InboundUpdate]:
    async def read(session):
        rows = (await session.exec(select(InboundUpdate))).all()
        return [r for r in rows if marker in str(r.payload)]

    return await taizhang.query(read)


async def test_a_refused_statement_is_tried_again_and_the_answer_kept(taizhang_pg):
    zhou = await writing_task_1(taizhang_pg)
    await zhou.send("完成信息公开 #refuse-twice")
    assert "已保存" in text_of(await zhou.wait_for_reply(timeout=15))
    assert (await task_1_text(taizhang_pg)).count("#refuse-twice") == 1
    [row] = await inbound_with(taizhang_pg, "#refuse-twice")
    assert row.status == "handled" and row.attempts == 2  # two refusals, saved on the third


async def test_a_message_that_cannot_be_saved_is_told_to_the_person_and_the_staff(taizhang_pg):
    staff = await taizhang_pg.sandbox.client.create_user(
        "张主任", user_id=STAFF_ID, language_code="zh-hans", started=True
    )
    zhou = await writing_task_1(taizhang_pg)
    await zhou.send("写不进去 #refuse-always")
    assert "没能保存" in text_of(await message_with(zhou, "没能保存", timeout=20))
    digest = await message_with(staff, "未能处理", timeout=20)
    assert "1 条" in text_of(digest)
    [row] = await inbound_with(taizhang_pg, "#refuse-always")
    assert row.status == "failed" and row.attempts == 3
    # The dialog goes on: the next message is saved.
    await zhou.send("换个说法再写一次。")
    assert "已保存" in text_of(await zhou.wait_for_reply(timeout=15))
    assert await task_1_text(taizhang_pg) == "换个说法再写一次。"


async def test_a_message_in_hand_when_the_bot_dies_is_saved_after_the_restart(taizhang_pg):
    zhou = await writing_task_1(taizhang_pg)
    await zhou.send("写到一半机器人停了 #slow-once")

    def sleeping(rows) -> bool:
        return any(r["query"].lstrip().upper().startswith(("INSERT", "UPDATE")) for r in rows)

    # Wait until the bot is inside the handler (the database sits on its statement).
    statement = "SELECT query FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
    for _ in range(400):
        if sleeping(await sql(taizhang_pg.database_url, statement)):
            break
        await zhou.read_chat()  # one round trip, then look again
    else:
        raise AssertionError("the bot never reached the slow statement")
    assert [r.status for r in await inbound_with(taizhang_pg, "#slow-once")] == ["pending"]

    await taizhang_pg.crash()
    # The dead process's connection goes with it; the database rolls its transaction back.
    await sql(
        taizhang_pg.database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    assert await task_1_text(taizhang_pg) == ""
    await taizhang_pg.start()
    assert "已保存" in text_of(await message_with(zhou, "已保存", timeout=20))
    assert (await task_1_text(taizhang_pg)).count("#slow-once") == 1
    [row] = await inbound_with(taizhang_pg, "#slow-once")
    assert row.status == "handled"
