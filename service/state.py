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
from service.shadow import ShadowQueue, challenger_dir, refresh_challenger


@dataclass
class AppState:
    """Everything a request needs: settings, database sessions, cache, metrics, rules, model, and
    the challenger scored in shadow beside the model with its queue."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: Store
    metrics: Metrics
    rulebooks: RulebookHolder
    models: ModelHolder
    predictions: PredictionCache
    challenger: ModelHolder
    shadow: ShadowQueue

    def publish_versions(self) -> None:
        """Set the version gauges to what is loaded now."""
        model, challenger = self.models.current, self.challenger.current
        self.metrics.set_versions(
            model=(model.classifier.version, model.backend) if model else None,
            rulebook=self.rulebooks.current.version,
            challenger=challenger.classifier.version if challenger else None,
        )


def inference_lanes(settings: Settings) -> int:
    """Return how many inferences may run at once: the ONNX lanes, or one for torch."""
    return settings.inference_lanes if settings.backend.startswith("onnx") else 1


def bundle_loader(settings: Settings, threads: int | None, lanes: int) -> ModelLoader:
    """Return the loader of real bundles on the configured backend, with this many threads."""
    return partial(
        load_bundle_model,
        backend=settings.backend,
        threads=threads,
        lanes=lanes,
        min_margin=settings.min_margin,
    )


def build_state(settings: Settings, model_loader: ModelLoader | None = None) -> AppState:
    """Connect to the database and cache, load the rulebook and (if present) the model bundle and
    the challenger."""
    lanes = inference_lanes(settings)
    loader = model_loader or bundle_loader(settings, settings.inference_threads, lanes)
    rulebooks = RulebookHolder(settings.rulebook_dir)
    models = ModelHolder(loader, settings.bundle_dir)
    models.try_load(rulebooks.current.topics)
    # The challenger is scored one ticket at a time in the background: one core is all it takes.
    challenger = ModelHolder(
        model_loader or bundle_loader(settings, 1, 1),
        challenger_dir(settings) or settings.bundle_dir,
    )
    refresh_challenger(challenger, settings, rulebooks.current.topics)
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
        challenger=challenger,
        shadow=ShadowQueue(metrics, settings.shadow_queue),
    )
    state.publish_versions()
    return state
