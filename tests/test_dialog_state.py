"""Dialog state in the update's session: read once per update, written only when it changes,
and saved before the bot says anything."""

from __future__ import annotations

from sqlalchemy import event

from bot.app import build_dispatcher
from bot.middlewares import DatabaseSession, SaveBeforeReplying
from bot.settings import load_settings
from storage.services.dialog import DialogStateStore, update_session


async def test_the_update_reads_its_state_once_and_writes_only_changes(sessions):
    store = DialogStateStore(sessions)
    key = "1:7:7::default"
    async with sessions() as session:
        statements: list[str] = []
        engine = session.bind.sync_engine if session.bind else None
        token = update_session.set(session)
        try:
            await store.set_state(key, "Report:writing")
            await store.set_data(key, {"task": 3, "live": 10})
            await session.commit()

            def count(conn, cursor, statement, *args):
                statements.append(statement)

            event.listen(engine, "before_cursor_execute", count)
            try:
                assert await store.get(key) == ("Report:writing", {"task": 3, "live": 10})
                await store.set_state(key, "Report:writing")  # what aiogram does, unchanged
                await store.set_data(key, {"task": 3, "live": 10})
                assert statements == []
                await store.set_state(key, "Report:card")  # two changes: one UPDATE, on
                await store.set_data(key, {"task": 3, "live": 11})  # the next flush
                assert statements == [] and session.dirty
                await session.flush()
                assert len(statements) == 1 and statements[0].lstrip().startswith("UPDATE")
            finally:
                event.remove(engine, "before_cursor_execute", count)
            await session.commit()
        finally:
            update_session.reset(token)
    assert await store.get(key) == ("Report:card", {"task": 3, "live": 11})


def test_the_update_session_opens_before_the_state_is_read():
    dispatcher = build_dispatcher(load_settings(bot_token="123456:" + "A" * 35), sessions=None)
    outer = list(dispatcher.update.outer_middleware)
    ours = next(i for i, m in enumerate(outer) if isinstance(m, DatabaseSession))
    assert outer.index(dispatcher.fsm) == ours + 1


async def test_a_state_change_not_yet_flushed_is_committed_before_the_bot_speaks(sessions):
    store = DialogStateStore(sessions)
    key = "1:8:8::default"
    said = []

    async def make_request(bot, method):  # what a reader elsewhere sees by then
        token = update_session.set(None)
        try:
            said.append(await store.get(key))
        finally:
            update_session.reset(token)
        return True

    async with sessions() as session:
        token = update_session.set(session)
        try:
            await store.set_state(key, "Report:card")
            await session.commit()
            await store.set_state(key, "Report:writing")  # held: no statement yet
            assert session.dirty
            await SaveBeforeReplying()(make_request, None, "sendMessage")
        finally:
            update_session.reset(token)
    assert said == [("Report:writing", {})]
