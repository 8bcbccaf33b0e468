"""POST /v1/suggest and POST /v1/autoreply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service import pipeline
from service.deps import AutoreplyKey, StateDep, SuggestKey
from service.schemas import AutoreplyResponse, ErrorOut, SuggestResponse, TicketIn
from service.views import json_response

router = APIRouter(prefix="/v1", tags=["tickets"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut},
    403: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


@router.post("/suggest", response_model=SuggestResponse, responses=ERRORS)
async def suggest(ticket: TicketIn, state: StateDep, _key: SuggestKey) -> Response:
    """Return the top-k rendered replies for the agent's screen, with topic, rule and trace."""
    return json_response(await pipeline.suggest(state, ticket))


@router.post("/autoreply", response_model=AutoreplyResponse, responses=ERRORS)
def autoreply(ticket: TicketIn, state: StateDep, _key: AutoreplyKey) -> Response:
    """Reply automatically when confident and allowed, else hand off with reasons and suggestions.

    Idempotent per ticket id: retries and concurrent calls return the same decision.
    """
    return json_response(pipeline.autoreply(state, ticket))
