"""The prediction cache's forms: the object in process, asdict's JSON shape in Redis."""

from __future__ import annotations

import json
from dataclasses import asdict

from models.prediction import LevelProb, Prediction, TopicCandidate
from service.predictions import prediction_from_dict, prediction_to_dict

PREDICTION = Prediction(
    line="riders",
    candidates=(
        TopicCandidate(
            "riders/ride_cost/promo_not_applied",
            0.9,
            (
                LevelProb("riders/ride_cost", 0.95),
                LevelProb("riders/ride_cost/promo_not_applied", 0.9),
            ),
        ),
        TopicCandidate("riders/payment/receipt", 0.05, (LevelProb("riders/payment", 0.05),)),
    ),
    guard={"actionable": 0.8, "gratitude": 0.2},
    model_version="v1",
    tokens=17,
    truncated=True,
    extra={"x": 1.5},
)


def test_the_json_form_is_asdicts_and_comes_back_equal():
    data = json.loads(json.dumps(prediction_to_dict(PREDICTION)))
    assert data == json.loads(json.dumps(asdict(PREDICTION)))
    assert prediction_from_dict(data) == PREDICTION
