"""Migrations build the schema from empty, and it matches the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.db import make_engine
from storage.migrate import current_head


async def test_upgrade_from_empty_matches_the_models(database_url):
    # `database_url` is already upgraded from an empty database by its fixture.
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:

            def differences(sync_connection):
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return context.get_current_revision(), compare_metadata(context, SQLModel.metadata)

            revision, diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert revision == current_head()
    assert diff == []


def test_head_names_the_newest_migration():
    """storage.migrate.HEAD is what commands compare the database with, without Alembic."""
    from storage.migrate import HEAD, current_head

    assert current_head() == HEAD, "a new migration: set storage.migrate.HEAD to its revision"


def test_a_listing_command_loads_neither_alembic_nor_aiogram(tmp_path):
    import subprocess
    import sys

    from storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{(tmp_path / 't.db').as_posix()}"
    upgrade(url)
    probe = (
        "import sys; sys.argv = ['taizhang', 'round', 'list']\n"
        "from bot.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'aiogram'}))"
    )
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
