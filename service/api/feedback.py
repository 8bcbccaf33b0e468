"""POST /v1/feedback and GET /v1/decisions/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from service import pipeline
from service.deps import FeedbackKey, StateDep, SuggestKey
from service.feedback import record_feedback
from service.schemas import DecisionOut, ErrorOut, FeedbackIn, FeedbackResponse

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=201,
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def feedback(body: FeedbackIn, state: StateDep, _key: FeedbackKey) -> FeedbackResponse:
    """Store the agent's choice and the customer's CSAT as training labels."""
    return record_feedback(state, body)


@router.get(
    "/decisions/{decision_id}", response_model=DecisionOut, responses={404: {"model": ErrorOut}}
)
def decision(decision_id: str, state: StateDep, _key: SuggestKey) -> DecisionOut:
    """Return the full record of one decision: versions, topic, rule, template, reasons, trace."""
    return pipeline.get_decision(state, decision_id)
