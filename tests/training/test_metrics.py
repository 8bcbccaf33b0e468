"""Metrics, temperature scaling and per-topic thresholds on small known cases."""

import numpy as np
import pytest

from models.tree import LabelTree
from training.calibration import guard_temperature, topic_temperature
from training.metrics import (
    coverage_at_precision,
    coverage_precision,
    expected_calibration_error,
    hierarchical_f1,
    level_accuracy,
    topic_metrics,
)

TREE = LabelTree("r", ("r/a/x", "r/a/y", "r/b/z"))


def test_hierarchical_f1_gives_credit_for_the_right_parent():
    assert hierarchical_f1(TREE, np.array([1]), np.array([0])) == pytest.approx(0.5)
    assert hierarchical_f1(TREE, np.array([2]), np.array([0])) == 0.0
    assert hierarchical_f1(TREE, np.array([0, 2]), np.array([0, 2])) == 1.0


def test_level_accuracy_uses_the_marginals():
    probs = np.array([[0.3, 0.3, 0.4]])  # leaf z wins, but category a has 0.6
    assert level_accuracy(TREE, probs, np.array([0])) == {"1": 1.0, "2": 0.0}


def test_topic_metrics_report_every_figure():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    figures = topic_metrics(TREE, probs, np.array([0, 1, 2]), k=2, bins=10)
    assert figures["leaf_accuracy"] == pytest.approx(2 / 3)
    assert figures["top2_accuracy"] == pytest.approx(2 / 3)
    assert set(figures) >= {"macro_f1", "hierarchical_f1", "ece", "level_accuracy"}


def test_ece_is_the_confidence_accuracy_gap():
    assert expected_calibration_error(
        np.array([0.9, 0.9]), np.array([1.0, 0.0]), 10
    ) == pytest.approx(0.4)


def test_coverage_precision_curve():
    curve = coverage_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1.0, 1.0, 0.0, 1.0]))
    assert curve["precision"] == [1.0, 1.0, pytest.approx(2 / 3), 0.75]
    assert coverage_at_precision(curve, 0.95) == 0.5


def test_temperature_recovers_an_overconfident_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 2
    labels = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in true_logits])
    assert topic_temperature(TREE, "flat", true_logits * 3, labels) == pytest.approx(3, rel=0.15)
    assert guard_temperature(true_logits * 3, labels) == pytest.approx(3, rel=0.15)
    assert guard_temperature(true_logits, np.full(4000, -100)) == 1.0
