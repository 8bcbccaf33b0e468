"""Evaluation metrics over calibrated leaf probabilities (numpy; one line's tree at a time)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from models.tree import LabelTree


def leaf_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Return the share of examples whose most probable leaf is the true one."""
    return float(np.mean(np.argmax(probs, axis=1) == labels)) if len(labels) else 0.0


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Return the share of examples whose true leaf is among the k most probable."""
    if not len(labels):
        return 0.0
    top = np.argsort(-probs, axis=1)[:, :k]
    return float(np.mean((top == labels[:, None]).any(axis=1)))


def level_accuracy(tree: LabelTree, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Return, per depth, the accuracy of the most probable node there (by marginal sums)."""
    nodes = tree.node_probs(probs)
    result = {}
    for level in range(1, tree.max_depth + 1):
        candidates = np.array(tree.level_of_nodes(level))
        chosen = candidates[np.argmax(nodes[:, candidates], axis=1)]
        truth = np.array([_node_at(tree, int(label), level) for label in labels])
        result[str(level)] = float(np.mean(chosen == truth)) if len(labels) else 0.0
    return result


def _node_at(tree: LabelTree, leaf: int, level: int) -> int:
    path = tree.path_nodes(leaf)
    return path[min(level, len(path)) - 1]


def hierarchical_f1(tree: LabelTree, predicted: np.ndarray, labels: np.ndarray) -> float:
    """Return set-based hierarchical F1: overlap of the predicted and true ancestor sets."""
    overlap = size_pred = size_true = 0
    for p, t in zip(predicted, labels, strict=True):
        pred_set, true_set = set(tree.path_nodes(int(p))), set(tree.path_nodes(int(t)))
        overlap += len(pred_set & true_set)
        size_pred += len(pred_set)
        size_true += len(true_set)
    if not overlap:
        return 0.0
    precision, recall = overlap / size_pred, overlap / size_true
    return 2 * precision * recall / (precision + recall)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """Return ECE: the bin-weighted gap between confidence and accuracy of the top-1 leaf."""
    if not len(confidence):
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(gap)


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int) -> dict[str, list[float]]:
    """Return per-bin mean confidence, accuracy and count (the reliability diagram's data)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows: dict[str, list[float]] = {"confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        in_bin = which == b
        rows["confidence"].append(float(confidence[in_bin].mean()) if in_bin.any() else 0.0)
        rows["accuracy"].append(float(correct[in_bin].mean()) if in_bin.any() else 0.0)
        rows["count"].append(float(in_bin.sum()))
    return rows


def coverage_precision(confidence: np.ndarray, correct: np.ndarray) -> dict[str, list[float]]:
    """Return the curve of precision vs coverage when accepting the most confident top-1 first."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    count = np.arange(1, len(order) + 1)
    return {
        "coverage": (count / max(len(order), 1)).tolist(),
        "precision": (hits / count).tolist(),
        "threshold": confidence[order].tolist(),
    }


def coverage_at_precision(curve: dict[str, list[float]], target: float) -> float:
    """Return the largest coverage whose accepted set still has precision >= target."""
    ok = [c for c, p in zip(curve["coverage"], curve["precision"], strict=True) if p >= target]
    return max(ok, default=0.0)


def topic_metrics(
    tree: LabelTree, probs: np.ndarray, labels: np.ndarray, k: int, bins: int
) -> dict[str, Any]:
    """Return leaf, per-level, macro-F1, hierarchical-F1, top-k accuracy and ECE for one set."""
    predicted = np.argmax(probs, axis=1)
    confidence = probs.max(axis=1) if len(probs) else np.zeros(0)
    correct = (predicted == labels).astype(float)
    return {
        "n": len(labels),
        "leaf_accuracy": leaf_accuracy(probs, labels),
        "level_accuracy": level_accuracy(tree, probs, labels),
        "macro_f1": float(f1_score(labels, predicted, average="macro")) if len(labels) else 0.0,
        "hierarchical_f1": hierarchical_f1(tree, predicted, labels),
        f"top{k}_accuracy": topk_accuracy(probs, labels, k),
        "ece": expected_calibration_error(confidence, correct, bins),
    }


def confusion(
    tree: LabelTree, probs: np.ndarray, labels: np.ndarray
) -> tuple[list[str], list[list[int]]]:
    """Return the top-level categories and their confusion counts (rows true, columns predicted)."""
    tops = [i for i, node in enumerate(tree.nodes) if tree.depth(node) == 1]
    position = {node: row for row, node in enumerate(tops)}
    matrix = np.zeros((len(tops), len(tops)), dtype=int)
    for p, t in zip(np.argmax(probs, axis=1), labels, strict=True):
        matrix[position[_node_at(tree, int(t), 1)], position[_node_at(tree, int(p), 1)]] += 1
    return [tree.nodes[i] for i in tops], matrix.tolist()


def guard_metrics(
    probs: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    """Return accuracy, macro-F1 and per-class recall of the guard on labelled examples."""
    known = labels >= 0
    if not known.any():
        return {"n": 0}
    predicted, truth = np.argmax(probs[known], axis=1), labels[known]
    recall = {
        name: float(np.mean(predicted[truth == i] == i))
        for i, name in enumerate(classes)
        if (truth == i).any()
    }
    return {
        "n": int(known.sum()),
        "accuracy": float(np.mean(predicted == truth)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "recall": recall,
    }
