"""Engine and session factory; migrations run through Alembic (`service.db.migrate`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

# A lost database must become a quick 503, not a worker stuck for minutes: connecting, waiting for
# a pooled connection and noticing a silent peer are each bounded by a few seconds.
CONNECT_TIMEOUT_S = 2
POOL_TIMEOUT_S = 2
_POSTGRES_CONNECT_ARGS = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,  # ms: unacknowledged data on a dead link fails the query
}


def make_engine(url: str) -> Engine:
    """Return an engine for `url`; SQLite gets a WAL journal, foreign keys and a busy timeout.

    SQL parameters never appear in error messages or logs (`hide_parameters`): they carry
    ticket text and customer ids.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args=_POSTGRES_CONNECT_ARGS,
        hide_parameters=True,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the service loses
    # nothing; a power cut may lose the last commits. The embedded default; production runs on
    # PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory every request uses."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session inside one transaction: committed on success, rolled back on error."""
    with factory() as session, session.begin():
        yield session


def database_outage(exc: SQLAlchemyError) -> bool:
    """Return whether a database error means "unreachable now" (retry) rather than a bug."""
    # OperationalError and InterfaceError are what the DB-API (PEP 249) raises for a refused,
    # lost or timed-out connection; a pool that cannot hand out a connection is one too.
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
