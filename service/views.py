"""One module shapes what leaves the service: the API responses and the decision record."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from models.prediction import Prediction, TopicCandidate
from rules.topics import TopicTree
from service.assess import Assessment
from service.decision import Action, Verdict
from service.schemas import (
    AutoreplyResponse,
    ConfidenceOut,
    LevelOut,
    ReplyOut,
    SuggestionOut,
    SuggestResponse,
    TopicOut,
)
from service.settings import LineMode

CONFIDENT_LEVEL = 0.9  # a topic level this probable is shown as what the model is sure of


def json_response(answer: BaseModel, status: int = 200) -> Response:
    """Return `answer` as the HTTP response, serialised once.

    The answer is already a valid response model: FastAPI would validate it again (in a second
    trip to its thread pool) and serialise it, which cost more than the work on a suggest.
    """
    return Response(answer.model_dump_json(), status, media_type="application/json")


def topic_out(candidate: TopicCandidate, topics: TopicTree, locale: str) -> TopicOut:
    """Return the API view of a predicted leaf with the probability at every level."""
    node = topics.get(candidate.path)
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


def confidence_out(a: Assessment) -> ConfidenceOut | None:
    """Return the decision-level confidence: the best template's probability and its threshold."""
    c = a.confidence
    if c is None or c.option is None or c.option.template is None:
        return None
    return ConfidenceOut(
        template_id=c.option.template,
        prob=round(c.prob, 4),
        leaves=list(c.option.leaves),
        margin=round(c.margin, 4),
        threshold=round(c.threshold, 4) if c.threshold is not None else None,
        threshold_source=c.source,
    )


def suggestion_outs(a: Assessment) -> list[SuggestionOut]:
    """Return the rendered replies, best first; only the first can be sent automatically."""
    out: list[SuggestionOut] = []
    for index, s in enumerate(a.suggestions):
        rule, template = s.proposal.match.rule, s.proposal.template
        if template is None or rule is None or s.text is None:
            continue
        out.append(
            SuggestionOut(
                template_id=template.id,
                title=template.title,
                locale=a.locale,
                text=s.text,
                template_prob=round(s.option.prob, 4),
                topic=topic_out(s.proposal.topic, a.topics, a.locale),
                rule_id=rule.id,
                autoreply_allowed=index == 0 and a.verdict.would_reply and a.mode is LineMode.ON,
                trace=s.proposal.match.as_dict()["trace"],
            )
        )
    return out


def suggest_response(a: Assessment, decision_id: str) -> SuggestResponse:
    """Return the answer of /v1/suggest."""
    guard = a.prediction.guard if a.prediction else {}
    return SuggestResponse(
        decision_id=decision_id,
        ticket_id=a.ticket.id,
        model_version=a.model_version,
        rulebook_version=a.rulebook_version,
        topic=topic_out(a.topic, a.topics, a.locale) if a.topic else None,
        confidence=confidence_out(a),
        confident_path=confident_path(a.prediction),
        guard={k: round(v, 4) for k, v in guard.items()},
        autoreply_allowed=a.verdict.would_reply and a.verdict.action is Action.REPLY,
        reasons=list(a.verdict.reasons),
        suggestions=suggestion_outs(a),
    )


def autoreply_response(
    a: Assessment, decision_id: str, verdict: Verdict, reply: ReplyOut | None
) -> AutoreplyResponse:
    """Return the answer of /v1/autoreply for `verdict` (the reply, when one was sent)."""
    return AutoreplyResponse(
        decision_id=decision_id,
        ticket_id=a.ticket.id,
        action=verdict.action.value,
        mode=a.mode.value,
        reply=reply,
        reasons=list(verdict.reasons),
        topic=topic_out(a.topic, a.topics, a.locale) if a.topic else None,
        confidence=confidence_out(a),
        suggestions=suggestion_outs(a),
        model_version=a.model_version,
        rulebook_version=a.rulebook_version,
    )


def ticket_row(a: Assessment) -> dict[str, Any]:
    """Return the ticket as stored."""
    t = a.ticket
    return {
        "id": t.id,
        "line": t.line,
        "locale": t.locale,
        "customer_id": t.customer_id,
        "text": t.text,
        "dialogue": list(t.dialogue),
        "facts": t.facts,
    }


def decision_row(
    a: Assessment, *, decision_id: str, kind: str, verdict: Verdict, response: dict[str, Any]
) -> dict[str, Any]:
    """Return the decision record: versions, topic, template confidence and threshold, trace."""
    best, c = a.best, a.confidence
    return {
        "id": decision_id,
        "ticket_id": a.ticket.id,
        "kind": kind,
        "autoreply_ticket_id": a.ticket.id if kind == "autoreply" else None,
        "action": verdict.action.value if kind == "autoreply" else "suggest",
        "mode": a.mode.value,
        "model_version": a.model_version or "",
        "rulebook_version": a.rulebook_version,
        **decided_fields(a, verdict),
        "trace": {
            "match": best.proposal.match.as_dict() if best else None,
            "leaves": list(best.option.leaves) if best else [],
            "guard": a.prediction.guard if a.prediction else None,
            "margin": round(c.margin, 6) if c else None,
            "would_reply": verdict.would_reply,
        },
        "response": response,
    }


def shadow_row(
    champion: Assessment, challenger: Assessment, *, decision_id: str, kind: str
) -> dict[str, Any]:
    """Return the record of what the challenger would have decided beside the champion's verdict."""
    return {
        "decision_id": decision_id,
        "ticket_id": champion.ticket.id,
        "kind": kind,
        "mode": challenger.mode.value,
        "rulebook_version": challenger.rulebook_version,
        "champion_version": champion.model_version or "",
        "champion_template": champion.best.option.template if champion.best else None,
        "champion_reply": champion.verdict.would_reply,
        "challenger_version": challenger.model_version or "",
        "action": challenger.verdict.action.value,
        "would_reply": challenger.verdict.would_reply,
        **decided_fields(challenger, challenger.verdict),
    }


def decided_fields(a: Assessment, verdict: Verdict) -> dict[str, Any]:
    """Return what a decision rests on: the topic and its probability, the best template's
    probability and threshold, the rule and template, and the reasons against replying."""
    best, topic, c = a.best, a.topic, a.confidence
    return {
        "topic": topic.path if topic else None,
        "confidence": round(topic.prob, 6) if topic else None,
        "template_prob": round(c.prob, 6) if c and c.option else None,
        "threshold": c.threshold if c else None,
        "threshold_source": c.source if c else None,
        "rule_id": best.proposal.match.rule.id if best and best.proposal.match.rule else None,
        "template_id": best.option.template if best else None,
        "reasons": list(verdict.reasons),
    }
