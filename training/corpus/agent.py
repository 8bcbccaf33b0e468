"""The human agent who answered each ticket: mostly what the rulebook would pick, with the noise
real agents add (another template, an escalation, an edit), and the CSAT the customer gave."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.rulebook import Rulebook

ACTIONS = ("sent", "edited", "other_template", "escalated")


@dataclass(frozen=True)
class AgentRates:
    """How often the agent sends the rule's template as is, edits it, picks another, or escalates."""

    sent: float = 0.80
    edited: float = 0.08
    other_template: float = 0.07
    escalated: float = 0.05

    def as_dict(self) -> dict[str, float]:
        """Return the rates by action name."""
        return {a: getattr(self, a) for a in ACTIONS}

    @property
    def keeps_rule_template(self) -> float:
        """Return how often the template sent is the rule's (sent as is or edited)."""
        return self.sent + self.edited


# Mean CSAT by what the agent did, and shifts by what kind of message it was.
_CSAT_MEAN = {"sent": 4.3, "edited": 4.5, "other_template": 3.0, "escalated": 3.6}
_CSAT_SHIFT = {"gratitude": 0.6, "sarcasm": -0.8, "multi_problem": -0.5, "unclear": -0.3}


def agent_choice(
    rng: random.Random,
    rulebook: Rulebook,
    topic: str,
    facts: Mapping[str, Any],
    rates: AgentRates,
) -> tuple[str | None, str]:
    """Return (template sent or None, agent_action) for a ticket whose true topic is `topic`."""
    rule_template = rulebook.evaluate(topic, facts).template
    if rule_template is None:
        return None, "escalated"
    weights = rates.as_dict()
    action = rng.choices(list(weights), weights=list(weights.values()))[0]
    if action == "escalated":
        return None, action
    if action == "other_template":
        return rng.choice(_alternatives(rulebook, topic, rule_template)), action
    return rule_template, action


def _alternatives(rulebook: Rulebook, topic: str, chosen: str) -> list[str]:
    """Return the templates an agent plausibly picks instead: the topic's others, else its category's."""
    own = sorted({r.template for r in rulebook.rules_for(topic)} - {chosen})
    if own:
        return own
    category = topic.rsplit("/", 1)[0] + "/"
    near = {r.template for r in rulebook.rules if r.topic.startswith(category)} - {chosen}
    return sorted(near) or [chosen]


def draw_csat(
    rng: random.Random, action: str, kind: str, topic: str, missing_rate: float
) -> int | None:
    """Return the 1-5 rating the customer left after the reply, or None (most never rate)."""
    if rng.random() < missing_rate:
        return None
    mean = _CSAT_MEAN[action] + _CSAT_SHIFT.get(kind, 0.0)
    if "/safety/" in topic:
        mean -= 0.5
    return max(1, min(5, round(rng.gauss(mean, 0.9))))
