"""FastAPI dependencies as Annotated aliases: the app state and API-key scopes.

They are coroutines: FastAPI runs a plain function dependency in its thread pool, a hop that
cost more than the work. Only a rate count that goes over the network (Redis) takes a thread.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.errors import Forbidden, RateLimited, Unauthorized
from service.settings import Settings, hash_key
from service.state import AppState


async def get_state(request: Request) -> AppState:
    """Return the app's runtime state."""
    state: AppState = request.app.state.autoreply
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


def scopes_for(settings: Settings, key: str) -> list[str] | None:
    """Return the key's scopes, comparing digests in constant time against every configured key."""
    digest = hash_key(key)
    found = None
    for configured, scopes in settings.api_keys.items():
        if hmac.compare_digest(configured, digest):
            found = scopes
    return found


def authenticate(request: Request, state: AppState) -> tuple[str, list[str]]:
    """Return the presented API key and its scopes; raise Unauthorized for none or an unknown one."""
    key = _presented_key(request)
    if not key:
        raise Unauthorized("send an API key in the X-API-Key header (or Authorization: Bearer)")
    scopes = scopes_for(state.settings, key)
    if scopes is None:
        raise Unauthorized("unknown API key")
    return key, scopes


def require(scope: str) -> Callable[[Request, AppState], Awaitable[str]]:
    """Return a dependency that admits only keys holding `scope` (401 no key, 403 wrong scope)."""

    async def check(request: Request, state: StateDep) -> str:
        key, scopes = authenticate(request, state)
        if scope not in scopes:
            raise Forbidden(f"this API key lacks the '{scope}' scope")
        key_id = hash_key(key)[:12]
        if await _count_request(state, key_id) > state.settings.rate_limit_per_minute:
            raise RateLimited(
                "too many requests for this API key this minute", details={"retry_after_s": 60}
            )
        return key_id

    return check


async def _count_request(state: AppState, key_id: str) -> int:
    """Count a request of this key this minute: in a thread when the count lives in Redis."""
    if state.store.configured:
        return await run_in_threadpool(state.store.hit, f"key:{key_id}")
    return state.store.hit(f"key:{key_id}")


SuggestKey = Annotated[str, Depends(require("suggest"))]
AutoreplyKey = Annotated[str, Depends(require("autoreply"))]
FeedbackKey = Annotated[str, Depends(require("feedback"))]
AdminKey = Annotated[str, Depends(require("admin"))]
