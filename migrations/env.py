"""Alembic environment: migrate the database named by the config (or AUTOREPLY_DATABASE_URL)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from service.db.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get(
    "AUTOREPLY_DATABASE_URL", "sqlite:///var/autoreply.db"
)
target_metadata = Base.metadata


def run_offline() -> None:
    """Emit SQL without a connection (alembic upgrade --sql)."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate over a real connection."""
    connectable = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
