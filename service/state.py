"""The service's runtime state, built once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from rules.holder import RulebookHolder
from service.cache import Store
from service.classifier import ModelHolder, ModelLoader, load_bundle_model
from service.db.session import make_engine, make_session_factory
from service.metrics import Metrics
from service.predictions import PredictionCache, prediction_k
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
    predictions: PredictionCache

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
    store = Store(settings.redis_url, settings.cache_size, lease_s=settings.lock_lease_s)
    metrics = Metrics()
    # Candidates beyond the suggestions shown: the runtime adds more to cover the probability.
    predictions = PredictionCache(
        store,
        metrics,
        lanes=lanes,
        ttl_s=settings.cache_ttl_s,
        k=prediction_k(settings.suggestions),
    )
    state = AppState(
        settings=settings,
        sessions=make_session_factory(make_engine(settings.database_url)),
        store=store,
        metrics=metrics,
        rulebooks=rulebooks,
        models=models,
        predictions=predictions,
    )
    state.publish_versions()
    return state
