"""Prometheus metrics, defined once, with bounded labels (never ticket ids, keys or text)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        self.inflight = Gauge("autoreply_inflight_requests", "Requests in flight", registry=r)
        self.redis_up = Gauge(
            "autoreply_redis_up",
            "1 when Redis answers, 0 when the service runs on its fallback",
            registry=r,
        )
        self.model = Gauge(
            "autoreply_model_info",
            "The loaded model bundle (value 1)",
            ["version", "backend"],
            registry=r,
        )
        self.rulebook = Gauge(
            "autoreply_rulebook_info", "The loaded rulebook (value 1)", ["version"], registry=r
        )
        self.promo_codes = Counter(
            "autoreply_promo_codes_issued_total", "Promo codes issued by line", ["line"], registry=r
        )

    def set_versions(self, *, model: tuple[str, str] | None, rulebook: str) -> None:
        """Publish the loaded versions (old label sets are cleared, so one series stays)."""
        self.model.clear()
        if model is not None:
            self.model.labels(*model).set(1)
        self.rulebook.clear()
        self.rulebook.labels(rulebook).set(1)
