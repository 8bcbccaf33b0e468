"""The service's runtime state, built once at start-up and shared by every request."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from rules.holder import RulebookHolder
from service.cache import Store
from service.classifier import ModelHolder, ModelLoader, load_bundle_model
from service.db.session import make_engine, make_session_factory
from service.metrics import Metrics
from service.settings import Settings


@dataclass
class AppState:
    """Everything a request needs: settings, database sessions, cache, metrics, rules, model."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: Store
    metrics: Metrics
    rulebooks: RulebookHolder
    models: ModelHolder
    # At most `inference_lanes` inferences at once (the ONNX backend's lanes); more only thrash.
    inference_gate: threading.Semaphore

    def publish_versions(self) -> None:
        """Set the version gauges to what is loaded now."""
        model = self.models.current
        self.metrics.set_versions(
            model=(model.classifier.version, model.backend) if model else None,
            rulebook=self.rulebooks.current.version,
        )


def inference_lanes(settings: Settings) -> int:
    """Return how many inferences may run at once: the ONNX lanes, or one for torch."""
    return settings.inference_lanes if settings.backend.startswith("onnx") else 1


def build_state(settings: Settings, model_loader: ModelLoader | None = None) -> AppState:
    """Connect to the database and cache, load the rulebook and (if present) the model bundle."""
    lanes = inference_lanes(settings)
    loader = model_loader or partial(
        load_bundle_model,
        backend=settings.backend,
        threads=settings.inference_threads,
        lanes=lanes,
        min_margin=settings.min_margin,
    )
    rulebooks = RulebookHolder(settings.rulebook_dir)
    models = ModelHolder(loader, settings.bundle_dir)
    models.try_load(rulebooks.current.topics)
    state = AppState(
        settings=settings,
        sessions=make_session_factory(make_engine(settings.database_url)),
        store=Store(settings.redis_url, settings.cache_size, lease_s=settings.lock_lease_s),
        metrics=Metrics(),
        rulebooks=rulebooks,
        models=models,
        inference_gate=threading.Semaphore(lanes),
    )
    state.publish_versions()
    return state
