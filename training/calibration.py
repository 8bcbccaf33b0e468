"""Temperature scaling: one temperature per head, fitted on validation by minimising the NLL."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from models.tree import Design, LabelTree

LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))


def fit_temperature(target_log_probs: Callable[[float], np.ndarray]) -> float:
    """Return the temperature minimising the mean NLL; `target_log_probs(T)` gives the true
    class's log-probability per example at temperature T."""
    result = minimize_scalar(
        lambda log_t: -float(np.mean(target_log_probs(float(np.exp(log_t))))),
        bounds=LOG_T_BOUNDS,
        method="bounded",
    )
    return float(np.exp(result.x))


def topic_temperature(
    tree: LabelTree, design: Design, scores: np.ndarray, labels: np.ndarray
) -> float:
    """Return the temperature of one line's topic head (1.0 with no validation examples)."""
    if not len(labels):
        return 1.0
    rows = np.arange(len(labels))
    return fit_temperature(lambda t: tree.leaf_log_probs(scores, design, t)[rows, labels])


def guard_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Return the guard head's temperature, fitted on the labelled examples only."""
    known = labels >= 0
    if not known.any():
        return 1.0
    z, y = np.asarray(logits, dtype=np.float64)[known], labels[known]
    rows = np.arange(len(y))
    return fit_temperature(lambda t: log_softmax(z / t)[rows, y])


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Return log-softmax over the last axis."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
