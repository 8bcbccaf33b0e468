"""The decision policy a bundle ships with, fitted on validation, and a bundle's decisions replayed.

`fit_policy` sets the guard's `actionable_floor` for recall on every non-actionable class, then
replays validation through the service's decision code with no thresholds, and fits each topic
node's threshold on the template probability (`training/thresholds.py`). `evaluate_bundle` is
`autoreply evaluate`: a written bundle, on its serving backend, replayed over a JSONL split.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.abstention import ALL_LINES, AbstentionPolicy
from models.bundle import actionable_leaves
from models.prediction import Prediction
from models.runtime import TopicClassifier, build_prediction, calibrated_guard, load_classifier
from models.spec import ModelSpec
from rules.rulebook import Rulebook
from service.predictions import DEFAULT_K
from training.args import EvalArguments
from training.data import Example
from training.infer import Outputs
from training.replay import Outcome, plot_curve, replay, summarize
from training.thresholds import (
    Evidence,
    RiskTargets,
    fit_actionable_floor,
    fit_threshold,
    fit_thresholds,
)

REPORT_JSON, REPORT_PNG = "decisions.json", "decisions.png"


@dataclass(frozen=True)
class FittedPolicy:
    """Per-node threshold entries and the abstention defaults the bundle stores."""

    thresholds: dict[str, dict[str, Any]]
    policy: dict[str, Any]


def targets_of(args: EvalArguments) -> RiskTargets:
    """Return the risk targets a config sets."""
    return RiskTargets(args.risk_target, args.unsafe_target, args.risk_delta)


def output_predictions(
    spec: ModelSpec, outputs: Outputs, temperature: dict[str, float]
) -> dict[str, list[Prediction]]:
    """Return calibrated Predictions from a network's raw outputs, per line in output order."""
    result = {}
    for line, out in outputs.items():
        tree = spec.trees[line]
        probs = np.exp(tree.leaf_log_probs(out.scores, spec.design, temperature[line]))
        guard = calibrated_guard(out.guard, temperature["guard"], spec.guard_trained)
        result[line] = [
            build_prediction(
                tree,
                line,
                probs[r],
                dict(zip(spec.guard_classes, guard[r], strict=True)),
                "fit",
                DEFAULT_K,
            )
            for r in range(len(probs))
        ]
    return result


def output_rows(outputs: Outputs, examples: Sequence[Example]) -> dict[str, list[Example]]:
    """Return, per line, the examples in the order of that line's outputs."""
    return {line: [examples[i] for i in out.indices] for line, out in outputs.items()}


def fit_policy(
    spec: ModelSpec,
    predictions: dict[str, list[Prediction]],
    rows: dict[str, list[Example]],
    rulebook: Rulebook | None,
    actionable: dict[str, bool],
    args: EvalArguments,
) -> FittedPolicy:
    """Return thresholds for every topic node and the guard floor, fitted on validation.

    `predictions[line]` and `rows[line]` are one line's validation predictions and examples, in
    the same order (`output_predictions` and `output_rows` give them from a network's outputs).
    """
    flat_predictions = [p for line in predictions for p in predictions[line]]
    flat_examples = [e for line in predictions for e in rows[line]]
    floor = fit_actionable_floor(
        np.array([p.guard.get("actionable", 0.0) for p in flat_predictions]),
        [e.guard for e in flat_examples],
        args.guard_recall,
    )
    defaults: dict[str, Any] = {
        "min_margin": args.min_margin,
        "guard_threshold": args.guard_threshold,
        "actionable_floor": floor if floor is not None else args.actionable_floor,
        "require_guard": args.require_guard,
    }
    policy = AbstentionPolicy(
        thresholds={},
        actionable=actionable,
        guard_trained=spec.guard_trained,
        **defaults,
    )
    thresholds: dict[str, dict[str, Any]] = {}
    pooled: list[Outcome] = []
    for line, leaves in spec.lines.items():
        if line not in predictions:
            continue
        outcomes = replay(rows[line], predictions[line], rulebook, policy)
        thresholds.update(fit_thresholds(leaves, evidence(outcomes), targets_of(args)))
        pooled += outcomes
    if len(predictions) > 1:  # one line: its own entry already pools everything
        every = evidence(pooled)
        thresholds[ALL_LINES] = fit_threshold(
            every.confidence, every.error, every.unsafe, targets_of(args)
        )
    return FittedPolicy(thresholds, defaults)


def evidence(outcomes: Sequence[Outcome]) -> Evidence:
    """Return the tickets the threshold alone decides, with whether their reply would be wrong."""
    open_ = [o for o in outcomes if o.counted and not o.blocked and o.anchor is not None]
    return Evidence(
        anchors=[o.anchor or "" for o in open_],
        confidence=np.array([o.prob for o in open_], dtype=np.float64),
        error=np.array([o.wrong_if(o.sent) for o in open_], dtype=bool),
        unsafe=np.array([not o.safe_message for o in open_], dtype=bool),
    )


def served_predictions(
    classifier: TopicClassifier, examples: Sequence[Example]
) -> tuple[dict[str, list[Prediction]], dict[str, list[Example]]]:
    """Return, per line the classifier serves, its predictions and the examples, in order.

    Each text is predicted alone, as the service does: int8 quantises activations per batch, so
    a batch's other texts would shift its scores.
    """
    rows = {line: [e for e in examples if e.line == line] for line in classifier.lines}
    predictions = {line: [predict_one(classifier, e) for e in rs] for line, rs in rows.items()}
    return predictions, rows


def predict_one(classifier: TopicClassifier, example: Example) -> Prediction:
    """Return the prediction for one ticket, predicted alone as the service predicts it."""
    return classifier.predict(
        [example.text], example.line, k=DEFAULT_K, dialogues=[example.dialogue]
    )[0]


def fit_served_policy(
    bundle_dir: Path,
    valid: Sequence[Example],
    rulebook: Rulebook | None,
    args: EvalArguments,
    backend: str = "onnx-int8",
) -> FittedPolicy:
    """Return the policy fitted on validation as the bundle's serving backend answers it.

    The network's own (fp32, batched) outputs differ a little from what the service computes
    (int8, one ticket at a time), and the thresholds are meant for the decision actually made.
    """
    classifier = load_classifier(bundle_dir, backend=backend)
    bundle = classifier.bundle
    predictions, rows = served_predictions(classifier, valid)
    return fit_policy(
        bundle.spec, predictions, rows, rulebook, actionable_leaves(bundle.topics), args
    )


def replay_bundle(
    bundle_dir: Path, examples: Sequence[Example], rulebook: Rulebook | None, backend: str
) -> tuple[str, list[Outcome]]:
    """Return the bundle's version and the decision on every example of a line it serves, in the
    examples' order."""
    classifier = load_classifier(bundle_dir, backend=backend)
    policy = AbstentionPolicy.from_bundle(classifier.bundle)
    served = [e for e in examples if e.line in classifier.lines]
    found = [predict_one(classifier, e) for e in served]
    return classifier.version, replay(served, found, rulebook, policy)


def evaluate_bundle(
    bundle_dir: Path,
    examples: Sequence[Example],
    rulebook: Rulebook | None,
    *,
    backend: str = "onnx-int8",
    out_dir: Path | None = None,
    delta: float = 0.1,
) -> dict[str, Any]:
    """Replay `examples` through a bundle and the service's decision code; return the report.

    With `out_dir`, also write the report as JSON and the coverage-agreement curve as a PNG.
    """
    version, outcomes = replay_bundle(bundle_dir, examples, rulebook, backend)
    report = {
        "bundle": version,
        "backend": backend,
        "rulebook": rulebook.version if rulebook else None,
        "skipped_unknown_line": len(examples) - len(outcomes),
        **summarize(outcomes, delta),
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / REPORT_JSON).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        plot_curve(report, out_dir / REPORT_PNG, f"{version} ({backend})")
    return report
