"""The challenger in shadow: where it is read from, and the bounded queue that scores it.

A challenger bundle is loaded beside the champion (AUTOREPLY_CHALLENGER: by default the registry's
`shadow` pointer beside AUTOREPLY_BUNDLE_DIR, which `autoreply bundles shadow VERSION` writes).
Once the champion's decision on a ticket is recorded, the pipeline queues the challenger's
assessment of the same ticket here; one thread of its own scores it and records what the
challenger would have decided. Nothing it decides is sent, and the champion's answer never waits
for it: past `AUTOREPLY_SHADOW_QUEUE` pending scorings a new one is skipped and counted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from rules.topics import TopicTree
from service.classifier import ModelHolder
from service.errors import log_unexpected
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("autoreply")
OFF = "off"
# The `outcome` label of autoreply_shadow_scorings_total: the whole vocabulary.
SCORED, SKIPPED, FAILED = "scored", "skipped", "failed"
OUTCOMES = (SCORED, SKIPPED, FAILED)


def challenger_dir(settings: Settings) -> Path | None:
    """Return where the challenger is read from (None: shadow scoring is off).

    A bare name is looked up beside the champion's bundle directory: a version, or the `shadow`
    pointer, of the registry `BUNDLE_DIR` belongs to. A path (with a slash) is a bundle directory.
    """
    name = settings.challenger.strip()
    if name in ("", OFF):
        return None
    path = Path(name)
    return path if len(path.parts) > 1 else settings.bundle_dir.parent / name


def challenger_target(settings: Settings) -> str | None:
    """Return where the challenger's directory leads now (its pointer followed), or None when off."""
    path = challenger_dir(settings)
    return os.path.realpath(path) if path is not None else None


def refresh_challenger(holder: ModelHolder, settings: Settings, topics: TopicTree) -> str | None:
    """Load the challenger the settings name, or drop it when none is there; return its version.

    Never raises: a challenger that fails to load, or does not fit the rulebook, is dropped with
    the error kept for /readyz; the champion is untouched either way.
    """
    path = challenger_dir(settings)
    if path is None or not path.exists():
        holder.clear()
        return None
    try:
        model = holder.reload(topics, path)
    except Exception as exc:  # any bundle problem: no challenger, said so, the champion serves on
        holder.clear(f"{type(exc).__name__}: {exc}")
        log.warning("challenger %s refused: %s", path, holder.error)
        return None
    log.info("scoring challenger %s in shadow", model.classifier.version)
    return model.classifier.version


class ShadowQueue:
    """Runs shadow scorings one at a time on a thread of its own, off the requests' path.

    At most `limit` wait; past that a scoring is skipped, so a slow challenger never holds a
    request or grows memory. Each outcome is counted (`autoreply_shadow_scorings_total`).
    """

    def __init__(self, metrics: Metrics, limit: int) -> None:
        self.metrics = metrics
        self.limit = limit
        self.pending = 0
        self._idle = threading.Condition()
        self._pool = _pool()

    def submit(self, score: Callable[[], None]) -> bool:
        """Queue one scoring and return True; return False (counted) when the queue is full."""
        with self._idle:
            if self.pending >= self.limit:
                self.metrics.shadow.labels(SKIPPED).inc()
                return False
            self.pending += 1
            self.metrics.shadow_pending.set(self.pending)
        self._pool.submit(self._run, score).add_done_callback(self._dropped)
        return True

    def drain(self, timeout_s: float) -> bool:
        """Wait until no scoring is pending, at most `timeout_s`; return whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self.pending == 0, timeout_s)

    def close(self, timeout_s: float) -> None:
        """Give the pending scorings `timeout_s` to finish, then drop the rest (counted skipped):
        a shutdown never waits on a slow challenger or a lost database."""
        if self.drain(timeout_s):
            return
        old, self._pool = self._pool, _pool()
        old.shutdown(wait=False, cancel_futures=True)

    def _run(self, score: Callable[[], None]) -> None:
        outcome = SCORED
        try:
            score()
        except Exception as exc:  # a failed scoring is counted and logged, never raised anywhere
            outcome = FAILED
            log_unexpected(exc, "shadow scoring")
        self._settle(outcome)

    def _dropped(self, future: Future[None]) -> None:
        if future.cancelled():
            self._settle(SKIPPED)

    def _settle(self, outcome: str) -> None:
        self.metrics.shadow.labels(outcome).inc()
        with self._idle:
            self.pending -= 1
            self.metrics.shadow_pending.set(self.pending)
            self._idle.notify_all()


def _pool() -> ThreadPoolExecutor:
    # One thread: a challenger's inference takes at most one of the champion's lanes at a time.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
