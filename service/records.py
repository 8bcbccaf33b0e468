"""Write-behind for suggest records: a request hands its ticket and decision rows over and answers;
one thread commits them in batches (two statements a batch), gathered for up to `linger_s`.

A suggestion is shown before its record is committed, so the record must not be lost:
- a clean shutdown commits everything handed over (`close`), retrying an unreachable database
  until `shutdown_s` runs out, and logs how many records it had to give up;
- a database outage is noticed by the thread's next commit: from then on `check` refuses new
  suggestions (503 `database_unavailable`, as before the write-behind) while the pending batch is
  retried, and the thread probes until the database answers again;
- readers that may look up a suggestion just made (feedback, a decision by id) call `flush`
  first, which returns once everything handed over before the call is committed.
A kill -9 loses what is pending: at most a batch interval's records, or an outage's worth.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from service.db.session import database_outage
from service.errors import DatabaseUnavailable, Overloaded

log = logging.getLogger("autoreply.records")


@dataclass(frozen=True)
class SuggestRecord:
    """What one suggestion stores: its ticket row and its decision row, made at `at`."""

    ticket: dict[str, Any]
    decision: dict[str, Any]
    at: datetime


Write = Callable[[list[SuggestRecord]], None]  # commits a batch in one transaction, or raises
Probe = Callable[[], None]  # raises while the database is unreachable


class RecordWriter:
    """Commits handed-over records in batches from one thread; says when the database is down."""

    def __init__(
        self,
        write: Write,
        probe: Probe,
        *,
        batch_max: int = 256,
        linger_s: float = 0.02,
        capacity: int = 10_000,
        retry_s: float = 0.5,
        on_commit: Callable[[int], None] = lambda _n: None,
    ) -> None:
        self._write, self._probe, self._on_commit = write, probe, on_commit
        self.batch_max, self.linger_s = batch_max, linger_s
        self.capacity, self.retry_s = capacity, retry_s
        self._pending: deque[SuggestRecord] = deque()
        self._handed = 0  # records handed over so far
        self._settled = 0  # records committed (or given up) so far, in order
        self._cond = threading.Condition()
        self._commit_lock = threading.Lock()  # one batch at a time, whichever thread commits
        self._closing = False
        self._flushing = 0  # callers waiting in flush(): no lingering for them
        self.down = False
        self.dropped = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the committing thread once the database has been probed (down: refuse at once)."""
        try:
            self._probe()
        except SQLAlchemyError as exc:
            self.down = database_outage(exc)
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Return how many records wait for their commit."""
        return len(self._pending)

    def check(self) -> None:
        """Raise the 503 a new suggestion gets while its record could not be kept."""
        if self.down:
            raise DatabaseUnavailable("the database is unavailable; nothing was recorded, retry")
        if len(self._pending) >= self.capacity:
            raise Overloaded("suggest records are waiting for the database; retry shortly")

    def submit(self, record: SuggestRecord) -> None:
        """Hand a record over for the next batch (refused as `check` says)."""
        self.check()
        with self._cond:
            self._pending.append(record)
            self._handed += 1
            if len(self._pending) in (1, self.batch_max):  # wake the writer, or end its linger
                self._cond.notify_all()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Return once every record handed over before the call is committed (False: timed out)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._handed
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._settled < target:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._thread is None:
                        return False
                    self._cond.wait(left)
            finally:
                self._flushing -= 1
        return True

    def drain(self) -> None:
        """Commit everything pending in the calling thread (benchmarks profile it this way)."""
        while self._pending and self._commit_next():
            pass

    def close(self, shutdown_s: float = 10.0) -> None:
        """Commit what is pending (retrying an outage up to `shutdown_s`), then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(shutdown_s)
        lost = len(self._pending)
        if lost:
            log.error("shutting down with %d suggest records not committed: they are lost", lost)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing and not self.down:
                    self._cond.wait()
                if self._closing and not self._pending:
                    return
                if self._lingering():
                    self._cond.wait(self.linger_s)
            if self._pending:
                if not self._commit_next():
                    self._pause()
            elif self.down:
                self._probe_again()

    def _lingering(self) -> bool:
        """Whether to let a batch gather first: a commit per record would cost a commit each and
        take the GIL from the requests as each one answers."""
        full = len(self._pending) >= self.batch_max
        return not (full or self._closing or self._flushing or self.down)

    def _pause(self) -> None:
        with self._cond:
            self._cond.wait(self.retry_s)

    def _probe_again(self) -> None:
        try:
            self._probe()
        except SQLAlchemyError:
            self._pause()
            return
        self._up()

    def _commit_next(self) -> bool:
        """Commit the oldest batch; return False when the database is unreachable (kept for later)."""
        with self._commit_lock:
            batch = [self._pending[i] for i in range(min(self.batch_max, len(self._pending)))]
            try:
                self._write(batch)
            except SQLAlchemyError as exc:
                if database_outage(exc):
                    return self._went_down(exc)
                return self._write_one_by_one(batch)
            self._settle(len(batch))
            return True

    def _write_one_by_one(self, batch: list[SuggestRecord]) -> bool:
        """Commit a refused batch record by record; drop (and log by class) those refused alone."""
        for record in batch:
            try:
                self._write([record])
            except SQLAlchemyError as exc:
                if database_outage(exc):
                    return self._went_down(exc)
                self.dropped += 1
                log.error("a suggest record was refused and dropped: %s", type(exc).__name__)
            self._settle(1)
        return True

    def _went_down(self, exc: SQLAlchemyError) -> bool:
        if not self.down:
            log.warning("database unavailable for suggest records: %s", type(exc).__name__)
        self.down = True
        return False

    def _settle(self, count: int) -> None:
        with self._cond:
            for _ in range(count):
                self._pending.popleft()
            self._settled += count
            self._cond.notify_all()
        self._on_commit(count)
        self._up()

    def _up(self) -> None:
        if self.down:
            log.info("database reachable again: suggest records are committed")
        self.down = False
