"""`autoreply serve` and `autoreply db upgrade`: run the service, migrate its database."""

from __future__ import annotations

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
    migrate: Annotated[bool, typer.Option(help="Run database migrations first.")] = True,
) -> None:
    """Run the HTTP service (settings from AUTOREPLY_* variables; see README)."""
    import uvicorn

    settings = Settings()
    if migrate:
        upgrade(settings.database_url)
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=1,
        log_level="info",
        access_log=False,
    )
