"""Replaying tickets through the service's own decision code, and what the replies would have been.

`replay` runs each ticket through `service.assess.assess` (the pure function the HTTP routes call)
with the classifier's prediction, so `autoreply evaluate` and threshold fitting judge exactly the
decision the service makes. Data without a rulebook (public intent sets) is decided per leaf: the
leaf is the reply, through the same `models.abstention` functions.

The reference reply is the template the agent kept (sent as is or edited); where the data has no
agent (public sets), the labelled leaf. Figures (`summarize`):

- coverage: replies among *answerable* tickets (an actionable message the agent answered with a
  template it kept);
- agreement: among those replies, the share whose template is the agent's;
- unsafe: replies to a non-actionable message (thanks, sarcasm, two problems, off-topic, unclear),
  as a share of all replies; wrong: replies to answerable tickets with another template.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.abstention import (
    THRESHOLD_REASONS,
    AbstentionPolicy,
    abstention_reasons,
    decision_confidence,
    reply_options,
)
from models.prediction import Prediction
from rules.rulebook import Rulebook
from service.assess import assess
from service.schemas import TicketIn
from service.settings import LineMode
from training.data import Example
from training.thresholds import upper_bound

KEPT = ("sent", "edited")  # agent actions whose template is the reference reply
ACTIONABLE = "actionable"
EXAMPLES = 10  # examples of unsafe and of wrong replies kept in a report
CURVE = (*(round(float(x), 2) for x in np.arange(0.3, 1.0, 0.02)), 0.99, 0.995, 0.999)


@dataclass(frozen=True)
class Outcome:
    """What the service decides for one replayed ticket, beside what the agent did."""

    id: str
    text: str
    line: str
    locale: str
    topic: str
    guard: str | None
    reference: str | None  # the reply the agent kept (or the labelled leaf), None: no reference
    action: str  # reply | handoff
    reasons: tuple[str, ...]
    sent: str | None  # the best template (sent when action is reply)
    prob: float  # its probability
    anchor: str | None  # the leaf its threshold backs off from
    threshold: float | None
    source: str | None
    blocked: bool  # a reason other than the threshold: never replied, whatever the threshold

    @property
    def safe_message(self) -> bool:
        """Return whether a template may answer this message at all (guard actionable or unknown)."""
        return self.guard in (None, ACTIONABLE)

    @property
    def answerable(self) -> bool:
        """Return whether this is an actionable ticket with a reference reply."""
        return self.safe_message and self.reference is not None

    @property
    def counted(self) -> bool:
        """Return whether a reply to it can be judged (answerable, or any reply is unsafe)."""
        return self.answerable or not self.safe_message

    def wrong_if(self, sent: str | None) -> bool:
        """Return whether replying `sent` would be wrong or unsafe (for a counted ticket)."""
        return not self.safe_message or sent != self.reference


def reference_of(example: Example, rules: bool) -> str | None:
    """Return the reply an example's agent kept; the labelled leaf when the data has no agent."""
    if not rules:
        return example.label
    return example.template if example.agent_action in KEPT else None


def replay(
    examples: Sequence[Example],
    predictions: Sequence[Prediction],
    rulebook: Rulebook | None,
    policy: AbstentionPolicy,
) -> list[Outcome]:
    """Return the decision for every example, made by the service's decision code."""
    decide = _with_rules(rulebook, policy) if rulebook is not None else _by_leaf(policy)
    return [
        decide(i, example, prediction)
        for i, (example, prediction) in enumerate(zip(examples, predictions, strict=True))
    ]


Decider = Callable[[int, Example, Prediction], Outcome]


def _with_rules(rulebook: Rulebook, policy: AbstentionPolicy) -> Decider:
    def decide(i: int, example: Example, prediction: Prediction) -> Outcome:
        ticket = TicketIn.model_construct(
            id=example.id or f"replay-{i}",
            line=example.line,
            locale=example.locale,
            customer_id="replay",
            text=example.text,
            dialogue=list(example.dialogue or ()),
            facts=example.facts or {},
        )
        a = assess(
            ticket=ticket,
            facts=rulebook.facts.validate(ticket.facts),
            rulebook=rulebook,
            policy=policy,
            model_version=prediction.model_version,
            prediction=prediction,
            mode=LineMode.ON,
            limit=1,
        )
        c = a.confidence
        option = c.option if c else None
        return outcome_of(
            example, i, True, a.verdict.action.value, a.verdict.reasons,
            option.template if option else None, c.prob if c else 0.0,
            option.anchor if option else None, c.threshold if c else None, c.source if c else None,
        )  # fmt: skip

    return decide


def _by_leaf(policy: AbstentionPolicy) -> Decider:
    def decide(i: int, example: Example, prediction: Prediction) -> Outcome:
        c = decision_confidence(
            reply_options(prediction.candidates, lambda leaf: leaf), policy.thresholds
        )
        reasons = abstention_reasons(prediction, policy, c)
        anchor = c.option.anchor if c.option else None
        action = "handoff" if reasons else "reply"
        return outcome_of(
            example, i, False, action, reasons, anchor, c.prob, anchor, c.threshold, c.source
        )

    return decide


def outcome_of(
    example: Example,
    i: int,
    rules: bool,
    action: str,
    reasons: tuple[str, ...],
    sent: str | None,
    prob: float,
    anchor: str | None,
    threshold: float | None,
    source: str | None,
) -> Outcome:
    """Return one ticket's outcome from what was decided, beside what its agent did."""
    return Outcome(
        id=example.id or f"replay-{i}",
        text=example.text,
        line=example.line,
        locale=example.locale,
        topic=example.label,
        guard=example.guard,
        reference=reference_of(example, rules),
        action=action,
        reasons=tuple(reasons),
        sent=sent,
        prob=prob,
        anchor=anchor,
        threshold=threshold,
        source=source,
        blocked=any(r not in THRESHOLD_REASONS for r in reasons) or sent is None,
    )


def figures(outcomes: Iterable[Outcome], delta: float = 0.1) -> dict[str, Any]:
    """Return coverage, agreement, unsafe and wrong replies, and the hand-off reasons."""
    rows = list(outcomes)
    replies = [o for o in rows if o.action == "reply"]
    answerable = [o for o in rows if o.answerable]
    answered = [o for o in replies if o.answerable]
    agreed = sum(o.sent == o.reference for o in answered)
    unsafe = sum(not o.safe_message for o in replies)
    errors = unsafe + len(answered) - agreed
    judged = unsafe + len(answered)
    return {
        "tickets": len(rows),
        "answerable": len(answerable),
        "replies": len(replies),
        "coverage": _share(len(answered), len(answerable)),
        "agreement": _share(agreed, len(answered)),
        # The best template against the agent's, whatever the threshold: what the model knows.
        "accuracy": _share(sum(o.sent == o.reference for o in answerable), len(answerable)),
        "unsafe": unsafe,
        "unsafe_rate": _share(unsafe, len(replies)),
        "wrong": len(answered) - agreed,
        "error_rate": _share(errors, judged),
        "error_bound": round(upper_bound(errors, judged, delta), 4) if judged else None,
        "handoff_reasons": dict(
            Counter(r for o in rows if o.action == "handoff" for r in o.reasons).most_common()
        ),
    }


def guard_recall(outcomes: Iterable[Outcome]) -> dict[str, dict[str, Any]]:
    """Return, per non-actionable guard class, how often the guard flagged it and how often the
    ticket was handed off (the message got no automatic reply)."""
    by_class: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.guard and o.guard != ACTIONABLE:
            by_class.setdefault(o.guard, []).append(o)
    return {
        name: {
            "n": len(rows),
            "flagged": _share(
                sum(any(r.startswith("guard_") for r in o.reasons) for o in rows), len(rows)
            ),
            "handed_off": _share(sum(o.action == "handoff" for o in rows), len(rows)),
        }
        for name, rows in sorted(by_class.items())
    }


def answerable_outcomes(outcomes: Iterable[Outcome]) -> dict[str, dict[str, int]]:
    """Return where the answerable tickets went: replied (right or wrong), or handed off for
    their first reason, each split by whether the best template was the agent's (`right`: what
    the model got right and the decision did not send)."""
    went: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if not o.answerable:
            continue
        where = "replied" if o.action == "reply" else o.reasons[0] if o.reasons else "handoff"
        side = "right" if o.sent == o.reference else "wrong"
        went.setdefault(where, {"right": 0, "wrong": 0})[side] += 1
    return dict(sorted(went.items(), key=lambda kv: -sum(kv[1].values())))


def curve(outcomes: Sequence[Outcome]) -> list[dict[str, float | None]]:
    """Return coverage, agreement and unsafe rate if one threshold applied to every decision."""
    points = []
    for value in CURVE:
        replies = [o for o in outcomes if not o.blocked and o.prob >= value]
        answered = [o for o in replies if o.answerable]
        answerable = sum(o.answerable for o in outcomes)
        points.append(
            {
                "threshold": value,
                "coverage": _share(len(answered), answerable),
                "agreement": _share(sum(o.sent == o.reference for o in answered), len(answered)),
                "unsafe_rate": _share(sum(not o.safe_message for o in replies), len(replies)),
            }
        )
    return points


def summarize(outcomes: Sequence[Outcome], delta: float = 0.1) -> dict[str, Any]:
    """Return the evaluation report: overall, per line, locale and topic, guard, curve, examples."""

    def grouped(key: Callable[[Outcome], str]) -> dict[str, Any]:
        groups: dict[str, list[Outcome]] = {}
        for o in outcomes:
            groups.setdefault(key(o), []).append(o)
        return {name: figures(rows, delta) for name, rows in sorted(groups.items())}

    replies = [o for o in outcomes if o.action == "reply"]
    return {
        "overall": figures(outcomes, delta),
        "by_line_locale": grouped(lambda o: f"{o.line}/{o.locale}"),
        "by_locale": grouped(lambda o: o.locale),
        "by_line": grouped(lambda o: o.line),
        "by_topic": grouped(lambda o: o.topic),
        "threshold_sources": dict(Counter(o.source or "none" for o in replies)),
        "guard_recall": guard_recall(outcomes),
        "answerable_outcomes": answerable_outcomes(outcomes),
        "curve": curve(outcomes),
        "unsafe_examples": [_example(o) for o in replies if not o.safe_message][:EXAMPLES],
        "wrong_examples": [_example(o) for o in replies if o.answerable and o.sent != o.reference][
            :EXAMPLES
        ],
    }


def plot_curve(report: dict[str, Any], path: Any, title: str) -> None:
    """Draw the coverage-agreement curve over the threshold, with the operating point, as a PNG."""
    from matplotlib.figure import Figure  # the object API: no pyplot state, no display backend

    points = [p for p in report["curve"] if p["agreement"] is not None]
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    ax.plot([p["coverage"] for p in points], [p["agreement"] for p in points], marker=".")
    for p in points[:: max(1, len(points) // 8)]:
        ax.annotate(f"{p['threshold']:.2f}", (p["coverage"], p["agreement"]), fontsize=7)
    here = report["overall"]
    if here["agreement"] is not None:
        ax.scatter([here["coverage"]], [here["agreement"]], color="red", zorder=3,
                   label="operating point (fitted thresholds)")  # fmt: skip
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlabel("coverage (replies / answerable tickets)")
    ax.set_ylabel("agreement with the agent")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _example(o: Outcome) -> dict[str, Any]:
    return {
        "id": o.id,
        "text": o.text[:200],
        "guard": o.guard,
        "sent": o.sent,
        "reference": o.reference,
        "prob": round(o.prob, 4),
        "threshold_source": o.source,
    }
