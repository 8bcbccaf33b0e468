"""Where to set the operating point: refit the guard floor and the thresholds on validation for
several guard recalls and risk targets, and replay test through the service's decision code.

    python benchmarks/decisions_sweep.py --bundle var/bundles/current --corpus var/corpus \
        --recall 0.6,0.7,0.8 --risk 0.03,0.05 --unsafe 0.01,0.02

Prints one line per setting: test coverage, agreement, unsafe replies, the error bound, how many
topic nodes got a threshold, and the guard's recall (flagged / handed off) per class.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from models.abstention import AbstentionPolicy
from models.runtime import load_classifier
from rules.loader import load_rulebook
from training.args import DataArguments
from training.data import Example, read_examples
from training.decisions import evidence
from training.replay import replay, summarize
from training.thresholds import RiskTargets, fit_actionable_floor, fit_thresholds


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
    rulebook, base = load_rulebook(), AbstentionPolicy.from_bundle(classifier.bundle)

    def load(split: str) -> tuple[list[Example], list]:
        rows = read_examples(args.corpus / f"{split}.jsonl", DataArguments(), "corpus")
        rows = [e for e in rows if e.line in classifier.lines]
        found = [classifier.predict([e.text], e.line, k=1, dialogues=[e.dialogue])[0] for e in rows]
        return rows, found

    (valid, valid_p), (test, test_p) = load("valid"), load("test")
    actionable = np.array([p.guard["actionable"] for p in valid_p])
    for recall in args.recall:
        floor = fit_actionable_floor(actionable, [e.guard for e in valid], recall) or 0.5
        open_policy = replace(base, thresholds={}, actionable_floor=floor)
        for risk in args.risk:
            for unsafe in args.unsafe:
                thresholds: dict[str, float | None] = {}
                for line in classifier.lines:
                    rows = [i for i, e in enumerate(valid) if e.line == line]
                    outcomes = replay([valid[i] for i in rows], [valid_p[i] for i in rows],
                                      rulebook, open_policy)  # fmt: skip
                    entries = fit_thresholds(
                        classifier.bundle.spec.lines[line],
                        evidence(outcomes),
                        RiskTargets(risk, unsafe, args.delta),
                    )
                    thresholds.update({k: v["threshold"] for k, v in entries.items()})
                policy = replace(open_policy, thresholds=thresholds)
                report = summarize(replay(test, test_p, rulebook, policy), args.delta)
                o = report["overall"]
                guard = " ".join(
                    f"{k}={v['flagged']}/{v['handed_off']}"
                    for k, v in report["guard_recall"].items()
                )
                print(
                    f"recall {recall} (floor {floor:.3f}) risk {risk} unsafe {unsafe}: "
                    f"coverage {o['coverage']} agreement {o['agreement']} "
                    f"unsafe {o['unsafe']}/{o['replies']} bound {o['error_bound']} "
                    f"thresholds {sum(v is not None for v in thresholds.values())} | {guard}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
