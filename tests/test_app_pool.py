"""The bot keeps open a database connection for each update it handles at once, and a few
more: a connection beyond the pool is closed when returned and opened anew next time (a new
PostgreSQL backend whose statements are prepared again, or a new SQLite thread)."""

from __future__ import annotations

from bot.app import build_app
from bot.settings import load_settings


async def test_the_pool_holds_the_updates_handled_at_once_and_the_work_around_them(tmp_path):
    settings = load_settings(
        bot_token="123456:" + "A" * 35,
        database_url=f"sqlite+aiosqlite:///{(tmp_path / 'bot.db').as_posix()}",
        updates={"concurrency": 10},
    )
    app = build_app(settings)
    try:
        assert app.engine.pool.size() == 10 + 4
    finally:
        await app.close()
