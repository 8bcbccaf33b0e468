"""Running the app: one uvicorn process, or N worker processes sharing the port.

With N workers each process loads its own model with threads and lanes sized to its share of
the cores (`service.state.inference_sizes`); a fresh directory per start holds what they share
on disk: Prometheus' multiprocess files (so `/metrics` on any worker sums them all) and the
admin reloads they follow. Redis is what they share otherwise: the prediction cache, the ticket
locks and the rate counters.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from service.metrics import MULTIPROC_ENV
from service.settings import Settings

log = logging.getLogger("autoreply")


def serve(host: str, port: int, workers: int | None = None) -> None:
    """Serve the app with `workers` processes (default: AUTOREPLY_WORKERS) until stopped."""
    import uvicorn

    if workers is not None:
        os.environ["AUTOREPLY_WORKERS"] = str(workers)  # the workers read it to size themselves
    settings = Settings()
    run_dir = fresh_run_dir() if settings.workers > 1 or MULTIPROC_ENV in os.environ else None
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
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)


def fresh_run_dir() -> Path:
    """Create this start's directory and point the workers at it: Prometheus' multiprocess files
    (`metrics/`) and the admin reloads they share (`service.reload`).

    Fresh per start: files left by an earlier run would add its counts to this one's. Under
    PROMETHEUS_MULTIPROC_DIR when that is set, else under the system's temporary directory.
    """
    parent = os.environ.get(MULTIPROC_ENV)
    if parent:
        os.makedirs(parent, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="autoreply-run-", dir=parent or None))
    (run_dir / "metrics").mkdir()
    os.environ[MULTIPROC_ENV] = str(run_dir / "metrics")
    os.environ["AUTOREPLY_RUN_DIR"] = str(run_dir)
    return run_dir


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
