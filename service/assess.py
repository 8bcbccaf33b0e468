"""Assessing a ticket, a pure function of values: rules per candidate leaf, replies, the verdict.

It takes the validated facts and the classifier's prediction as arguments (the pipeline obtains
both), writes nothing and raises nothing about the ticket: `autoreply evaluate` replays tickets
through exactly this code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.abstention import (
    AbstentionPolicy,
    Confidence,
    ReplyOption,
    abstention_reasons,
    decision_confidence,
    reply_options,
)
from models.prediction import Prediction, TopicCandidate
from rules.facts import FactValueError
from rules.rulebook import Rulebook
from rules.templates import RenderError
from rules.topics import LOCALES, TopicTree
from service.decision import (
    Proposal,
    Suggestion,
    Verdict,
    decide,
    option_reasons,
    rules_reasons,
    unknown_line,
)
from service.errors import InvalidTicket
from service.replies import preview_outputs, render
from service.schemas import TicketIn
from service.settings import LineMode


@dataclass(frozen=True)
class Assessment:
    """Everything decided about a ticket before anything is written or sent."""

    ticket: TicketIn
    facts: dict[str, Any]
    rulebook_version: str
    topics: TopicTree  # the rulebook's topic tree the decision was made with (titles for views)
    model_version: str
    prediction: Prediction | None
    confidence: Confidence | None
    suggestions: tuple[Suggestion, ...]  # best reply first, one per template
    top: Proposal | None  # the model's most probable leaf
    verdict: Verdict
    mode: LineMode

    @property
    def locale(self) -> str:
        """Return the locale replies are rendered in (English for an unknown one)."""
        return reply_locale(self.ticket.locale)

    @property
    def best(self) -> Suggestion | None:
        """Return the most probable reply, the one autoreply would send."""
        return self.suggestions[0] if self.suggestions else None

    @property
    def topic(self) -> TopicCandidate | None:
        """Return the leaf the decision rests on: the best reply's anchor, else the top leaf."""
        if self.best is not None:
            return self.best.proposal.topic
        return self.top.topic if self.top else None


def reply_locale(locale: str) -> str:
    """Return the locale if templates have it, else English."""
    return locale if locale in LOCALES else "en"


def validate_facts(rulebook: Rulebook, facts: Mapping[str, Any]) -> dict[str, Any]:
    """Return the facts typed by the rulebook's schema; raise InvalidTicket naming each bad fact."""
    try:
        return rulebook.facts.validate(facts)
    except FactValueError as exc:
        details = [
            {"loc": ["body", "facts", name], "msg": msg} for name, msg in sorted(exc.errors.items())
        ]
        raise InvalidTicket(f"fix these facts: {exc}", details=details) from None


def assess(
    *,
    ticket: TicketIn,
    facts: dict[str, Any],
    rulebook: Rulebook,
    policy: AbstentionPolicy,
    model_version: str,
    prediction: Prediction | None,
    mode: LineMode,
    limit: int,
) -> Assessment:
    """Return the assessment of a ticket from its typed facts and the model's prediction.

    `prediction` is None when the model does not serve the ticket's line. `limit` is how many
    replies are rendered for the agent's screen.
    """
    version = model_version
    if prediction is None or ticket.line not in rulebook.topics.lines:
        return Assessment(
            ticket,
            facts,
            rulebook.version,
            rulebook.topics,
            version,
            None,
            None,
            (),
            None,
            unknown_line(),
            mode,
        )
    proposals = {c.path: propose(rulebook, c, facts) for c in prediction.candidates}
    options = reply_options(prediction.candidates, lambda leaf: proposals[leaf].match.template)
    confidence = decision_confidence(options, policy.thresholds)
    locale = reply_locale(ticket.locale)
    shown = [o for o in options if o.template is not None][: max(1, limit)]
    suggestions = tuple(
        suggest(option, [proposals[leaf] for leaf in option.leaves], facts, locale)
        for option in shown
    )
    top = proposals[prediction.top.path]
    best = suggestions[0] if suggestions else None
    verdict = decide(
        mode=mode,
        locale_known=ticket.locale in LOCALES,
        model_reasons=abstention_reasons(prediction, policy, confidence),
        rule_reasons=rules_reasons(best, top),
    )
    return Assessment(
        ticket, facts, rulebook.version, rulebook.topics, version, prediction, confidence, suggestions, top,
        verdict, mode,
    )  # fmt: skip


def propose(rulebook: Rulebook, candidate: TopicCandidate, facts: dict[str, Any]) -> Proposal:
    """Return what the rules of one candidate leaf answer for these facts."""
    node = rulebook.topics.get(candidate.path)
    match = rulebook.evaluate(candidate.path, facts)
    template = rulebook.templates.get(match.template) if match.template else None
    return Proposal(candidate, bool(node and node.actionable), match, template)


def suggest(
    option: ReplyOption, proposals: list[Proposal], facts: dict[str, Any], locale: str
) -> Suggestion:
    """Return one reply: the anchor leaf's rule and template, rendered as a preview."""
    anchor = proposals[0]
    text, error = None, None
    if anchor.template is not None:
        try:
            outputs = preview_outputs(anchor.template, locale, facts)
            text = render(anchor.template, locale, facts, outputs)
        except RenderError as exc:
            error = str(exc)
    return Suggestion(option, anchor, option_reasons(proposals), text, error)
