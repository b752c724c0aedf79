"""Alembic, run from code: `taizhang db upgrade` creates or migrates the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision, so that a command checking the database need not load
# Alembic and read every migration (tests/storage/test_migrations.py keeps it true).
HEAD = "0011"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_head() -> str:
    """The head as Alembic reads it from the migrations (slow: loads them all)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


async def ensure_current(engine, url: str) -> None:
    """Stop with a clear message when the database was never created or is behind the code."""
    from sqlalchemy import text

    from storage.services.errors import ServiceError

    async with engine.connect() as connection:
        try:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            version = result.scalar()
        except Exception:
            version = None
    if version != HEAD:
        state = "is not created yet" if version is None else "needs migrating"
        raise ServiceError(f"the database {state}: run `taizhang db upgrade` first")
