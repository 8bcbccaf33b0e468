"""The ticket flows behind the routes, one way through: validate -> predict -> assess -> act -> record.

Each step is owned by one module and returns plain values: the facts are typed once here, the
prediction comes from `service.predictions`, the decision from the pure `service.assess`, the
answer and the record are shaped by `service.views`, and everything is written in one
transaction at the end. When a challenger is loaded, its assessment of the same ticket is queued
last (`service.shadow`), once the answer is determined: recorded, never sent.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.prediction import Prediction
from rules.rulebook import Rulebook
from rules.templates import RenderError
from service.assess import Assessment, assess, validate_facts
from service.classifier import LoadedModel
from service.db import repository as repo
from service.db.session import transaction
from service.db.shadow import add_shadow_decision
from service.decision import Action, Reason, Verdict
from service.errors import ModelUnavailable, NotFound
from service.records import SuggestRecord
from service.replies import action_params, promo_outputs, render
from service.schemas import AutoreplyResponse, DecisionOut, ReplyOut, SuggestResponse, TicketIn
from service.settings import LineMode
from service.state import AppState
from service.views import (
    autoreply_response,
    decision_row,
    shadow_row,
    suggest_response,
    ticket_row,
)

log = logging.getLogger("autoreply.decisions")


def current_model(state: AppState) -> LoadedModel:
    """Return the model in use; 503 while none is loaded."""
    model = state.models.current
    if model is None:
        raise ModelUnavailable(
            f"no model bundle is loaded ({state.models.error or 'not loaded yet'})"
        )
    return model


def serves(model: LoadedModel, ticket: TicketIn, rulebook: Rulebook) -> bool:
    """Return whether both the rulebook and the model know the ticket's line."""
    return ticket.line in rulebook.topics.lines and ticket.line in model.classifier.lines


def assess_with(
    state: AppState,
    model: LoadedModel,
    ticket: TicketIn,
    rulebook: Rulebook,
    facts: dict[str, Any],
    prediction: Prediction | None,
) -> Assessment:
    """Return one model's assessment of a ticket from its prediction: the pure decision."""
    return assess(
        ticket=ticket,
        facts=facts,
        rulebook=rulebook,
        policy=model.policy,
        model_version=model.classifier.version,
        prediction=prediction,
        mode=state.settings.line_modes.get(ticket.line, LineMode.OFF),
        limit=state.settings.suggestions,
    )


def predicted(
    state: AppState, model: LoadedModel, ticket: TicketIn, rulebook: Rulebook
) -> Prediction | None:
    """Return the model's prediction for a ticket it serves, in this thread (None: not served)."""
    return state.predictions.predict(model, ticket) if serves(model, ticket, rulebook) else None


def assess_ticket(
    state: AppState, ticket: TicketIn, rulebook: Rulebook, facts: dict[str, Any]
) -> Assessment:
    """Return the champion's assessment of a ticket whose facts are typed, in this thread."""
    model = current_model(state)
    return assess_with(
        state, model, ticket, rulebook, facts, predicted(state, model, ticket, rulebook)
    )


async def suggest(state: AppState, ticket: TicketIn) -> SuggestResponse:
    """Return the top-k rendered replies for the agent's screen; its record is written behind.

    On the event loop: only the model's native call leaves it (`PredictionCache.predict_async`).
    """
    rulebook = state.rulebooks.current
    facts = validate_facts(rulebook, ticket.facts)  # bad input: a 422 before anything is stored
    state.records.check()  # a database known to be down: 503 before the model runs
    model = current_model(state)
    prediction = (
        await state.predictions.predict_async(model, ticket)
        if serves(model, ticket, rulebook)
        else None
    )
    a = assess_with(state, model, ticket, rulebook, facts, prediction)
    decision_id = repo.new_id()
    response = suggest_response(a, decision_id)
    record = decision_row(
        a,
        decision_id=decision_id,
        kind="suggest",
        verdict=a.verdict,
        response=response.model_dump(mode="json"),
    )
    state.records.submit(SuggestRecord(ticket_row(a), record, repo.utcnow()))
    _count(state, a, "suggest", a.verdict, decision_id)
    _shadow(state, a, rulebook, decision_id, "suggest")
    return response


def autoreply(state: AppState, ticket: TicketIn) -> AutoreplyResponse:
    """Decide on a ticket and, when confident and allowed, reply; exactly one decision per ticket.

    A retry, or a concurrent call, gets the recorded decision back: the first call takes a lock
    on the ticket id, and the database's unique constraint settles any race the lock misses.
    """
    rulebook = state.rulebooks.current
    facts = validate_facts(rulebook, ticket.facts)  # bad input: a 422 before anything is stored
    recorded = _recorded(state, ticket.id)
    if recorded is not None:
        return recorded
    with state.store.lock(f"lock:autoreply:{ticket.id}", state.settings.lock_ttl_s):
        recorded = _recorded(state, ticket.id)
        if recorded is not None:
            return recorded
        a = assess_ticket(state, ticket, rulebook, facts)
        try:
            try:
                response = _commit(state, a, a.verdict)
            except _ActFailed as failed:
                response = _commit(state, a, a.verdict.handoff(failed.reason))
        except IntegrityError:  # another process recorded this ticket first: its decision wins
            winner = _recorded(state, ticket.id)
            if winner is None:
                raise
            return winner
    _shadow(state, a, rulebook, response.decision_id, "autoreply")
    return response


def get_decision(state: AppState, decision_id: str) -> DecisionOut:
    """Return the full record of one decision (a suggestion made just before included)."""
    state.records.flush()
    with state.sessions() as session:
        decision = repo.get_decision(session, decision_id=decision_id)
        if decision is None:
            raise NotFound(f"no decision '{decision_id}'")
        return DecisionOut.model_validate(decision, from_attributes=True)


def _recorded(state: AppState, ticket_id: str) -> AutoreplyResponse | None:
    with state.sessions() as session:
        response = repo.get_autoreply_response(session, ticket_id=ticket_id)
    return AutoreplyResponse.model_validate(response) if response is not None else None


class _ActFailed(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _commit(state: AppState, a: Assessment, verdict: Verdict) -> AutoreplyResponse:
    """Record the decision and, for a reply, issue its promo code and store the text, in one transaction."""
    decision_id = repo.new_id()
    with transaction(state.sessions) as session:
        repo.save_ticket(session, ticket=ticket_row(a))
        reply = _act(state, session, a) if verdict.action is Action.REPLY else None
        response = autoreply_response(a, decision_id, verdict, reply)
        repo.add_decision(
            session,
            record=decision_row(
                a,
                decision_id=decision_id,
                kind="autoreply",
                verdict=verdict,
                response=response.model_dump(mode="json"),
            ),
        )
        if reply is not None:
            repo.add_reply(
                session,
                decision_id=decision_id,
                ticket_id=a.ticket.id,
                template_id=reply.template_id,
                locale=reply.locale,
                text=reply.text,
            )
    _count(state, a, "autoreply", verdict, decision_id)
    if reply is not None and reply.promo_code:
        state.metrics.promo_codes.labels(a.ticket.line).inc()
    return response


def _act(state: AppState, session: Session, a: Assessment) -> ReplyOut:
    """Run the template's action and render the final text; raise _ActFailed to hand off instead."""
    best = a.best
    template = best.proposal.template if best else None
    assert template is not None  # a reply verdict always has a best reply with its template
    outputs, code = {}, None
    try:
        params = action_params(template, a.facts)
        if params is not None:
            promo = repo.issue_promo_code(
                session,
                request=repo.PromoRequest(
                    ticket_id=a.ticket.id,
                    customer_id=a.ticket.customer_id,
                    value=int(params["value"]),
                    currency=str(params["currency"]),
                    days_valid=int(params["days_valid"]),
                ),
                cap=state.settings.promo_cap,
                window_days=state.settings.promo_window_days,
            )
            if promo is None:
                raise _ActFailed(Reason.PROMO_CAP_REACHED)
            code = promo.code
            outputs = promo_outputs(
                promo.code, promo.value, promo.currency, promo.expires_at.date()
            )
        text = render(template, a.locale, a.facts, outputs)
    except RenderError:
        raise _ActFailed(Reason.RENDER_FAILED) from None
    return ReplyOut(template_id=template.id, locale=a.locale, text=text, promo_code=code)


def _count(state: AppState, a: Assessment, kind: str, verdict: Verdict, decision_id: str) -> None:
    """Count the decision in the metrics and log it by id (never the text, the facts or a key)."""
    line = a.ticket.line if a.ticket.line in state.settings.line_modes else "unknown"
    action = verdict.action.value if kind == "autoreply" else "suggest"
    state.metrics.decisions.labels(line, kind, action).inc()
    for reason in verdict.reasons:
        state.metrics.reasons.labels(line, reason).inc()
    log.info(
        "decision %s kind=%s line=%s action=%s topic=%s reasons=%s",
        decision_id,
        kind,
        line,
        action,
        a.topic.path if a.topic else None,
        ",".join(verdict.reasons) or "-",
    )


def _shadow(
    state: AppState, a: Assessment, rulebook: Rulebook, decision_id: str, kind: str
) -> None:
    """Queue the challenger's assessment of a ticket the champion decided (when one is loaded)."""
    challenger = state.challenger.current
    if challenger is not None:
        state.shadow.submit(
            partial(score_challenger, state, challenger, a, rulebook, decision_id, kind)
        )


def score_challenger(
    state: AppState,
    challenger: LoadedModel,
    champion: Assessment,
    rulebook: Rulebook,
    decision_id: str,
    kind: str,
) -> None:
    """Record what the challenger would have decided on a ticket the champion decided: the same
    ticket, facts and rulebook through the same decision code; nothing is sent."""
    ticket = champion.ticket
    prediction = predicted(state, challenger, ticket, rulebook)
    shadow = assess_with(state, challenger, ticket, rulebook, champion.facts, prediction)
    if kind == "suggest":  # its decision row is written behind: the shadow row refers to it
        state.records.flush()
    with transaction(state.sessions) as session:
        add_shadow_decision(
            session, record=shadow_row(champion, shadow, decision_id=decision_id, kind=kind)
        )
