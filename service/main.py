"""The FastAPI app: routes, the error tree mapped to HTTP in one place, metrics and load shedding."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import feedback, ops, tickets
from service.classifier import ModelLoader
from service.errors import Overloaded, RateLimited, ServiceError
from service.settings import Settings
from service.state import AppState, build_state

log = logging.getLogger("autoreply")


def _error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, "details": details}, status_code=status, headers=headers
    )


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = {"Retry-After": "60"} if isinstance(exc, RateLimited) else None
    headers = {"Retry-After": "1"} if exc.status == 503 else headers
    return _error(exc.status, exc.code, exc.message, exc.details, headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    where = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in details)
    return _error(422, "invalid_request", f"fix the request: {where}", details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode (bad UTF-8, bad JSON)
        return _error(
            422, "invalid_request", "fix the request: the body must be JSON encoded as UTF-8"
        )
    return _error(exc.status_code, "http_error", str(exc.detail), headers=dict(exc.headers or {}))


class Guard:
    """ASGI middleware: count requests and latency per route, and shed load past the queue depth."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics, status = self.state.metrics, 500
        if self.inflight >= self.state.settings.max_inflight:
            metrics.shed.inc()
            overloaded = Overloaded("the service is at its queue depth; retry shortly")
            await _error(503, overloaded.code, overloaded.message, headers={"Retry-After": "1"})(
                scope, receive, send
            )
            return

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.inflight += 1
        metrics.inflight.set(self.inflight)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.inflight -= 1
            metrics.inflight.set(self.inflight)
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.requests.labels(route, scope["method"], str(status)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)


def create_app(
    settings: Settings | None = None,
    *,
    state: AppState | None = None,
    model_loader: ModelLoader | None = None,
) -> FastAPI:
    """Return the app; builds the runtime state (database, cache, rulebook, model) unless given."""
    settings = settings or Settings()
    state = state or build_state(settings, model_loader)
    app = FastAPI(
        title="autoreply",
        version="0.1.0",
        description="Suggest replies to support agents and answer tickets automatically when "
        "confident and allowed. Authenticate with an API key in `X-API-Key`.",
    )
    app.state.autoreply = state
    app.include_router(tickets.router)
    app.include_router(feedback.router)
    app.include_router(ops.router)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(Guard, state=state)
    return app
