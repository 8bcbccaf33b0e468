"""Why a prediction must not be answered automatically: a pure function with bounded reasons.

An empty tuple means the topic part allows an automatic reply (the rules still decide). Reasons,
in the order they are reported:

- `no_threshold`: the top leaf has no threshold: validation had too little evidence to reach the
  precision target on it (or the leaf is unknown to the bundle), so it never autoreplies.
- `low_confidence`: the top leaf's calibrated probability is under that leaf's threshold.
- `small_margin`: the two most probable leaves are closer than `min_margin`.
- `non_actionable_topic`: the top leaf is marked `actionable: false` in the topic tree
  (thanks, off-topic, ...): no template answers it.
- `guard_<class>`: the guard head gives `<class>` (gratitude, off_topic, multi_problem, sarcasm,
  unclear) a probability of at least `guard_threshold`.
- `guard_not_actionable`: no single guard class reached `guard_threshold`, yet the
  `actionable` probability is below `actionable_floor`.
- `guard_untrained`: the bundle's guard head saw no guard labels in training.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from models.bundle import Bundle
from models.prediction import GUARD_CLASSES, Prediction

ACTIONABLE = "actionable"
REASONS: tuple[str, ...] = (
    "no_threshold",
    "low_confidence",
    "small_margin",
    "non_actionable_topic",
    *(f"guard_{c}" for c in GUARD_CLASSES if c != ACTIONABLE),
    "guard_not_actionable",
    "guard_untrained",
)


@dataclass(frozen=True)
class AbstentionPolicy:
    """Thresholds per leaf and the global knobs that decide when to hand a ticket to a human."""

    thresholds: Mapping[str, float | None]
    actionable: Mapping[str, bool] = field(default_factory=dict)
    min_margin: float = 0.1
    guard_threshold: float = 0.5
    actionable_floor: float = 0.5
    guard_trained: bool = True

    @classmethod
    def from_bundle(cls, bundle: Bundle, **overrides: Any) -> AbstentionPolicy:
        """Return the bundle's policy (its thresholds and defaults) with `overrides` applied."""
        defaults = {
            name: float(bundle.policy[name])
            for name in ("min_margin", "guard_threshold", "actionable_floor")
            if name in bundle.policy
        }
        policy = cls(
            thresholds=dict(bundle.thresholds),
            actionable=bundle.actionable,
            guard_trained=bundle.spec.guard_trained,
            **defaults,
        )
        return replace(policy, **overrides)


def abstention_reasons(prediction: Prediction, policy: AbstentionPolicy) -> tuple[str, ...]:
    """Return why `prediction` must go to a human; empty when its topic may be autoreplied."""
    reasons: list[str] = []
    top = prediction.top
    threshold = policy.thresholds.get(top.path)
    if threshold is None:
        reasons.append("no_threshold")
    elif top.prob < threshold:
        reasons.append("low_confidence")
    if prediction.margin < policy.min_margin:
        reasons.append("small_margin")
    if not policy.actionable.get(top.path, True):
        reasons.append("non_actionable_topic")
    reasons.extend(_guard_reasons(prediction.guard, policy))
    return tuple(reasons)


def _guard_reasons(guard: Mapping[str, float], policy: AbstentionPolicy) -> list[str]:
    if not policy.guard_trained:
        return ["guard_untrained"]
    flagged = [
        f"guard_{name}"
        for name in GUARD_CLASSES
        if name != ACTIONABLE and guard.get(name, 0.0) >= policy.guard_threshold
    ]
    if not flagged and guard.get(ACTIONABLE, 0.0) < policy.actionable_floor:
        flagged.append("guard_not_actionable")
    return flagged
