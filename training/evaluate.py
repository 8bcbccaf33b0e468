"""Evaluation of one trained network's raw outputs: calibrate, choose thresholds, measure.

Everything is per line and per language (Russian is a different problem for this vocabulary):
temperatures and thresholds come from validation, the figures from test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.lexical import LexicalHead
from models.spec import ModelSpec
from models.textenc import TextEncoder
from training.args import EvalArguments
from training.calibration import guard_temperature, log_softmax, topic_temperature
from training.data import Example
from training.infer import Outputs
from training.lexical import fit_fusion
from training.metrics import (
    confusion,
    coverage_at_precision,
    coverage_precision,
    guard_metrics,
    reliability,
    topic_metrics,
)

ALL = "all"


@dataclass
class Evaluation:
    """Temperatures, per-node threshold entries (`training.decisions.fit_policy`), metrics.json
    content, and the plots' data."""

    temperature: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, Any] = field(default_factory=dict)
    lexical: dict[str, LexicalHead] = field(default_factory=dict)  # per line, fusion fitted


@dataclass(frozen=True)
class LexicalInputs:
    """One line's trained lexical head and the texts it reads (`models.runtime.lexical_text`),
    in the order of the line's validation and test outputs."""

    head: LexicalHead
    valid_texts: list[str]
    test_texts: list[str]


def validation_score(spec: ModelSpec, outputs: Outputs) -> dict[str, float]:
    """Return leaf accuracy and NLL over every line; score = accuracy, NLL breaking ties."""
    hits, nll, n = 0.0, 0.0, 0
    for line, out in outputs.items():
        log_probs = spec.trees[line].leaf_log_probs(out.scores, spec.design)
        hits += float((log_probs.argmax(axis=1) == out.labels).sum())
        nll -= float(log_probs[np.arange(len(out.labels)), out.labels].sum())
        n += len(out.labels)
    accuracy, mean_nll = hits / max(n, 1), nll / max(n, 1)
    return {"score": accuracy - 1e-3 * mean_nll, "accuracy": accuracy, "nll": mean_nll}


def by_locale(locales: list[str]) -> dict[str, np.ndarray]:
    """Return boolean masks: every example, then each language."""
    array = np.array(locales)
    masks = {ALL: np.ones(len(array), dtype=bool)}
    masks.update({loc: array == loc for loc in sorted(set(locales))})
    return masks


def evaluate_outputs(
    spec: ModelSpec,
    valid: Outputs,
    test: Outputs,
    args: EvalArguments,
    lexical: dict[str, LexicalInputs] | None = None,
) -> Evaluation:
    """Return calibration, thresholds and metrics for every line and the guard.

    With a lexical head for a line, its fusion is fitted on validation after the encoder's
    temperature, and every figure of that line is the fused distribution's (the service's).
    """
    result = Evaluation()
    pooled: dict[str, list[np.ndarray]] = {"conf_raw": [], "conf": [], "correct": [], "loc": []}
    for line, tree in spec.trees.items():
        if line not in valid or line not in test:
            continue
        v, t = valid[line], test[line]
        temp = topic_temperature(tree, spec.design, v.scores, v.labels)
        result.temperature[line] = temp
        valid_probs = np.exp(tree.leaf_log_probs(v.scores, spec.design, temp))
        raw = np.exp(tree.leaf_log_probs(t.scores, spec.design, 1.0))
        cal = np.exp(tree.leaf_log_probs(t.scores, spec.design, temp))
        fusion: dict[str, Any] = {}
        if lexical and line in lexical:
            inputs = lexical[line]
            head, fusion = fit_fusion(inputs.head, valid_probs, inputs.valid_texts, v.labels)
            result.lexical[line] = head
            valid_probs = head.fuse(valid_probs, inputs.valid_texts)
            cal = head.fuse(cal, inputs.test_texts)
        per_locale = {}
        for name, mask in by_locale(t.locales).items():
            figures = topic_metrics(tree, cal[mask], t.labels[mask], args.top_k, args.ece_bins)
            figures["ece_before"] = topic_metrics(
                tree, raw[mask], t.labels[mask], args.top_k, args.ece_bins
            )["ece"]
            curve = coverage_precision(
                cal[mask].max(axis=1), (cal[mask].argmax(1) == t.labels[mask]).astype(float)
            )
            figures["coverage_at_target_precision"] = coverage_at_precision(
                curve, args.precision_target
            )
            per_locale[name] = figures
        names, matrix = confusion(tree, cal, t.labels)
        result.metrics.setdefault("lines", {})[line] = {
            "temperature": temp,
            "valid": topic_metrics(tree, valid_probs, v.labels, args.top_k, args.ece_bins),
            "test": per_locale,
            "confusion_top_level": {"labels": names, "matrix": matrix},
            **({"lexical": fusion} if fusion else {}),
        }
        result.plots.setdefault("confusion", {})[line] = (names, matrix)
        pooled["conf_raw"].append(raw.max(axis=1))
        pooled["conf"].append(cal.max(axis=1))
        pooled["correct"].append((cal.argmax(axis=1) == t.labels).astype(float))
        pooled["loc"].append(np.array(t.locales))
    _overall(result, pooled, args)
    _guard(result, spec, valid, test)
    return result


def _overall(result: Evaluation, pooled: dict[str, list[np.ndarray]], args: EvalArguments) -> None:
    """Pool every line's top-1 decisions: accuracy per language, reliability and coverage curves."""
    conf_raw, conf = np.concatenate(pooled["conf_raw"]), np.concatenate(pooled["conf"])
    correct, locales = np.concatenate(pooled["correct"]), np.concatenate(pooled["loc"])
    overall, curves = {}, {}
    for name, mask in by_locale(locales.tolist()).items():
        overall[name] = {"n": int(mask.sum()), "leaf_accuracy": float(correct[mask].mean())}
        curves[name] = coverage_precision(conf[mask], correct[mask])
    result.metrics["overall"] = overall
    result.plots["coverage"] = curves
    result.plots["reliability"] = {
        "before": reliability(conf_raw, correct, args.ece_bins),
        "after": reliability(conf, correct, args.ece_bins),
    }


def _guard(result: Evaluation, spec: ModelSpec, valid: Outputs, test: Outputs) -> None:
    """Calibrate the guard on every line's validation logits; measure it per language."""
    v_logits = np.concatenate([o.guard for o in valid.values()])
    v_labels = np.concatenate([o.guards for o in valid.values()])
    temp = guard_temperature(v_logits, v_labels) if spec.guard_trained else 1.0
    result.temperature["guard"] = temp
    logits = np.concatenate([o.guard for o in test.values()])
    labels = np.concatenate([o.guards for o in test.values()])
    locales = [loc for o in test.values() for loc in o.locales]
    probs = np.exp(log_softmax(np.asarray(logits, dtype=np.float64) / temp))
    result.metrics["guard"] = {
        "trained": spec.guard_trained,
        "temperature": temp,
        "test": {
            name: guard_metrics(probs[mask], labels[mask], spec.guard_classes)
            for name, mask in by_locale(locales).items()
        },
    }


def token_stats(encoder: TextEncoder, examples: list[Example]) -> dict[str, dict[str, float]]:
    """Return, per language, word pieces per word, mean pieces per text and the truncation rate."""
    stats = {}
    groups = {ALL: examples}
    for example in examples:
        groups.setdefault(example.locale, []).append(example)
    for name, group in sorted(groups.items()):
        pieces = encoder.pieces([e.text for e in group])
        words = sum(len(e.text.split()) for e in group)
        lengths = np.array([len(p) for p in pieces])
        stats[name] = {
            "n": len(group),
            "tokens_per_word": float(lengths.sum() / max(words, 1)),
            "mean_tokens": float(lengths.mean()) if len(lengths) else 0.0,
            "truncation_rate": float(np.mean(lengths > encoder.max_length - 2)),
        }
    return stats
