"""Where to set the operating point: refit the guard floor and the thresholds on validation for
several guard recalls and risk targets, and replay test through the service's decision code.

    python benchmarks/decisions_sweep.py --bundle var/bundles/current --corpus var/corpus \
        --recall 0.6,0.7,0.8 --risk 0.03,0.05 --unsafe 0.01,0.02

Prints one line per setting: test coverage, agreement, unsafe replies, the error bound, how many
topic nodes got a threshold, and the guard's recall (flagged / handed off) per class.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from models.abstention import AbstentionPolicy
from models.bundle import actionable_leaves
from models.prediction import Prediction
from models.runtime import load_classifier
from rules.loader import load_rulebook
from training.args import DataArguments, EvalArguments
from training.data import Example, read_examples
from training.decisions import fit_policy, served_predictions
from training.replay import replay, summarize


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--recall", type=floats, default=[0.6, 0.7, 0.8])
    parser.add_argument("--risk", type=floats, default=[0.03])
    parser.add_argument("--unsafe", type=floats, default=[0.01])
    parser.add_argument("--delta", type=float, default=0.1)
    args = parser.parse_args()
    classifier = load_classifier(args.bundle, "onnx-int8")
    bundle, rulebook = classifier.bundle, load_rulebook()

    def load(split: str) -> tuple[dict[str, list[Example]], dict[str, list[Prediction]]]:
        rows = read_examples(args.corpus / f"{split}.jsonl", DataArguments(), "corpus")
        found, by_line = served_predictions(classifier, rows)
        return by_line, found

    (valid, valid_p), (test, test_p) = load("valid"), load("test")
    flat_test = [e for line in classifier.lines for e in test[line]]
    flat_test_p = [p for line in classifier.lines for p in test_p[line]]
    for recall, risk, unsafe in itertools.product(args.recall, args.risk, args.unsafe):
        config = EvalArguments(
            guard_recall=recall, risk_target=risk, unsafe_target=unsafe, risk_delta=args.delta
        )
        fitted = fit_policy(
            bundle.spec, valid_p, valid, rulebook, actionable_leaves(bundle.topics), config
        )
        thresholds = {node: entry["threshold"] for node, entry in fitted.thresholds.items()}
        policy = replace(
            AbstentionPolicy.from_bundle(bundle),
            thresholds=thresholds,
            actionable_floor=fitted.policy["actionable_floor"],
        )
        report = summarize(replay(flat_test, flat_test_p, rulebook, policy), args.delta)
        o = report["overall"]
        guard = " ".join(
            f"{k}={v['flagged']}/{v['handed_off']}" for k, v in report["guard_recall"].items()
        )
        print(
            f"recall {recall} (floor {fitted.policy['actionable_floor']:.3f}) risk {risk} "
            f"unsafe {unsafe}: coverage {o['coverage']} agreement {o['agreement']} "
            f"unsafe {o['unsafe']}/{o['replies']} bound {o['error_bound']} "
            f"thresholds {sum(v is not None for v in thresholds.values())} | {guard}",
            flush=True,
        )


if __name__ == "__main__":
    main()
