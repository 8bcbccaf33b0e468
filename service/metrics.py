"""Prometheus metrics, defined once, with bounded labels (never ticket ids, keys or text).

With several worker processes (`autoreply serve --workers N`) prometheus_client writes every
value to a file per process under PROMETHEUS_MULTIPROC_DIR and `/metrics`, on whichever worker
answers, sums the counters and histograms of all of them; each gauge says how its values
combine (`multiprocess_mode`).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """All of the service's metrics on one registry (a fresh one per app, so tests start clean)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "autoreply_http_requests_total",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "autoreply_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.decisions = Counter(
            "autoreply_decisions_total",
            "Decisions by line, kind and action",
            ["line", "kind", "action"],
            registry=r,
        )
        self.reasons = Counter(
            "autoreply_handoff_reasons_total",
            "Hand-off reasons by line",
            ["line", "reason"],
            registry=r,
        )
        self.inference = Histogram(
            "autoreply_inference_seconds",
            "Classifier time per ticket",
            ["backend"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "autoreply_prediction_cache_total", "Prediction cache lookups", ["result"], registry=r
        )
        self.shed = Counter(
            "autoreply_shed_total",
            "Requests refused with 503 + Retry-After, by why (service.admission.Shed)",
            ["reason"],
            registry=r,
        )
        self.lane_wait = Histogram(
            "autoreply_lane_wait_seconds",
            "Time a request waited for an inference lane (what queue-time shedding watches)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.records_committed = Counter(
            "autoreply_suggest_records_committed_total",
            "Suggest records committed by the write-behind",
            registry=r,
        )
        self.inflight = Gauge(
            "autoreply_inflight_requests",
            "Requests in flight (all workers together)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.redis_up = Gauge(
            "autoreply_redis_up",
            "1 when Redis answers, 0 when the service runs on its fallback (the latest check)",
            registry=r,
            multiprocess_mode="livemostrecent",
        )
        # 1 for each version some live worker serves: two series while a reload spreads.
        self.model = Gauge(
            "autoreply_model_info",
            "The loaded model bundle (value 1)",
            ["version", "backend"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.rulebook = Gauge(
            "autoreply_rulebook_info",
            "The loaded rulebook (value 1)",
            ["version"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self._published: list[tuple[Gauge, tuple[str, ...]]] = []
        self.promo_codes = Counter(
            "autoreply_promo_codes_issued_total", "Promo codes issued by line", ["line"], registry=r
        )
        self.shadow = Counter(
            "autoreply_shadow_scorings_total",
            "Challenger scorings in shadow by outcome: scored, skipped (queue full), failed",
            ["outcome"],
            registry=r,
        )
        self.shadow_pending = Gauge(
            "autoreply_shadow_pending",
            "Shadow scorings waiting for the challenger",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.challenger = Gauge(
            "autoreply_challenger_info",
            "The challenger bundle scored in shadow (value 1; no series: none)",
            ["version"],
            registry=r,
            multiprocess_mode="livemax",
        )

    def set_versions(
        self, *, model: tuple[str, str] | None, rulebook: str, challenger: str | None = None
    ) -> None:
        """Publish the loaded versions (old label sets are cleared, so one series stays).

        An old series is set to 0 before it is cleared: a worker's file keeps the last value
        written, and a cleared 1 would go on saying the old version is served.
        """
        for gauge, labels in self._published:
            gauge.labels(*labels).set(0)
        self.model.clear()
        self.rulebook.clear()
        self.challenger.clear()
        self._published = [(self.rulebook, (rulebook,))]
        if model is not None:
            self._published.append((self.model, model))
        if challenger is not None:
            self._published.append((self.challenger, (challenger,)))
        for gauge, labels in self._published:
            gauge.labels(*labels).set(1)

    def exposition(self) -> tuple[bytes, str]:
        """Return the text `/metrics` answers and its content type: every worker's, summed."""
        if MULTIPROC_ENV not in os.environ:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        return generate_latest(workers), CONTENT_TYPE_LATEST


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID = re.compile(r"_(\d+)\.db$")


def forget_dead_workers() -> None:
    """Drop the live gauges of worker processes that have died (a killed worker is restarted
    with a new pid; its in-flight count must not stay in the sum). No-op in one process."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    pids = {
        int(m.group(1))
        for f in Path(directory).glob("gauge_live*.db")
        if (m := _PID.search(f.name))
    }
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)


def leave_as_worker() -> None:
    """Drop this process's live gauges on a clean shutdown (no-op in one process)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        multiprocess.mark_process_dead(os.getpid(), directory)


def _alive(pid: int) -> bool:
    with contextlib.suppress(PermissionError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
    return True
