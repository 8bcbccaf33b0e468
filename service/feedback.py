"""Feedback: the agent's choice and the customer's CSAT, stored as training labels."""

from __future__ import annotations

from typing import Any

from service.db import repository as repo
from service.db.session import transaction
from service.errors import Conflict, InvalidTicket, NotFound
from service.schemas import FeedbackIn, FeedbackResponse
from service.state import AppState


def record_feedback(state: AppState, feedback: FeedbackIn) -> FeedbackResponse:
    """Store the agent's choice and the CSAT as labels; refuse references that do not exist."""
    rulebook = state.rulebooks.current
    problems: list[dict[str, Any]] = []
    if feedback.template_id is not None and feedback.template_id not in rulebook.templates:
        problems.append(
            {"loc": ["body", "template_id"], "msg": f"unknown template '{feedback.template_id}'"}
        )
    leaf = rulebook.topics.get(feedback.topic) if feedback.topic else None
    if feedback.topic is not None and (leaf is None or not leaf.is_leaf):
        problems.append(
            {
                "loc": ["body", "topic"],
                "msg": f"'{feedback.topic}' is not a leaf topic of the rulebook",
            }
        )
    if problems:
        raise InvalidTicket(
            "fix the feedback: " + "; ".join(p["msg"] for p in problems), details=problems
        )
    with transaction(state.sessions) as session:
        if repo.get_ticket(session, ticket_id=feedback.ticket_id) is None:
            raise NotFound(
                f"no ticket '{feedback.ticket_id}': send it to /v1/suggest or /v1/autoreply first"
            )
        if feedback.decision_id is not None:
            decision = repo.get_decision(session, decision_id=feedback.decision_id)
            if decision is None or decision.ticket_id != feedback.ticket_id:
                raise Conflict(
                    f"decision '{feedback.decision_id}' is not a decision on ticket '{feedback.ticket_id}'"
                )
        row = repo.add_feedback(session, values=feedback.model_dump())
    return FeedbackResponse(id=row.id, ticket_id=row.ticket_id)
