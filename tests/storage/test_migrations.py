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
