"""The bot behind a webhook: the stand-in pushes updates with the secret header."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest

from bot.runner import run
from bot.settings import load_settings
from tests.e2e.harness import BotUnderTest
from tests.e2e.phone import text_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def webhook_settings(sandbox, database_url: str):
    port = free_port()
    return load_settings(
        bot_token=sandbox.token,
        telegram_api_base=sandbox.base_url,
        database_url=database_url,
        webhook={
            "url": f"http://127.0.0.1:{port}/hook",
            "secret": "s3cret-Token_1",
            "listen_port": port,
            "path": "/hook",
        },
    )


async def test_webhook_mode_answers_pushed_updates(sandbox, sqlite_url):
    prepared = BotUnderTest(sandbox, sqlite_url)
    await prepared.prepare()
    settings = webhook_settings(sandbox, sqlite_url)
    stop = asyncio.Event()
    bot = asyncio.create_task(run(settings, stop, clock=prepared.clock))
    try:
        user = await sandbox.client.create_user("周琪", language_code="zh-hans")
        await user.start(await prepared.invite("医保局"))
        assert "兴庆区医疗保障局" in text_of(await user.wait_for_reply(timeout=15))
        calls = await sandbox.client.calls("setWebhook")
        assert calls and calls[-1]["params"]["secret_token"] == "s3cret-Token_1"
    finally:
        stop.set()
        await asyncio.wait_for(bot, 15)
        await prepared.close()


# The database refuses to store the first two updates it is given.
REFUSE_TWO_UPDATES = """
CREATE SEQUENCE stored_tries;
CREATE FUNCTION refuse_first_two() RETURNS trigger AS $$
BEGIN
  IF nextval('stored_tries') <= 2 THEN RAISE EXCEPTION 'refused by the test'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_first_two BEFORE INSERT ON inbound_update
  FOR EACH ROW EXECUTE FUNCTION refuse_first_two();
"""


@pytest.mark.postgres
async def test_the_webhook_answers_only_once_the_update_is_stored(sandbox, fresh_postgres_url):
    """An update the database would not take is answered 500; Telegram (the stand-in) sends
    it again, and it is handled: had the webhook said 200 first, it would be lost."""
    prepared = BotUnderTest(sandbox, fresh_postgres_url)
    await prepared.prepare()
    connection = await asyncpg.connect(fresh_postgres_url.replace("+asyncpg", ""))
    try:
        await connection.execute(REFUSE_TWO_UPDATES)
        stop = asyncio.Event()
        bot = asyncio.create_task(
            run(webhook_settings(sandbox, fresh_postgres_url), stop, clock=prepared.clock)
        )
        try:
            user = await sandbox.client.create_user("周琪", language_code="zh-hans")
            await user.start(await prepared.invite("医保局"))
            assert "兴庆区医疗保障局" in text_of(await user.wait_for_reply(timeout=30))
            tries = await connection.fetchval("SELECT last_value FROM stored_tries")
            assert tries == 3  # refused twice, stored the third time, and only then answered
        finally:
            stop.set()
            await asyncio.wait_for(bot, 15)
    finally:
        await connection.close()
        await prepared.close()
