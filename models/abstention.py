"""Why a prediction must not be answered automatically: pure functions with bounded reasons.

The ticket system cares which *reply* is sent, not which leaf won. The candidate leaves are
grouped by the template their rules choose for this ticket's facts (`reply_options`); a template's
probability is the sum of its leaves'. Siblings that lead to the same reply then support each
other instead of splitting the vote. The best template is judged against a threshold fitted on
validation for exactly that decision (`training/thresholds.py`): its anchor leaf's own threshold,
else the nearest ancestor's (`parent`), else the line's.

An empty tuple of reasons means the model allows an automatic reply (the rules still decide).
Reasons, in the order they are reported:

- `no_threshold`: neither the anchor leaf, its ancestors nor its line has a threshold
  (validation never showed the error target met there), so it never autoreplies.
- `low_confidence`: the best template's probability is under the threshold that applies.
- `small_margin`: the best template is closer than `min_margin` to the next outcome (another
  template, or leaves whose rules answer nothing).
- `non_actionable_topic`: the top leaf is marked `actionable: false` in the topic tree
  (thanks, off-topic, ...): no template answers it.
- `guard_<class>`: the guard head gives `<class>` (gratitude, off_topic, multi_problem, sarcasm,
  unclear) a probability of at least `guard_threshold`.
- `guard_not_actionable`: no single guard class reached `guard_threshold`, yet the
  `actionable` probability is below `actionable_floor` (fitted for the guard's recall).
- `guard_untrained`: the bundle's guard head saw no guard labels and its policy requires one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from models.bundle import Bundle
from models.prediction import GUARD_CLASSES, Prediction, TopicCandidate

ACTIONABLE = "actionable"
NON_ACTIONABLE_TOPIC = "non_actionable_topic"  # the model's and the rules' word for it
THRESHOLD_REASONS: tuple[str, ...] = ("no_threshold", "low_confidence")
REASONS: tuple[str, ...] = (
    *THRESHOLD_REASONS,
    "small_margin",
    NON_ACTIONABLE_TOPIC,
    *(f"guard_{c}" for c in GUARD_CLASSES if c != ACTIONABLE),
    "guard_not_actionable",
    "guard_untrained",
)
ThresholdSource = Literal["own", "parent", "line", "global"]
THRESHOLD_SOURCES: tuple[ThresholdSource, ...] = ("own", "parent", "line", "global")
# The threshold node that pools every line's evidence: the last back-off, for a line too thin to
# show its own error rate (the drivers line of the corpus: ~300 validation tickets decide).
ALL_LINES = "*"

# How many leaves a prediction carries: enough to cover nearly all the probability, so that a
# template's probability misses at most this much mass, and at most MAX_CANDIDATES of them.
CANDIDATE_MASS = 0.995
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class AbstentionPolicy:
    """Thresholds per topic node and the global knobs that decide when to hand a ticket off."""

    thresholds: Mapping[str, float | None]  # leaf, inner node or line path -> threshold
    actionable: Mapping[str, bool] = field(default_factory=dict)
    min_margin: float = 0.1
    guard_threshold: float = 0.5
    actionable_floor: float = 0.5
    guard_trained: bool = True
    require_guard: bool = True

    @classmethod
    def from_bundle(cls, bundle: Bundle, **overrides: Any) -> AbstentionPolicy:
        """Return the bundle's policy (its thresholds and defaults) with `overrides` applied."""
        defaults: dict[str, Any] = {
            name: float(bundle.policy[name])
            for name in ("min_margin", "guard_threshold", "actionable_floor")
            if name in bundle.policy
        }
        if "require_guard" in bundle.policy:
            defaults["require_guard"] = bool(bundle.policy["require_guard"])
        policy = cls(
            thresholds=dict(bundle.thresholds),
            actionable=bundle.actionable,
            guard_trained=bundle.spec.guard_trained,
            **defaults,
        )
        return replace(policy, **overrides)


@dataclass(frozen=True)
class ReplyOption:
    """One outcome for a ticket: a template (None: no rule answers) and the leaves choosing it."""

    template: str | None
    prob: float  # the sum of its leaves' probabilities
    leaves: tuple[str, ...]  # most probable first

    @property
    def anchor(self) -> str:
        """Return the most probable leaf choosing this template (thresholds back off from it)."""
        return self.leaves[0]


@dataclass(frozen=True)
class Confidence:
    """The decision-level confidence: the best template, its margin and the threshold that applies."""

    option: ReplyOption | None  # the most probable option with a template
    margin: float
    threshold: float | None
    source: ThresholdSource | None

    @property
    def prob(self) -> float:
        """Return the best template's probability (0 when no candidate leaf has a template)."""
        return self.option.prob if self.option else 0.0


def candidate_count(sorted_probs: Sequence[float]) -> int:
    """Return how many of the most probable leaves a prediction keeps (see CANDIDATE_MASS)."""
    total, count = 0.0, 0
    for prob in sorted_probs[:MAX_CANDIDATES]:
        total += prob
        count += 1
        if total >= CANDIDATE_MASS:
            break
    return count


def reply_options(
    candidates: Sequence[TopicCandidate], choose: Callable[[str], str | None]
) -> tuple[ReplyOption, ...]:
    """Return the candidates grouped by the template `choose(leaf)` gives, most probable first."""
    groups: dict[str | None, list[TopicCandidate]] = {}
    for candidate in candidates:
        groups.setdefault(choose(candidate.path), []).append(candidate)
    options = (
        ReplyOption(template, sum(c.prob for c in group), tuple(c.path for c in group))
        for template, group in groups.items()
    )
    return tuple(sorted(options, key=lambda o: -o.prob))


def resolve_threshold(
    anchor: str, thresholds: Mapping[str, float | None]
) -> tuple[float | None, ThresholdSource | None]:
    """Return the threshold for a decision anchored on `anchor`: its own, a parent's, the line's,
    or the one fitted on every line together."""
    parts = anchor.split("/")
    for depth in range(len(parts), 0, -1):
        value = thresholds.get("/".join(parts[:depth]))
        if value is not None:
            source: ThresholdSource = (
                "own" if depth == len(parts) else "line" if depth == 1 else "parent"
            )
            return value, source
    pooled = thresholds.get(ALL_LINES)
    return (pooled, "global") if pooled is not None else (None, None)


def decision_confidence(
    options: Sequence[ReplyOption], thresholds: Mapping[str, float | None]
) -> Confidence:
    """Return the best template's confidence, its margin over the next outcome, and its threshold."""
    best = next((o for o in options if o.template is not None), None)
    if best is None:
        return Confidence(None, 0.0, None, None)
    runner_up = max((o.prob for o in options if o is not best), default=0.0)
    threshold, source = resolve_threshold(best.anchor, thresholds)
    return Confidence(best, best.prob - runner_up, threshold, source)


def abstention_reasons(
    prediction: Prediction, policy: AbstentionPolicy, confidence: Confidence
) -> tuple[str, ...]:
    """Return why the best template must go to a human; empty when the model allows a reply."""
    reasons: list[str] = []
    if confidence.threshold is None:
        reasons.append("no_threshold")
    elif confidence.prob < confidence.threshold:
        reasons.append("low_confidence")
    if confidence.margin < policy.min_margin:
        reasons.append("small_margin")
    if not policy.actionable.get(prediction.top.path, True):
        reasons.append(NON_ACTIONABLE_TOPIC)
    reasons.extend(guard_reasons(prediction.guard, policy))
    return tuple(reasons)


def guard_reasons(guard: Mapping[str, float], policy: AbstentionPolicy) -> list[str]:
    """Return the guard's reasons against any automatic reply to this message."""
    if not policy.guard_trained:
        return ["guard_untrained"] if policy.require_guard else []
    flagged = [
        f"guard_{name}"
        for name in GUARD_CLASSES
        if name != ACTIONABLE and guard.get(name, 0.0) >= policy.guard_threshold
    ]
    if not flagged and guard.get(ACTIONABLE, 0.0) < policy.actionable_floor:
        flagged.append("guard_not_actionable")
    return flagged
