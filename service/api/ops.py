"""Health, readiness, metrics and the admin reload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from service.deps import AdminKey, StateDep
from service.reload import reload_everywhere
from service.schemas import ErrorOut, ReloadIn
from service.shadow import challenger_dir
from service.state import AppState

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Return ok while the process serves HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep, response: Response) -> dict[str, Any]:
    """Say whether the model, rulebook, database and Redis are usable; 503 when a required one is not."""
    model = state.models.current
    checks: dict[str, Any] = {
        "model": {
            "ok": model is not None,
            "version": model.classifier.version if model else None,
            "backend": model.backend if model else None,
            "error": state.models.error,
        },
        "rulebook": {"ok": True, "version": state.rulebooks.current.version},
        "challenger": challenger_check(state),
    }
    try:
        with state.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # any database failure is reported, not raised
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    redis_up = state.store.redis_up
    state.metrics.redis_up.set(1 if redis_up else 0)
    # Redis is optional: without it the service answers on in-process fallbacks (and says so).
    checks["redis"] = {
        "ok": redis_up or not state.store.configured,
        "configured": state.store.configured,
        "up": redis_up,
        "degraded": state.store.configured and not redis_up,
    }
    ready = all(checks[name]["ok"] for name in ("model", "rulebook", "database"))
    response.status_code = 200 if ready else 503
    return {"ready": ready, "checks": checks}


def challenger_check(state: AppState) -> dict[str, Any]:
    """Return the challenger scored in shadow, if any; never a reason to be unready."""
    challenger = state.challenger.current
    path = challenger_dir(state.settings)
    return {
        "ok": True,
        "path": str(path) if path else None,
        "version": challenger.classifier.version if challenger else None,
        "pending": state.shadow.pending,
        "error": state.challenger.error,
    }


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(state: StateDep) -> Response:
    """Return the Prometheus metrics."""
    state.metrics.redis_up.set(1 if state.store.redis_up else 0)
    body, content_type = state.metrics.exposition()
    return Response(body, media_type=content_type)


@router.post("/v1/admin/reload", responses={409: {"model": ErrorOut}})
def reload(body: ReloadIn, state: StateDep, _key: AdminKey) -> dict[str, Any]:
    """Swap the rulebook and/or the model atomically; a broken version is refused with its errors.

    With worker processes, this one reloads and the others follow within a second.
    """
    return reload_everywhere(
        state,
        rules=body.rules,
        model=body.model,
        rulebook_dir=body.rulebook_dir,
        bundle_dir=body.bundle_dir,
    )
