"""The migrations build exactly the tables `service/db/tables.py` declares, and step back down."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from service.db.migrate import alembic_config, upgrade
from service.db.tables import Base


def differences(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    return found


def check_round_trip(url: str) -> None:
    upgrade(url)
    assert differences(url) == []
    command.downgrade(alembic_config(url), "0002")
    upgrade(url)
    assert differences(url) == []


def test_sqlite_migrations_match_the_tables_both_ways(tmp_path):
    check_round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_migrations_match_the_tables_both_ways(postgres_url):
    check_round_trip(postgres_url)
