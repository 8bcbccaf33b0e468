"""Abstention: decision-level confidence, threshold back-off, and reasons in a fixed vocabulary."""

import pytest

from models.abstention import (
    ALL_LINES,
    REASONS,
    AbstentionPolicy,
    ReplyOption,
    abstention_reasons,
    candidate_count,
    decision_confidence,
    reply_options,
    resolve_threshold,
)
from models.prediction import GUARD_CLASSES, LevelProb, Prediction, TopicCandidate

PROMO = "riders/ride_cost/promo_not_applied"
OVER = "riders/ride_cost/overcharge"
WAIT = "riders/ride_cost/waiting_fee"
THANKS = "riders/other/thanks"
TEMPLATES = {PROMO: "promo_reissue", OVER: "recalc", WAIT: "recalc", THANKS: None}


def prediction(*leaves, **guard):
    probs = {c: 0.0 for c in GUARD_CLASSES}
    probs.update(guard or {"actionable": 0.95})
    leaves = leaves or ((PROMO, 0.9), (OVER, 0.05))
    candidates = tuple(
        TopicCandidate(path, prob, (LevelProb(path.rsplit("/", 1)[0], prob), LevelProb(path, prob)))
        for path, prob in leaves
    )
    return Prediction("riders", candidates, probs, "v1")


def reasons(p: Prediction, policy: AbstentionPolicy) -> tuple[str, ...]:
    confidence = decision_confidence(reply_options(p.candidates, TEMPLATES.get), policy.thresholds)
    return abstention_reasons(p, policy, confidence)


@pytest.fixture
def policy():
    return AbstentionPolicy(
        thresholds={PROMO: 0.8, OVER: None, THANKS: 0.5},
        actionable={PROMO: True, OVER: True, WAIT: True, THANKS: False},
    )


def test_confident_actionable_prediction_has_no_reason(policy):
    assert reasons(prediction(), policy) == ()


def test_each_reason(policy):
    assert reasons(prediction((PROMO, 0.7), (OVER, 0.05)), policy) == ("low_confidence",)
    assert reasons(prediction((OVER, 0.99), (PROMO, 0.0)), policy) == ("no_threshold",)
    assert reasons(prediction((PROMO, 0.85), (OVER, 0.8)), policy) == ("small_margin",)
    assert reasons(prediction((THANKS, 0.9), (PROMO, 0.05)), policy) == (
        "low_confidence",
        "small_margin",
        "non_actionable_topic",
    )
    assert reasons(prediction(gratitude=0.7, actionable=0.3), policy) == ("guard_gratitude",)
    assert reasons(prediction(actionable=0.4, sarcasm=0.3, unclear=0.3), policy) == (
        "guard_not_actionable",
    )


def test_siblings_leading_to_one_template_add_up_instead_of_blocking_each_other():
    policy = AbstentionPolicy(thresholds={"riders/ride_cost": 0.8})
    split = prediction((OVER, 0.46), (WAIT, 0.45), (PROMO, 0.09))
    options = reply_options(split.candidates, TEMPLATES.get)
    assert options[0] == ReplyOption("recalc", pytest.approx(0.91), (OVER, WAIT))
    confidence = decision_confidence(options, policy.thresholds)
    assert confidence.prob == pytest.approx(0.91) and confidence.margin == pytest.approx(0.82)
    assert abstention_reasons(split, policy, confidence) == ()


def test_threshold_backs_off_from_the_leaf_to_its_parent_then_to_the_line():
    thresholds = {PROMO: 0.9, "riders/ride_cost": 0.7, "riders": 0.6, OVER: None}
    assert resolve_threshold(PROMO, thresholds) == (0.9, "own")
    assert resolve_threshold(OVER, thresholds) == (0.7, "parent")
    assert resolve_threshold(THANKS, thresholds) == (0.6, "line")
    assert resolve_threshold("drivers/account/blocked", thresholds) == (None, None)


def test_a_line_without_a_threshold_backs_off_to_the_one_pooled_over_every_line():
    thresholds = {"riders": 0.6, "drivers": None, ALL_LINES: 0.8}
    assert resolve_threshold("drivers/account/blocked", thresholds) == (0.8, "global")
    assert resolve_threshold(THANKS, thresholds) == (0.6, "line")


def test_reasons_accumulate_and_stay_in_the_fixed_vocabulary(policy):
    got = reasons(prediction((THANKS, 0.45), (PROMO, 0.4), gratitude=0.9, actionable=0.1), policy)
    assert got == ("low_confidence", "small_margin", "non_actionable_topic", "guard_gratitude")
    assert set(got) <= set(REASONS)


def test_no_candidate_with_a_template_has_no_threshold(policy):
    confidence = decision_confidence(
        reply_options(prediction((THANKS, 0.99)).candidates, TEMPLATES.get), policy.thresholds
    )
    assert confidence.option is None and confidence.threshold is None


def test_untrained_guard_blocks_autoreply_unless_the_policy_waives_it():
    policy = AbstentionPolicy(thresholds={PROMO: 0.8}, guard_trained=False)
    assert reasons(prediction(), policy) == ("guard_untrained",)
    waived = AbstentionPolicy(thresholds={PROMO: 0.8}, guard_trained=False, require_guard=False)
    assert reasons(prediction(), waived) == ()


def test_candidates_cover_nearly_all_the_probability():
    assert candidate_count([0.999, 0.001] + [0.0] * 30) == 1
    flat = [1 / 40] * 40
    assert candidate_count(flat) == 20  # at most MAX_CANDIDATES
    assert candidate_count([0.5, 0.3, 0.1, 0.05, 0.03, 0.015, 0.005]) == 6
