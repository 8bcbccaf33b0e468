"""Thresholds fitted on the decision, Learn-then-Test style: a guarantee, back-off, the guard floor."""

import numpy as np
import pytest

from training.thresholds import (
    Evidence,
    RiskTargets,
    fit_actionable_floor,
    fit_threshold,
    fit_thresholds,
    least_support,
    node_paths,
    upper_bound,
)

TARGETS = RiskTargets(error=0.05, unsafe=0.05, delta=0.1)


def test_least_support_is_where_zero_errors_can_pass_the_test():
    assert least_support(0.05, 0.1) == 45  # 0.95 ** 45 < 0.1 <= 0.95 ** 44
    assert least_support(0.01, 0.1) == 230
    assert least_support(0.01, 0.1, errors=1) == 388  # one error allowed: more tickets


def test_one_unsafe_reply_among_the_most_confident_does_not_refuse_the_whole_node():
    # 1,000 correct replies, the single unsafe one the second most confident: testing from the
    # fewest tickets zero errors could pass (230) would fail at once and stop the sequence.
    conf = np.linspace(0.99, 0.5, 1000)
    unsafe = np.zeros(1000, bool)
    unsafe[1] = True
    entry = fit_threshold(conf, unsafe.copy(), unsafe, RiskTargets(0.03, 0.01, 0.1))
    assert entry["threshold"] is not None and entry["accepted"] >= 388 and entry["unsafe"] == 1
    assert entry["unsafe_bound"] <= 0.01


def test_upper_bound_is_clopper_pearson():
    assert upper_bound(0, 45, 0.1) == pytest.approx(1 - 0.1 ** (1 / 45))
    assert upper_bound(5, 100, 0.1) > 0.05 > upper_bound(0, 100, 0.1) / 2
    assert upper_bound(3, 3, 0.1) == 1.0 and upper_bound(0, 0, 0.1) == 1.0


def test_the_sequence_stops_at_the_first_threshold_that_fails():
    # 200 confident correct replies, then a band where every reply is wrong.
    conf = np.concatenate([np.linspace(0.99, 0.8, 200), np.linspace(0.79, 0.5, 100)])
    error = np.concatenate([np.zeros(200, bool), np.ones(100, bool)])
    entry = fit_threshold(conf, error, np.zeros(300, bool), TARGETS)
    assert 0.75 < entry["threshold"] <= 0.8
    assert entry["error_bound"] <= TARGETS.error and entry["accepted"] >= 200


def test_unsafe_replies_alone_can_refuse_a_threshold():
    conf = np.linspace(0.99, 0.6, 300)
    unsafe = np.zeros(300, bool)
    unsafe[::10] = True  # 10% of replies go to thanks or sarcasm, all counted as errors too
    entry = fit_threshold(conf, unsafe.copy(), unsafe, RiskTargets(0.2, 0.02, 0.1))
    assert entry["threshold"] is None


def test_too_little_evidence_has_no_threshold_and_the_line_takes_over():
    leaves = ("r/a/x", "r/a/y", "r/b/z")
    anchors = ["r/a/x"] * 20 + ["r/b/z"] * 200
    conf = np.full(220, 0.95)
    evidence = Evidence(anchors, conf, np.zeros(220, bool), np.zeros(220, bool))
    entries = fit_thresholds(leaves, evidence, TARGETS)
    assert node_paths(leaves) == ["r", "r/a", "r/a/x", "r/a/y", "r/b", "r/b/z"]
    assert entries["r/a/x"]["threshold"] is None and entries["r/a/x"]["support"] == 20
    assert entries["r/a"]["threshold"] is None
    assert entries["r/b/z"]["threshold"] == 0.95 and entries["r"]["threshold"] == 0.95
    assert entries["r"]["support"] == 220


def test_guard_floor_reaches_the_recall_of_every_non_actionable_class():
    rng = np.random.default_rng(0)
    actionable = np.concatenate(
        [rng.uniform(0.6, 1, 100), rng.uniform(0, 0.5, 50), rng.uniform(0.3, 0.9, 50)]
    )
    guards = ["actionable"] * 100 + ["gratitude"] * 50 + ["sarcasm"] * 50
    floor = fit_actionable_floor(actionable, guards, recall=0.9)
    assert (actionable[150:] < floor).mean() >= 0.9 and (actionable[100:150] < floor).all()
    assert fit_actionable_floor(actionable, [None] * 200, 0.9) is None
