"""What the agent reads: hand-off reasons, wrong-suggestion reasons and rule traces in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# One entry per word of service.decision.HANDOFF_REASONS (a test holds them equal).
HANDOFF_WORDS: dict[str, str] = {
    "unknown_line": "This support line is not served automatically.",
    "unknown_locale": "The ticket's language has no reply templates.",
    "mode_off": "Automatic replies are switched off for this line.",
    "shadow_mode": "The system would have answered, but this line runs in shadow mode: check "
    "the reply it would have sent.",
    "non_actionable_topic": "The message is not a request we answer with a template (thanks, "
    "praise, off-topic).",
    "no_rule": "No business rule answers this topic for this ride.",
    "rule_requires_human": "The rule that matched asks for a person to answer.",
    "template_requires_human": "The chosen reply must always be sent by a person.",
    "missing_fact": "A fact about the ride is missing, so the rules could not be sure.",
    "render_failed": "The reply could not be filled in with this ride's data.",
    "promo_cap_reached": "The customer already received the most promo codes allowed this month.",
    "no_threshold": "The model has no trusted confidence level for this topic yet.",
    "low_confidence": "The model is not confident enough about the topic.",
    "small_margin": "Two answers are almost equally likely.",
    "guard_gratitude": "The message looks like thanks or praise, not a problem.",
    "guard_off_topic": "The message looks unrelated to our service.",
    "guard_multi_problem": "The message seems to raise several problems at once.",
    "guard_sarcasm": "The message may be sarcastic.",
    "guard_unclear": "The message is unclear.",
    "guard_not_actionable": "The message does not look like a request we can answer.",
    "guard_untrained": "The message checker is not trained yet, so every ticket goes to a person.",
}

# One entry per service.schemas.WRONG_REASONS (a test holds them equal).
WRONG_WORDS: dict[str, str] = {
    "wrong_topic": "Wrong topic",
    "facts_differ": "The ride's data says otherwise",
    "wording": "Right answer, poor wording",
    "needs_person": "Needs a person, not a template",
    "unsafe": "Must never be sent automatically",
}

RESULT_WORDS = {"true": "holds", "false": "does not hold", "missing": "unknown"}


def reason_words(reason: str) -> str:
    """Return the agent's words for a hand-off reason (the code itself if it has none)."""
    return HANDOFF_WORDS.get(reason, reason)


@dataclass(frozen=True)
class ConditionWhy:
    """One condition of a rule with the fact value that decided it."""

    condition: str
    fact: str
    value: str
    result: str  # true | false | missing

    @property
    def sentence(self) -> str:
        """Return the condition in words, e.g. "coupon_used is true holds: coupon_used is true"."""
        seen = "missing" if self.result == "missing" else f"{self.fact} is {self.value}"
        return f"{self.condition} {RESULT_WORDS.get(self.result, self.result)}: {seen}"


@dataclass(frozen=True)
class RuleWhy:
    """One rule tried for the topic: whether it fired and each condition's verdict."""

    rule: str
    description: str
    result: str
    conditions: tuple[ConditionWhy, ...]

    @property
    def fired(self) -> bool:
        """Whether this rule chose the reply."""
        return self.result == "true"

    @property
    def headline(self) -> str:
        """Return one line about the rule: chose the reply, did not apply, or undecided."""
        if self.fired:
            unconditional = "" if self.conditions else " (it always applies)"
            return f"Rule {self.rule} chose this reply{unconditional}."
        if self.result == "missing":
            return f"Rule {self.rule} could not be checked: a fact is missing."
        return f"Rule {self.rule} did not apply."


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "missing" if value is None else str(value)


def explain_trace(trace: list[dict[str, Any]], descriptions: dict[str, str]) -> list[RuleWhy]:
    """Return the rules tried, in order, as sentences (from a match's JSON trace)."""
    return [
        RuleWhy(
            rule=entry["rule"],
            description=descriptions.get(entry["rule"], ""),
            result=entry["result"],
            conditions=tuple(
                ConditionWhy(c["condition"], c["fact"], _shown(c["value"]), c["result"])
                for c in entry.get("conditions", [])
            ),
        )
        for entry in trace
    ]
