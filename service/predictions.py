"""The prediction cache: one owner for the key, the serialisation and the cache/inference metrics.

A prediction is keyed by model version + a hash of the line and the text (and dialogue), so a
reload never serves another model's answer; the store is Redis or the in-process cache.
"""

from __future__ import annotations

import hashlib
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from models.plan import run_plan
from models.prediction import LevelProb, Prediction, TopicCandidate
from service.admission import Lanes, Shed
from service.cache import Store
from service.classifier import LoadedModel
from service.errors import Overloaded
from service.metrics import Metrics
from service.schemas import TicketIn
from service.settings import Settings

if TYPE_CHECKING:
    from models.plan import Scored
    from models.textenc import EncodedBatch


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
        """Return the prediction for `ticket`'s text under `model` (cached by version + text).

        In the calling thread: for the routes that run in threads (autoreply, the challenger)."""
        key = prediction_key(model.classifier.version, ticket)
        cached = self._cached(key)
        if cached is not None:
            return cached
        plan = model.classifier.plan([ticket.text], ticket.line, self.k, _dialogues(ticket))
        prediction = run_plan(plan, partial(self._score, model))[0]
        self._remember(key, prediction)
        return prediction

    async def predict_async(self, model: LoadedModel, ticket: TicketIn) -> Prediction:
        """`predict` on the event loop: tokenizing, the lexical head and the rest of the Python
        run here, and only the model's native call goes to a thread (holding a lane there).

        One process serves more this way: with the whole prediction in worker threads, those
        threads and the loop passed the interpreter lock back and forth while the model waited
        (measured: +13-20% answered at concurrency 8, docs/benchmarks.md). A cache in Redis is
        read and written in a thread too: the loop never waits on the network.
        """
        key = prediction_key(model.classifier.version, ticket)
        remote = self.store.configured
        cached = await run_in_threadpool(self._cached, key) if remote else self._cached(key)
        if cached is not None:
            return cached
        plan = model.classifier.plan([ticket.text], ticket.line, self.k, _dialogues(ticket))
        try:
            step = next(plan)
            while True:
                step = plan.send(await run_in_threadpool(self._score, model, *step))
        except StopIteration as done:
            prediction: Prediction = done.value[0]
        if remote:
            await run_in_threadpool(self._remember, key, prediction)
        else:
            self._remember(key, prediction)
        return prediction

    def _cached(self, key: str) -> Prediction | None:
        cached = self.store.get(key, prediction_from_dict) if self.store.caching else None
        self.metrics.cache.labels("miss" if cached is None else "hit").inc()
        return cached

    def _remember(self, key: str, prediction: Prediction) -> None:
        if self.store.caching:
            self.store.set(key, prediction, self.ttl_s, prediction_to_dict)

    def _score(self, model: LoadedModel, batch: EncodedBatch, line: str) -> Scored:
        """Score one batch on an inference lane (waiting for one in arrival order)."""
        waited = self.lanes.acquire()
        if waited is None:
            self.metrics.shed.labels(Shed.LANE_WAIT).inc()
            raise Overloaded("the model's queue is longer than the service waits; retry shortly")
        started = time.perf_counter()
        try:
            scored = model.classifier.score(batch, line)
        finally:
            held = time.perf_counter() - started
            self.lanes.release(held)
        self.metrics.lane_wait.observe(waited)
        self.metrics.inference.labels(model.backend).observe(held)
        return scored


def _dialogues(ticket: TicketIn) -> list[list[str] | None]:
    return [list(ticket.dialogue) or None]


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
