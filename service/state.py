"""The service's runtime state, built once at start-up and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from rules.holder import RulebookHolder
from service.admission import Lanes, QueueDelay
from service.cache import Store
from service.classifier import ModelHolder, ModelLoader, load_bundle_model
from service.db import repository as repo
from service.db.session import make_engine, make_session_factory, transaction
from service.metrics import Metrics
from service.predictions import PredictionCache, prediction_k
from service.records import RecordWriter, SuggestRecord
from service.settings import Settings
from service.shadow import ShadowQueue, challenger_dir, refresh_challenger


@dataclass
class AppState:
    """Everything a request needs: settings, database sessions, cache, metrics, rules, model,
    the inference lanes (their queue delay), the suggest records' write-behind, and the
    challenger scored in shadow beside the model with its queue."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: Store
    metrics: Metrics
    rulebooks: RulebookHolder
    models: ModelHolder
    predictions: PredictionCache
    challenger: ModelHolder
    shadow: ShadowQueue
    lanes: Lanes
    records: RecordWriter
    reload_generation: int = 0  # the last reload announced to the workers that this one made

    def publish_versions(self) -> None:
        """Set the version gauges to what is loaded now."""
        model, challenger = self.models.current, self.challenger.current
        self.metrics.set_versions(
            model=(model.classifier.version, model.backend) if model else None,
            rulebook=self.rulebooks.current.version,
            challenger=challenger.classifier.version if challenger else None,
        )


def inference_sizes(settings: Settings) -> tuple[int, int]:
    """Return (threads of a lone inference, inferences at once) for one worker process.

    Both default to the worker's share of the cores, so that workers x threads <= cores; torch
    backends run one inference at a time.
    """
    cores = settings.worker_cores()
    threads = settings.inference_threads or cores
    lanes = settings.inference_lanes or cores
    return threads, lanes if settings.backend.startswith("onnx") else 1


def record_writer(
    sessions: sessionmaker[Session], settings: Settings, metrics: Metrics
) -> RecordWriter:
    """Return the write-behind of suggest records over `sessions` (started: it probes at once)."""

    def write(batch: list[SuggestRecord]) -> None:
        with transaction(sessions) as session:
            repo.add_suggest_records(
                session,
                tickets=[{**r.ticket, "created_at": r.at} for r in batch],
                decisions=[{**r.decision, "created_at": r.at} for r in batch],
            )

    def probe() -> None:
        with sessions() as session:
            session.execute(text("SELECT 1"))

    writer = RecordWriter(
        write,
        probe,
        linger_s=settings.record_linger_ms / 1000,
        capacity=settings.record_queue,
        on_commit=metrics.records_committed.inc,
    )
    writer.start()
    return writer


def bundle_loader(settings: Settings, threads: int, lanes: int) -> ModelLoader:
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
    threads, lane_count = inference_sizes(settings)
    loader = model_loader or bundle_loader(settings, threads, lane_count)
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
    delay = QueueDelay(
        settings.queue_target_ms / 1000, settings.queue_interval_ms / 1000, settings.queue_wait_s
    )
    lanes = Lanes(lane_count, delay)
    # Candidates beyond the suggestions shown: the runtime adds more to cover the probability.
    predictions = PredictionCache(
        store,
        metrics,
        lanes=lanes,
        ttl_s=settings.cache_ttl_s,
        k=prediction_k(settings.suggestions),
    )
    sessions = make_session_factory(make_engine(settings.database_url))
    state = AppState(
        settings=settings,
        sessions=sessions,
        store=store,
        metrics=metrics,
        rulebooks=rulebooks,
        models=models,
        predictions=predictions,
        challenger=challenger,
        shadow=ShadowQueue(metrics, settings.shadow_queue),
        lanes=lanes,
        records=record_writer(sessions, settings, metrics),
    )
    state.publish_versions()
    return state
