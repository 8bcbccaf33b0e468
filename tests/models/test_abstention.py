"""Abstention reasons: a pure function of the prediction and the policy."""

import pytest

from models.abstention import REASONS, AbstentionPolicy, abstention_reasons
from models.prediction import GUARD_CLASSES, LevelProb, Prediction, TopicCandidate

PROMO = "riders/ride_cost/promo_not_applied"
OVER = "riders/ride_cost/overcharge"
THANKS = "riders/other/thanks"


def prediction(top=(PROMO, 0.9), second=(OVER, 0.05), **guard):
    probs = {c: 0.0 for c in GUARD_CLASSES}
    probs.update(guard or {"actionable": 0.95})
    candidates = tuple(
        TopicCandidate(path, prob, (LevelProb(path.rsplit("/", 1)[0], prob), LevelProb(path, prob)))
        for path, prob in (top, second)
    )
    return Prediction("riders", candidates, probs, "v1")


@pytest.fixture
def policy():
    return AbstentionPolicy(
        thresholds={PROMO: 0.8, OVER: None, THANKS: 0.5},
        actionable={PROMO: True, OVER: True, THANKS: False},
    )


def test_confident_actionable_prediction_has_no_reason(policy):
    assert abstention_reasons(prediction(), policy) == ()


def test_each_reason(policy):
    assert abstention_reasons(prediction(top=(PROMO, 0.7)), policy) == ("low_confidence",)
    assert abstention_reasons(prediction(top=(OVER, 0.99), second=(PROMO, 0.0)), policy) == (
        "no_threshold",
    )
    assert abstention_reasons(prediction(top=(PROMO, 0.85), second=(OVER, 0.8)), policy) == (
        "small_margin",
    )
    assert abstention_reasons(prediction(top=(THANKS, 0.9)), policy) == ("non_actionable_topic",)
    assert abstention_reasons(prediction(gratitude=0.7, actionable=0.3), policy) == (
        "guard_gratitude",
    )
    assert abstention_reasons(prediction(actionable=0.4, sarcasm=0.3, unclear=0.3), policy) == (
        "guard_not_actionable",
    )


def test_reasons_accumulate_and_stay_in_the_fixed_vocabulary(policy):
    reasons = abstention_reasons(
        prediction(top=(THANKS, 0.45), second=(PROMO, 0.4), gratitude=0.9, actionable=0.1), policy
    )
    assert reasons == ("low_confidence", "small_margin", "non_actionable_topic", "guard_gratitude")
    assert set(reasons) <= set(REASONS)


def test_unknown_topic_never_autoreplies(policy):
    assert "no_threshold" in abstention_reasons(prediction(top=("riders/new/leaf", 0.99)), policy)


def test_untrained_guard_blocks_autoreply(policy):
    policy = AbstentionPolicy(thresholds={PROMO: 0.8}, guard_trained=False)
    assert abstention_reasons(prediction(), policy) == ("guard_untrained",)
