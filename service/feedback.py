"""Feedback: the agent's choice and the customer's CSAT, stored as training labels."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from service.db import repository as repo
from service.db.session import transaction
from service.errors import Conflict, InvalidTicket, NotFound
from service.schemas import FeedbackIn, FeedbackResponse
from service.state import AppState


def record_feedback(state: AppState, feedback: FeedbackIn) -> FeedbackResponse:
    """Store the agent's choice and the CSAT as labels; refuse references that do not exist.

    Feedback carrying an idempotency key already stored returns the stored row: a form sent
    twice records once, and the unique key settles two copies that race.
    """
    _check_references(state, feedback)
    state.records.flush()  # the suggestion it answers may still be on its way to the database
    replayed = _replayed(state, feedback)
    if replayed is not None:
        return replayed
    try:
        return _insert(state, feedback)
    except IntegrityError:
        replayed = _replayed(state, feedback)
        if replayed is None:
            raise
        return replayed


def _check_references(state: AppState, feedback: FeedbackIn) -> None:
    """Raise InvalidTicket naming every template or topic the rulebook does not have."""
    rulebook = state.rulebooks.current
    problems: list[dict[str, Any]] = []
    for field in ("template_id", "wrong_template_id"):
        template_id = getattr(feedback, field)
        if template_id is not None and template_id not in rulebook.templates:
            problems.append({"loc": ["body", field], "msg": f"unknown template '{template_id}'"})
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


def _replayed(state: AppState, feedback: FeedbackIn) -> FeedbackResponse | None:
    """Return the row already stored under this feedback's idempotency key, if any."""
    if feedback.idempotency_key is None:
        return None
    with state.sessions() as session:
        row = repo.get_feedback_by_key(session, idempotency_key=feedback.idempotency_key)
    if row is None:
        return None
    if row.ticket_id != feedback.ticket_id:
        raise Conflict("this idempotency key was already used for another ticket")
    return FeedbackResponse(id=row.id, ticket_id=row.ticket_id)


def _insert(state: AppState, feedback: FeedbackIn) -> FeedbackResponse:
    """Insert the feedback row once its ticket and decision are known to exist."""
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
