"""The prediction cache: one owner for the key, the serialisation and the cache/inference metrics.

A prediction is keyed by model version + a hash of the line and the text (and dialogue), so a
reload never serves another model's answer; the store is Redis or the in-process cache.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from models.prediction import LevelProb, Prediction, TopicCandidate
from service.admission import Lanes, Shed
from service.cache import Store
from service.classifier import LoadedModel
from service.errors import Overloaded
from service.metrics import Metrics
from service.schemas import TicketIn
from service.settings import Settings


def prediction_k(suggestions: int) -> int:
    """Return how many leaves a prediction keeps at least: the suggestions shown, plus two.

    The decision reads every leaf a prediction carries, so whatever replays the service's
    decisions (`autoreply evaluate`, the threshold fit) must ask for the same number.
    """
    return suggestions + 2


DEFAULT_K = prediction_k(Settings.model_fields["suggestions"].default)


class PredictionCache:
    """Returns the classifier's prediction for a ticket, from the cache when it has one."""

    def __init__(
        self, store: Store, metrics: Metrics, *, lanes: Lanes, ttl_s: float, k: int
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.ttl_s = ttl_s
        self.k = k
        self.lanes = lanes

    def predict(self, model: LoadedModel, ticket: TicketIn) -> Prediction:
        """Return the prediction for `ticket`'s text under `model` (cached by version + text)."""
        key = prediction_key(model.classifier.version, ticket)
        cached = self.store.get(key, prediction_from_dict) if self.store.caching else None
        if cached is not None:
            self.metrics.cache.labels("hit").inc()
            return cached
        self.metrics.cache.labels("miss").inc()
        waited = self.lanes.acquire()
        if waited is None:
            self.metrics.shed.labels(Shed.LANE_WAIT).inc()
            raise Overloaded("the model's queue is longer than the service waits; retry shortly")
        started = time.perf_counter()
        try:
            prediction = model.classifier.predict(
                [ticket.text], ticket.line, k=self.k, dialogues=[list(ticket.dialogue) or None]
            )[0]
        finally:
            held = time.perf_counter() - started
            self.lanes.release(held)
        self.metrics.lane_wait.observe(waited)
        self.metrics.inference.labels(model.backend).observe(held)
        if self.store.caching:
            self.store.set(key, prediction, self.ttl_s, prediction_to_dict)
        return prediction


def prediction_key(model_version: str, ticket: TicketIn) -> str:
    """Return the cache key of a ticket's prediction under one model version."""
    text_key = "\x1f".join([ticket.line, ticket.text, *ticket.dialogue]).encode()
    return f"pred:{model_version}:{hashlib.sha256(text_key).hexdigest()}"


def prediction_to_dict(prediction: Prediction) -> dict[str, Any]:
    """Return a prediction's JSON form (`dataclasses.asdict`'s shape, written out: asdict's
    generic deep copy cost more than the rest of the cache)."""
    p = prediction
    return {
        "line": p.line,
        "candidates": [
            {
                "path": c.path,
                "prob": c.prob,
                "levels": [{"path": lv.path, "prob": lv.prob} for lv in c.levels],
            }
            for c in p.candidates
        ],
        "guard": dict(p.guard),
        "model_version": p.model_version,
        "tokens": p.tokens,
        "truncated": p.truncated,
        "extra": dict(p.extra),
    }


def prediction_from_dict(data: dict[str, Any]) -> Prediction:
    """Rebuild a prediction from its cached JSON form (`prediction_to_dict`)."""
    candidates = tuple(
        TopicCandidate(c["path"], c["prob"], tuple(LevelProb(**lv) for lv in c["levels"]))
        for c in data["candidates"]
    )
    return Prediction(
        data["line"],
        candidates,
        dict(data["guard"]),
        data["model_version"],
        data.get("tokens", 0),
        data.get("truncated", False),
        dict(data.get("extra", {})),
    )
