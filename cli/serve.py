"""`autoreply serve` and `autoreply db upgrade`: run the service, migrate its database."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cli.common import print_json
from service.db.migrate import upgrade
from service.settings import Settings

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Alembic revision to migrate to.")] = "head",
) -> None:
    """Migrate the database named by AUTOREPLY_DATABASE_URL to REVISION (default: the latest)."""
    settings = Settings()
    upgrade(settings.database_url, revision)
    print_json({"database": settings.public()["database_url"], "revision": revision})


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes, each with its own model and 1/N of the cores "
            "(default: AUTOREPLY_WORKERS, else 1). Share Redis between them (AUTOREPLY_REDIS_URL).",
        ),
    ] = None,
    migrate: Annotated[bool, typer.Option(help="Run database migrations first.")] = True,
) -> None:
    """Run the HTTP service (settings from AUTOREPLY_* variables; see README)."""
    settings = Settings()
    if migrate:
        upgrade(settings.database_url)
    # Become the serving process (same pid): the command line and Alembic stay behind, so the
    # service's memory holds only what serving needs.
    command = [sys.executable, "-m", "service", "--host", host, "--port", str(port)]
    # glibc keeps a heap per thread that has allocated (up to 8 per core), each holding freed
    # memory: two are enough for a service whose threads mostly wait.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.execv(sys.executable, [*command, *(["--workers", str(workers)] if workers else [])])  # noqa: S606 (fixed arguments)
