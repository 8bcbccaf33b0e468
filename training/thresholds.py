"""Per-topic autoreply thresholds chosen on validation to meet a precision target.

For each leaf, take the validation tickets whose top-1 prediction is that leaf, most confident
first. The threshold is the lowest confidence at which the accepted set still has precision >=
target *and* holds at least `min_support` tickets. A leaf that never gets there has no threshold
(None): it never autoreplies until more evidence arrives.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float, min_support: int
) -> dict[str, Any]:
    """Return {"threshold", "support", "accepted", "precision"} for one leaf's predictions."""
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], np.cumsum(correct[order])
    count = np.arange(1, len(order) + 1)
    precision = hits / np.maximum(count, 1)
    last_of_tie = np.append(conf[1:] < conf[:-1], True) if len(conf) else np.zeros(0, bool)
    ok = np.flatnonzero(last_of_tie & (count >= min_support) & (precision >= target))
    entry: dict[str, Any] = {"threshold": None, "support": len(order), "accepted": 0}
    entry["precision"] = float(precision[-1]) if len(order) else None
    if len(ok):
        cut = int(ok[-1])
        entry.update(
            threshold=float(conf[cut]), accepted=int(count[cut]), precision=float(precision[cut])
        )
    return entry


def choose_thresholds(
    leaves: tuple[str, ...], probs: np.ndarray, labels: np.ndarray, target: float, min_support: int
) -> dict[str, dict[str, Any]]:
    """Return each leaf's threshold entry from calibrated validation probabilities."""
    predicted = np.argmax(probs, axis=1) if len(probs) else np.zeros(0, int)
    confidence = probs.max(axis=1) if len(probs) else np.zeros(0)
    correct = (predicted == labels).astype(float)
    return {
        leaf: choose_threshold(
            confidence[predicted == i], correct[predicted == i], target, min_support
        )
        for i, leaf in enumerate(leaves)
    }


def autoreply_coverage(
    leaves: tuple[str, ...],
    thresholds: dict[str, dict[str, Any]],
    probs: np.ndarray,
    labels: np.ndarray,
) -> dict[str, float]:
    """Return the share of tickets the thresholds accept and the precision on them."""
    predicted = np.argmax(probs, axis=1)
    confidence = probs.max(axis=1)
    limits = np.array(
        [
            thresholds[leaf]["threshold"] if thresholds[leaf]["threshold"] is not None else np.inf
            for leaf in leaves
        ]
    )
    accepted = confidence >= limits[predicted]
    hits = (predicted == labels) & accepted
    return {
        "coverage": float(accepted.mean()) if len(labels) else 0.0,
        "precision": float(hits.sum() / accepted.sum()) if accepted.any() else 0.0,
        "topics_with_threshold": int(np.isfinite(limits).sum()),
    }
