"""The decision, a pure function of values: reply, or hand off to a human with named reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.abstention import NON_ACTIONABLE_TOPIC, REASONS, ReplyOption
from models.prediction import TopicCandidate
from rules.engine import Match
from rules.templates import Template
from service.settings import LineMode


class Action(StrEnum):
    """What happens to the ticket."""

    REPLY = "reply"
    HANDOFF = "handoff"


class Reason(StrEnum):
    """Why a ticket is handed to a human (the model's own reasons come from models.abstention)."""

    UNKNOWN_LINE = "unknown_line"
    UNKNOWN_LOCALE = "unknown_locale"
    MODE_OFF = "mode_off"
    SHADOW_MODE = "shadow_mode"
    TOPIC_NOT_ACTIONABLE = NON_ACTIONABLE_TOPIC
    NO_RULE = "no_rule"
    RULE_REQUIRES_HUMAN = "rule_requires_human"
    TEMPLATE_REQUIRES_HUMAN = "template_requires_human"
    MISSING_FACT = "missing_fact"
    RENDER_FAILED = "render_failed"
    PROMO_CAP_REACHED = "promo_cap_reached"


# Every reason a ticket can be handed off for: the one vocabulary of responses, records and the
# `reason` metric label (the service's own, then the model's).
HANDOFF_REASONS: tuple[str, ...] = tuple(dict.fromkeys([*(r.value for r in Reason), *REASONS]))


@dataclass(frozen=True)
class Proposal:
    """One candidate leaf and what its rules answer for this ticket's facts."""

    topic: TopicCandidate
    actionable: bool
    match: Match
    template: Template | None


@dataclass(frozen=True)
class Suggestion:
    """One candidate reply: a template, the leaves choosing it, the anchor's rule, the preview."""

    option: ReplyOption
    proposal: Proposal  # the anchor leaf's: the rule and trace shown for this reply
    reasons: tuple[str, ...]  # why the rules of its leaves need a human (empty: they allow it)
    text: str | None
    render_error: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The decision: the action, every reason against replying, and whether all checks passed."""

    action: Action
    reasons: tuple[str, ...]
    would_reply: bool

    def handoff(self, reason: Reason) -> Verdict:
        """Return this verdict turned into a hand-off for `reason` (found while acting on it)."""
        return Verdict(Action.HANDOFF, (*self.reasons, reason.value), False)


def proposal_reasons(proposal: Proposal) -> list[str]:
    """Return why this leaf's answer may not be sent without a human (empty: it may)."""
    if proposal.match.rule is None:
        return [Reason.NO_RULE] if proposal.actionable else [Reason.TOPIC_NOT_ACTIONABLE]
    reasons: list[str] = []
    if not proposal.actionable:
        reasons.append(Reason.TOPIC_NOT_ACTIONABLE)
    if not proposal.match.rule.autoreply:
        reasons.append(Reason.RULE_REQUIRES_HUMAN)
    if proposal.template is not None and not proposal.template.autoreply:
        reasons.append(Reason.TEMPLATE_REQUIRES_HUMAN)
    if proposal.match.missing_facts:
        reasons.append(Reason.MISSING_FACT)
    return reasons


def option_reasons(proposals: Sequence[Proposal]) -> tuple[str, ...]:
    """Return why a reply chosen by these leaves needs a human: every leaf's reasons, once each."""
    return tuple(dict.fromkeys(str(r) for p in proposals for r in proposal_reasons(p)))


def rules_reasons(best: Suggestion | None, top: Proposal | None) -> list[str]:
    """Return the rules' reasons against the best reply (no reply at all: why the top leaf has none)."""
    if best is None:
        return proposal_reasons(top) if top is not None else [Reason.NO_RULE]
    reasons = list(best.reasons)
    if best.render_error is not None:
        reasons.append(Reason.RENDER_FAILED)
    return reasons


def decide(
    *, mode: LineMode, locale_known: bool, model_reasons: Sequence[str], rule_reasons: Sequence[str]
) -> Verdict:
    """Return reply only when the line is on, the model is confident, and the rules allow it.

    Every failed check is named; in shadow mode a ticket that would have been answered is
    handed off with `shadow_mode` alone.
    """
    reasons: list[str] = [] if locale_known else [Reason.UNKNOWN_LOCALE]
    reasons += list(model_reasons)
    reasons += list(rule_reasons)
    would_reply = not reasons
    if mode is LineMode.OFF:
        reasons.insert(0, Reason.MODE_OFF)
    elif mode is LineMode.SHADOW and would_reply:
        reasons.append(Reason.SHADOW_MODE)
    action = Action.REPLY if not reasons else Action.HANDOFF
    return Verdict(action, tuple(str(r) for r in dict.fromkeys(reasons)), would_reply)


def unknown_line() -> Verdict:
    """Return the hand-off for a ticket of a support line the service does not serve."""
    return Verdict(Action.HANDOFF, (Reason.UNKNOWN_LINE.value,), False)
