"""The FastAPI app: routes, the error tree mapped to HTTP in one place, metrics and load shedding."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from service import console
from service.admission import Admission, Shed
from service.api import feedback, ops, tickets
from service.classifier import ModelLoader
from service.db.session import database_outage
from service.deps import authenticate
from service.errors import (
    BodyTooLarge,
    DatabaseUnavailable,
    Overloaded,
    RateLimited,
    ServiceError,
    Unauthorized,
    log_unexpected,
)
from service.metrics import forget_dead_workers, leave_as_worker
from service.schemas import facts_json_schema
from service.settings import Settings
from service.state import AppState, build_state
from service.watch import SHADOW_DRAIN_S, following_reloads, watching_pointer

log = logging.getLogger("autoreply")
OVERLOADED = JSONResponse(
    {
        "error": Overloaded.code,
        "message": "the service is overloaded; retry shortly",
        "details": None,
    },
    status_code=503,
    headers={"Retry-After": "1"},
)
# Probes and the scrape must answer on a busy instance, or an orchestrator kills a healthy one.
UNSHED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The routes that queue for an inference lane: only they are refused for the lanes' queue.
INFERENCE_PATHS = frozenset({"/v1/suggest", "/v1/autoreply"})


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


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lost database is a 503 to retry; any other database error is a bug, logged without values."""
    assert isinstance(exc, SQLAlchemyError)
    if database_outage(exc):
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        failure = DatabaseUnavailable("the database is unavailable; nothing was recorded, retry")
        return await _service_error(request, failure)
    log_unexpected(exc, request.url.path)
    return _error(500, "internal_error", "an unexpected error; it is logged")


def _unauthenticated(request: Request) -> Unauthorized | None:
    """Return the 401 a /v1 request without a valid key gets, whatever its body (even bad JSON)."""
    if not request.url.path.startswith("/v1/"):
        return None
    try:
        authenticate(request, request.app.state.autoreply)
    except Unauthorized as refused:
        return refused
    return None


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if refused := _unauthenticated(request):  # who asks comes before what is asked
        return await _service_error(request, refused)
    details = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    where = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in details)
    return _error(422, "invalid_request", f"fix the request: {where}", details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and (refused := _unauthenticated(request)):
        return await _service_error(request, refused)
    if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode (bad UTF-8, bad JSON)
        return _error(
            422, "invalid_request", "fix the request: the body must be JSON encoded as UTF-8"
        )
    return _error(exc.status_code, "http_error", str(exc.detail), headers=dict(exc.headers or {}))


class Guard:
    """ASGI middleware: count requests and latency per route, shed load (never the probes) when
    the lanes' queue stands over its target or past the admission caps, and answer any
    unexpected error in the error shape, logged without values.
    """

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state
        limits = state.settings
        self.admission = Admission(limits.max_inflight, limits.max_queued, limits.queue_wait_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics, status = self.state.metrics, 0
        counted = scope["path"] not in UNSHED_PATHS
        shed = await self._admit(scope["path"]) if counted else None
        if shed is not None:
            metrics.shed.labels(shed).inc()
            await OVERLOADED(scope, receive, send)
            return

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.inflight.set(self.admission.inflight)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        except Exception as exc:  # the last stop: no plain-text 500, no message in the logs
            log_unexpected(exc, scope["path"])
            if status == 0:
                await _error(500, "internal_error", "an unexpected error; it is logged")(
                    scope, receive, send_status
                )
        finally:
            if counted:
                self.admission.leave()
            metrics.inflight.set(self.admission.inflight)
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.requests.labels(route, scope["method"], str(status or 500)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)

    async def _admit(self, path: str) -> Shed | None:
        """Take a slot, or return why the request is shed.

        A refusal waits first (the queue target, or the slot wait), so that clients that resend
        at once cannot spin on 503s and take the cores the admitted requests need.
        """
        lanes = self.state.lanes
        if path in INFERENCE_PATHS and lanes.refusing():
            await asyncio.sleep(lanes.delay.target_s)
            return Shed.QUEUE_DELAY
        if not await self.admission.enter():
            return Shed.CAPACITY
        return None


class BodyLimit:
    """ASGI middleware: read the body up to `max_bytes` and refuse a larger one with 413 at once."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = int(dict(scope["headers"]).get(b"content-length", b"0"))
        body = await self._read(receive) if declared <= self.max_bytes else None
        if body is None:
            too_large = BodyTooLarge(f"the body is over {self.max_bytes} bytes")
            await _error(413, too_large.code, too_large.message)(scope, receive, send)
            return
        replay = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive_body() -> Any:
            return replay.pop() if replay else await receive()

        await self.app(scope, receive_body, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """Return the whole body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"".join(chunks)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return None
            more = message.get("more_body", False)
        return b"".join(chunks)


@asynccontextmanager
async def _lifespan(_app: FastAPI, *, state: AppState) -> AsyncIterator[None]:
    """Serve beside the pointer watch; on a clean shutdown commit every pending suggest record
    and give the shadow scorings still queued a moment to be recorded."""
    forget_dead_workers()
    async with watching_pointer(state), following_reloads(state):
        yield
    await asyncio.to_thread(state.records.close, state.settings.record_shutdown_s)
    await asyncio.to_thread(state.shadow.close, SHADOW_DRAIN_S)
    leave_as_worker()


def _openapi_with_rulebook(
    generate: Callable[[], dict[str, Any]], state: AppState
) -> dict[str, Any]:
    """Return the OpenAPI schema with the rulebook's vocabulary (facts, topics, templates) in it,
    so that what the schema allows is what the service accepts."""
    schema = copy.deepcopy(generate())
    rulebook, components = state.rulebooks.current, schema["components"]["schemas"]
    components["TicketIn"]["properties"]["facts"] = facts_json_schema(rulebook.facts)
    feedback = components["FeedbackIn"]["properties"]
    leaves = [path for line in rulebook.topics.lines for path in rulebook.topics.leaf_paths(line)]
    feedback["topic"]["anyOf"][0]["enum"] = leaves
    for name in ("template_id", "wrong_template_id"):
        feedback[name]["anyOf"][0]["enum"] = sorted(rulebook.templates)
    return schema


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
        lifespan=partial(_lifespan, state=state),
    )
    app.state.autoreply = state
    app.openapi = partial(_openapi_with_rulebook, app.openapi, state)  # type: ignore[method-assign]
    app.include_router(tickets.router)
    app.include_router(feedback.router)
    app.include_router(ops.router)
    console.install(app, settings)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    # The last added runs first: the guard sheds and counts before a body is read.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Guard, state=state)
    return app
