"""Driving the `taizhang` command line in tests, and reaching the same database directly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


def make_cli(url: str, monkeypatch, folder: Path, *, unset: Iterable[str] = ()):
    """`invoke(*args, ok=True)` runs `taizhang ARGS` on the database at `url`, in `folder`
    (where default output names land; no stray .env), and checks the exit code when ok."""
    monkeypatch.setenv("DATABASE_URL", url)
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(folder)

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


async def in_database_async(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(session)` on the database at `url`, committed, and return what it returns."""
    from storage.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def in_database(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`in_database_async` from synchronous code (a CLI test)."""
    return asyncio.run(in_database_async(url, work))
