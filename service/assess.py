"""Assessing a ticket without side effects: predict the topic, match the rules, render previews, decide."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from models.prediction import Prediction, TopicCandidate
from rules.facts import FactValueError
from rules.rulebook import Rulebook
from rules.templates import RenderError
from rules.topics import LOCALES
from service.classifier import LoadedModel, prediction_from_dict, prediction_to_dict
from service.decision import Proposal, Verdict, decide, unknown_line
from service.errors import InvalidTicket, ModelUnavailable
from service.replies import preview_outputs, render
from service.schemas import LevelOut, SuggestionOut, TicketIn, TopicOut
from service.settings import LineMode
from service.state import AppState

CONFIDENT_LEVEL = 0.9  # a topic level this probable is shown as what the model is sure of


@dataclass(frozen=True)
class Assessment:
    """Everything decided about a ticket before anything is written or sent."""

    ticket: TicketIn
    facts: dict[str, Any]
    rulebook: Rulebook
    model: LoadedModel | None
    prediction: Prediction | None
    proposals: tuple[Proposal, ...]
    verdict: Verdict
    mode: LineMode

    @property
    def locale(self) -> str:
        """Return the locale replies are rendered in (English for an unknown one)."""
        return reply_locale(self.ticket)

    @property
    def best(self) -> Proposal | None:
        """Return the proposal for the model's top topic."""
        return self.proposals[0] if self.proposals else None


def reply_locale(ticket: TicketIn) -> str:
    """Return the ticket's locale if templates have it, else English."""
    return ticket.locale if ticket.locale in LOCALES else "en"


def validate_facts(rulebook: Rulebook, ticket: TicketIn) -> dict[str, Any]:
    """Return the ticket's facts typed by the rulebook's schema; raise InvalidTicket naming each bad fact."""
    try:
        return rulebook.facts.validate(ticket.facts)
    except FactValueError as exc:
        details = [
            {"loc": ["body", "facts", name], "msg": msg} for name, msg in sorted(exc.errors.items())
        ]
        raise InvalidTicket(f"fix these facts: {exc}", details=details) from None


def assess(state: AppState, ticket: TicketIn) -> Assessment:
    """Return the assessment of a ticket (validated facts, prediction, proposals, verdict)."""
    rulebook = state.rulebooks.current
    facts = validate_facts(rulebook, ticket)
    mode = state.settings.line_modes.get(ticket.line, LineMode.OFF)
    model = state.models.current
    if model is None:
        raise ModelUnavailable(
            f"no model bundle is loaded ({state.models.error or 'not loaded yet'})"
        )
    if ticket.line not in rulebook.topics.lines or ticket.line not in model.classifier.lines:
        return Assessment(ticket, facts, rulebook, model, None, (), unknown_line(), mode)
    prediction = predict(state, model, ticket)
    locale = reply_locale(ticket)
    proposals = tuple(propose(rulebook, c, facts, locale) for c in prediction.candidates)
    verdict = decide(
        mode=mode,
        locale_known=ticket.locale in LOCALES,
        model_reasons=model.abstain(prediction),
        best=proposals[0] if proposals else None,
    )
    return Assessment(ticket, facts, rulebook, model, prediction, proposals, verdict, mode)


def predict(state: AppState, model: LoadedModel, ticket: TicketIn) -> Prediction:
    """Return the classifier's prediction, from the cache keyed by model version + text hash."""
    text_key = "\x1f".join([ticket.line, ticket.text, *ticket.dialogue]).encode()
    key = f"pred:{model.classifier.version}:{hashlib.sha256(text_key).hexdigest()}"
    cached = state.store.get_json(key)
    if cached is not None:
        state.metrics.cache.labels("hit").inc()
        return prediction_from_dict(cached)
    state.metrics.cache.labels("miss").inc()
    started = time.perf_counter()
    dialogues = [list(ticket.dialogue) or None]
    with state.inference_gate:
        prediction = model.classifier.predict(
            [ticket.text], ticket.line, k=state.settings.suggestions + 2, dialogues=dialogues
        )[0]
    state.metrics.inference.labels(model.backend).observe(time.perf_counter() - started)
    state.store.set_json(key, prediction_to_dict(prediction), state.settings.cache_ttl_s)
    return prediction


def propose(
    rulebook: Rulebook, candidate: TopicCandidate, facts: dict[str, Any], locale: str
) -> Proposal:
    """Return the rule match for one candidate topic and its rendered preview (or why it failed)."""
    node = rulebook.topics.get(candidate.path)
    match = rulebook.evaluate(candidate.path, facts)
    template = rulebook.templates.get(match.template) if match.template else None
    text, error = None, None
    if template is not None:
        try:
            text = render(template, locale, facts, preview_outputs(template, locale, facts))
        except RenderError as exc:
            error = str(exc)
    return Proposal(candidate, bool(node and node.actionable), match, template, text, error)


def topic_out(candidate: TopicCandidate, rulebook: Rulebook, locale: str) -> TopicOut:
    """Return the API view of a predicted topic."""
    node = rulebook.topics.get(candidate.path)
    title = node.title.get(locale) or node.title.get("en") if node else None
    return TopicOut(
        path=candidate.path,
        prob=round(candidate.prob, 4),
        title=title,
        levels=[LevelOut(path=lv.path, prob=round(lv.prob, 4)) for lv in candidate.levels],
    )


def confident_path(prediction: Prediction | None) -> str | None:
    """Return the deepest level of the top topic the model is confident about, or None."""
    if prediction is None or not prediction.candidates:
        return None
    sure = [lv.path for lv in prediction.top.levels if lv.prob >= CONFIDENT_LEVEL]
    return sure[-1] if sure else None


def suggestions(assessment: Assessment, limit: int) -> list[SuggestionOut]:
    """Return up to `limit` rendered replies, best topic first, one per template."""
    out: list[SuggestionOut] = []
    seen: set[str] = set()
    locale = assessment.locale
    for index, proposal in enumerate(assessment.proposals):
        template, rule = proposal.template, proposal.match.rule
        if template is None or rule is None or proposal.text is None or template.id in seen:
            continue
        seen.add(template.id)
        out.append(
            SuggestionOut(
                template_id=template.id,
                title=template.title,
                locale=locale,
                text=proposal.text,
                topic=topic_out(proposal.topic, assessment.rulebook, locale),
                rule_id=rule.id,
                autoreply_allowed=index == 0
                and assessment.verdict.would_reply
                and assessment.mode is LineMode.ON,
                trace=proposal.match.as_dict()["trace"],
            )
        )
        if len(out) == limit:
            break
    return out
