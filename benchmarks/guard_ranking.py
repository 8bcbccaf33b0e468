"""How well a bundle's guard ranks what must never be answered, without the thresholds' noise.

    python benchmarks/guard_ranking.py --bundle var/bundles/current --corpus var/corpus \
        [--bundle var/bundles/other ...] [--recall 0.9]

For each bundle (int8, as the service answers): the `actionable` floor that flags `--recall` of
every non-actionable class on validation (what training fits), the floor each class and each
language alone would need, the share of actionable test tickets that floor flags per language
(answers the guard takes away), and per class and language the area under the curve of the
`actionable` probability against actionable tickets (1.0: every such message ranks below every
actionable one). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from models.runtime import TopicClassifier, load_classifier
from training.args import DataArguments
from training.data import read_examples
from training.decisions import served_predictions
from training.thresholds import fit_actionable_floor

ACTIONABLE = "actionable"


def guard_scores(
    classifier: TopicClassifier, corpus: Path, split: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (actionable probability, guard label, locale) of every ticket of a split."""
    rows = read_examples(corpus / f"{split}.jsonl", DataArguments(), "corpus")
    found, by_line = served_predictions(classifier, rows)
    examples = [e for line in classifier.lines for e in by_line[line]]
    predictions = [p for line in classifier.lines for p in found[line]]
    return (
        np.array([p.guard.get(ACTIONABLE, 0.0) for p in predictions]),
        np.array([e.guard or "" for e in examples], dtype=object),
        np.array([e.locale for e in examples], dtype=object),
    )


def floor_for(actionable: np.ndarray, guards: np.ndarray, recall: float) -> float:
    """Return the floor training would fit on these messages (`fit_actionable_floor`)."""
    floor = fit_actionable_floor(actionable, list(guards), recall)
    assert floor is not None, "no guard labels"
    return floor


def auc(flagged_scores: np.ndarray, actionable_scores: np.ndarray) -> float:
    """Return P(a non-actionable message ranks below an actionable one) on `actionable` prob."""
    scores = np.concatenate([flagged_scores, actionable_scores])
    ranks = scores.argsort().argsort() + 1.0
    n, m = len(flagged_scores), len(actionable_scores)
    above = ranks[n:].sum() - m * (m + 1) / 2  # actionable scores over each flagged one
    return float(above / (n * m))


def ranking(bundle: Path, corpus: Path, recall: float) -> dict[str, Any]:
    """Return the guard's floors, flagged actionable shares and AUCs for one bundle."""
    classifier = load_classifier(bundle, "onnx-int8")
    valid_p, valid_y, valid_l = guard_scores(classifier, corpus, "valid")
    test_p, test_y, test_l = guard_scores(classifier, corpus, "test")
    classes = sorted(set(valid_y.tolist()) - {ACTIONABLE, ""})
    locales = sorted(set(valid_l.tolist()))
    floor = floor_for(valid_p, valid_y, recall)
    actionable = test_y == ACTIONABLE
    return {
        "floor": round(floor, 4),
        "floor_needed_per_class": {
            c: round(floor_for(valid_p[valid_y == c], valid_y[valid_y == c], recall), 4)
            for c in classes
        },
        "floor_needed_per_locale": {
            loc: round(floor_for(valid_p[valid_l == loc], valid_y[valid_l == loc], recall), 4)
            for loc in locales
        },
        "actionable_flagged_on_test": {
            loc: round(float((test_p[actionable & (test_l == loc)] < floor).mean()), 4)
            for loc in locales
        },
        "auc_on_test": {
            f"{c}/{loc}": round(
                auc(test_p[(test_y == c) & (test_l == loc)], test_p[actionable & (test_l == loc)]),
                4,
            )
            for c in classes
            for loc in locales
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, action="append", required=True)
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus"))
    parser.add_argument("--recall", type=float, default=0.9)
    args = parser.parse_args()
    figures = {str(b): ranking(b, args.corpus, args.recall) for b in args.bundle}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
