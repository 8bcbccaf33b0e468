"""One retrain at a time: a lock file created with O_EXCL that names its holder, and on PostgreSQL
an advisory lock as well, for registries that hosts share.

A lock file left by a process that died on this host is taken over (and said so); a live holder,
or one on another host, makes the second run refuse with who holds it and since when. The lock
file only guards one filesystem; runs on two hosts writing one database's bundle history meet at
PostgreSQL's advisory lock, which is held by the run's database session and so ends with it, even
when the run is killed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("training")
# One key per database: every retrain against it writes the same bundle history.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"autoreply retrain").digest()[:8], "big", signed=True)
_HOLDERS = text(
    "SELECT l.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
    "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = :high AND l.objid = :low AND l.objsubid = 1"
)


class LockHeld(RuntimeError):
    """Another run holds the lock; the message names it."""


@contextmanager
def job_lock(path: Path) -> Iterator[None]:
    """Hold the lock file at `path` for the block; raise LockHeld when another run holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _take(path):
        holder = _holder(path)
        if not _stale(holder):
            raise LockHeld(
                f"another retrain holds {path} (pid {holder.get('pid')} on {holder.get('host')} "
                f"since {holder.get('since')}); wait for it to finish, or delete the file if "
                "that process is gone"
            )
        log.warning("taking over %s from a run that died: %s", path, holder)
        path.unlink(missing_ok=True)
        if not _take(path):
            raise LockHeld(f"another retrain took {path} at the same moment; try again later")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def database_lock(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock for the block; raise LockHeld when a run elsewhere holds it.

    Any other database holds nothing here: the embedded SQLite lives on one host, where the lock
    file is enough.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    # Autocommit: the lock belongs to the session, and no transaction idles open for the run.
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        name = f"autoreply retrain pid {os.getpid()} on {socket.gethostname()}"[:63]
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}):
            raise LockHeld(_held_message(conn))
        try:
            yield
        finally:
            with contextlib.suppress(SQLAlchemyError):  # a lost session has released it already
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
    finally:
        conn.invalidate()  # never back to the pool with this session's name on it
        conn.close()


def _held_message(conn: Connection) -> str:
    """Return who holds the advisory lock, and what to do about it."""
    unsigned = ADVISORY_KEY & 0xFFFFFFFFFFFFFFFF
    holder = conn.execute(_HOLDERS, {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF}).first()
    pid, name, address, since = holder if holder is not None else ("PID", None, None, None)
    who = f"{name or 'another retrain'} (database session {pid}"
    who += f" from {address or 'a local socket'} since {since})" if since else ")"
    return (
        f"{who} holds this database's retrain lock (a PostgreSQL advisory lock); wait for it to "
        "finish and run again. The lock lives as long as that run's database session: a killed "
        "run's closed connection releases it; if its host died, end the session with "
        f"`SELECT pg_terminate_backend({pid})`"
    )


def _take(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC)}
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(holder, default=str))
    return True


def _holder(path: Path) -> dict[str, object]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}  # being written this instant, or garbage: treated as held


def _stale(holder: dict[str, object]) -> bool:
    """Return whether the holder is a process on this host that no longer exists."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
