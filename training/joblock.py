"""One retrain at a time: a lock file created with O_EXCL that names its holder.

A lock left by a process that died on this host is taken over (and said so); a live holder, or
one on another host, makes the second run refuse with who holds it and since when.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("training")


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
