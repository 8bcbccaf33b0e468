"""Running the app: one uvicorn process, or N worker processes sharing the port.

With N workers each process loads its own model with threads and lanes sized to its share of
the cores (`service.state.inference_sizes`), Prometheus runs in multiprocess mode over a fresh
directory per start (so `/metrics` on any worker sums them all), and Redis is what the workers
share: the prediction cache, the ticket locks and the rate counters.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

from service.metrics import MULTIPROC_ENV
from service.settings import Settings

log = logging.getLogger("autoreply")


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Serve the app with `workers` processes (default: AUTOREPLY_WORKERS) until stopped."""
    import uvicorn

    if workers is not None:
        os.environ["AUTOREPLY_WORKERS"] = str(workers)  # the workers read it to size themselves
    settings = Settings()
    metrics_dir = (
        fresh_metrics_dir() if settings.workers > 1 or MULTIPROC_ENV in os.environ else None
    )
    if settings.workers > 1 and not settings.redis_url:
        log.warning(without_redis(settings.workers))
    try:
        uvicorn.run(
            "service.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=settings.workers,
            log_level="info",
            access_log=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def fresh_metrics_dir() -> str:
    """Create an empty directory for Prometheus' multiprocess files and point the workers at it.

    Fresh per start: files left by an earlier run would add its counts to this one's. Under
    PROMETHEUS_MULTIPROC_DIR when that is set, else under the system's temporary directory.
    """
    parent = os.environ.get(MULTIPROC_ENV)
    if parent:
        os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix="autoreply-metrics-", dir=parent or None)
    os.environ[MULTIPROC_ENV] = path
    return path


def without_redis(workers: int) -> str:
    """Return what running `workers` processes without Redis means, said at start-up."""
    return (
        f"AUTOREPLY_REDIS_URL is unset with {workers} workers: each worker keeps its own "
        "prediction cache (a repeated text may run the model once per worker), its own ticket "
        f"locks and its own rate counters (a key may send up to {workers} x "
        "AUTOREPLY_RATE_LIMIT_PER_MINUTE a minute). Two workers deciding one ticket at once are "
        "settled by the database's unique constraint: one decision, one promo code, the loser "
        "answers the winner's decision after doing the work twice. Set AUTOREPLY_REDIS_URL to "
        "share them."
    )
