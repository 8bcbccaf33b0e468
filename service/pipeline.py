"""The flows behind the routes: suggest, autoreply (idempotent, side effects once), feedback, reload."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rules.errors import RulebookError
from rules.loader import load_rulebook
from rules.templates import RenderError
from service.assess import (
    Assessment,
    assess,
    confident_path,
    suggestions,
    topic_out,
    validate_facts,
)
from service.db import repository as repo
from service.db.session import transaction
from service.decision import Action, Reason, Verdict
from service.errors import Conflict, Forbidden, InvalidTicket, NotFound, ReloadRefused
from service.replies import action_params, promo_outputs, render
from service.schemas import (
    AutoreplyResponse,
    DecisionOut,
    FeedbackIn,
    FeedbackResponse,
    ReplyOut,
    SuggestResponse,
    TicketIn,
)
from service.state import AppState

log = logging.getLogger("autoreply.decisions")


def _ticket_row(ticket: TicketIn) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "line": ticket.line,
        "locale": ticket.locale,
        "customer_id": ticket.customer_id,
        "text": ticket.text,
        "dialogue": list(ticket.dialogue),
        "facts": ticket.facts,
    }


def _decision_row(
    a: Assessment, *, decision_id: str, kind: str, verdict: Verdict, response: dict[str, Any]
) -> dict[str, Any]:
    best = a.best
    return {
        "id": decision_id,
        "ticket_id": a.ticket.id,
        "kind": kind,
        "autoreply_ticket_id": a.ticket.id if kind == "autoreply" else None,
        "action": verdict.action.value if kind == "autoreply" else "suggest",
        "mode": a.mode.value,
        "model_version": a.model.classifier.version if a.model else "",
        "rulebook_version": a.rulebook.version,
        "topic": best.topic.path if best else None,
        "confidence": round(best.topic.prob, 6) if best else None,
        "rule_id": best.match.rule.id if best and best.match.rule else None,
        "template_id": best.match.template if best else None,
        "reasons": list(verdict.reasons),
        "trace": {
            "match": best.match.as_dict() if best else None,
            "guard": a.prediction.guard if a.prediction else None,
            "margin": round(a.prediction.margin, 6) if a.prediction else None,
            "would_reply": verdict.would_reply,
        },
        "suggestions": response.get("suggestions", []),
        "response": response,
    }


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
        a.best.topic.path if a.best else None,
        ",".join(verdict.reasons) or "-",
    )


def suggest(state: AppState, ticket: TicketIn) -> SuggestResponse:
    """Return the top-k rendered replies for the agent's screen, and record the decision."""
    a = assess(state, ticket)
    decision_id = repo.new_id()
    response = SuggestResponse(
        decision_id=decision_id,
        ticket_id=ticket.id,
        model_version=a.model.classifier.version if a.model else None,
        rulebook_version=a.rulebook.version,
        topic=topic_out(a.best.topic, a.rulebook, a.locale) if a.best else None,
        confident_path=confident_path(a.prediction),
        guard={k: round(v, 4) for k, v in (a.prediction.guard if a.prediction else {}).items()},
        autoreply_allowed=a.verdict.would_reply and a.verdict.action is Action.REPLY,
        reasons=list(a.verdict.reasons),
        suggestions=suggestions(a, state.settings.suggestions),
    )
    with transaction(state.sessions) as session:
        repo.save_ticket(session, ticket=_ticket_row(ticket))
        repo.add_decision(
            session,
            record=_decision_row(
                a,
                decision_id=decision_id,
                kind="suggest",
                verdict=a.verdict,
                response=response.model_dump(mode="json"),
            ),
        )
    _count(state, a, "suggest", a.verdict, decision_id)
    return response


def autoreply(state: AppState, ticket: TicketIn) -> AutoreplyResponse:
    """Decide on a ticket and, when confident and allowed, reply; exactly one decision per ticket.

    A retry, or a concurrent call, gets the recorded decision back: the first call takes a lock
    on the ticket id, and the database's unique constraint settles any race the lock misses.
    """
    validate_facts(state.rulebooks.current, ticket)  # bad input: a 422 before anything is stored
    recorded = _recorded(state, ticket.id)
    if recorded is not None:
        return recorded
    with state.store.lock(f"lock:autoreply:{ticket.id}", state.settings.lock_ttl_s):
        recorded = _recorded(state, ticket.id)
        if recorded is not None:
            return recorded
        a = assess(state, ticket)
        try:
            try:
                return _commit(state, a, a.verdict)
            except _ActFailed as failed:  # its hand-off may lose the race too: same handling
                return _commit(state, a, a.verdict.handoff(failed.reason))
        except IntegrityError:
            winner = _recorded(state, ticket.id)
            if winner is None:
                raise
            return winner


def _recorded(state: AppState, ticket_id: str) -> AutoreplyResponse | None:
    with state.sessions() as session:
        decision = repo.get_autoreply_decision(session, ticket_id=ticket_id)
        return AutoreplyResponse.model_validate(decision.response) if decision else None


class _ActFailed(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _commit(state: AppState, a: Assessment, verdict: Verdict) -> AutoreplyResponse:
    """Record the decision and, for a reply, issue its promo code and store the text, in one transaction."""
    decision_id = repo.new_id()
    with transaction(state.sessions) as session:
        repo.save_ticket(session, ticket=_ticket_row(a.ticket))
        reply = _act(state, session, a) if verdict.action is Action.REPLY else None
        response = AutoreplyResponse(
            decision_id=decision_id,
            ticket_id=a.ticket.id,
            action=verdict.action.value,
            mode=a.mode.value,
            reply=reply,
            reasons=list(verdict.reasons),
            topic=topic_out(a.best.topic, a.rulebook, a.locale) if a.best else None,
            suggestions=suggestions(a, state.settings.suggestions),
            model_version=a.model.classifier.version if a.model else None,
            rulebook_version=a.rulebook.version,
        )
        repo.add_decision(
            session,
            record=_decision_row(
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
    assert best is not None and best.template is not None  # a reply verdict always has both
    template, outputs, code = best.template, {}, None
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
        text = render(template, a.ticket.locale, a.facts, outputs)
    except RenderError:
        raise _ActFailed(Reason.RENDER_FAILED) from None
    return ReplyOut(template_id=template.id, locale=a.ticket.locale, text=text, promo_code=code)


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


def get_decision(state: AppState, decision_id: str) -> DecisionOut:
    """Return the full record of one decision."""
    with state.sessions() as session:
        decision = repo.get_decision(session, decision_id=decision_id)
        if decision is None:
            raise NotFound(f"no decision '{decision_id}'")
        return DecisionOut.model_validate(decision, from_attributes=True)


def reload(
    state: AppState, *, rules: bool, model: bool, rulebook_dir: str | None, bundle_dir: str | None
) -> dict[str, Any]:
    """Swap in a new rulebook and/or model; anything broken is refused and the old ones keep serving.

    Both are loaded and checked against each other (the model's topics must be the rulebook's)
    before either is swapped in.
    """
    _check_reload_dirs(state, rulebook_dir, bundle_dir)
    rulebook = state.rulebooks.current
    if rules:
        try:
            rulebook = load_rulebook(Path(rulebook_dir) if rulebook_dir else state.rulebooks.root)
        except RulebookError as exc:
            raise ReloadRefused(
                "the new rulebook was refused; the old one keeps serving",
                details=[p.as_dict() for p in exc.problems],
            ) from None
    new_model = state.models.current
    try:
        if model:
            new_model = state.models.load(rulebook.topics, Path(bundle_dir) if bundle_dir else None)
        elif new_model is not None:
            new_model.check_topics(rulebook.topics)
    except Exception as exc:  # any bundle problem: refuse, keep what serves now
        raise ReloadRefused(f"refused, the old versions keep serving: {exc}") from None
    state.rulebooks.install(rulebook)
    if model and new_model is not None:
        state.models.install(new_model, Path(bundle_dir) if bundle_dir else None)
    state.publish_versions()
    return {
        "rulebook_version": rulebook.version,
        "model_version": new_model.classifier.version if new_model else None,
    }


def _check_reload_dirs(state: AppState, *requested: str | None) -> None:
    """Refuse a reload from a directory outside AUTOREPLY_RELOAD_ROOTS (any other server path)."""
    roots = [root.resolve() for root in state.settings.reload_roots]
    for directory in filter(None, requested):
        if not any(Path(directory).resolve().is_relative_to(root) for root in roots):
            raise Forbidden(
                f"reload reads only under {[str(r) for r in roots]} (AUTOREPLY_RELOAD_ROOTS)"
            )
