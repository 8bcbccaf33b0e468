"""The pure decision: every reason named, reply only when everything allows it."""

from __future__ import annotations

import pytest

from models.prediction import TopicCandidate
from rules.loader import load_rulebook
from service.decision import Action, Proposal, decide
from service.settings import LineMode
from tests.examples import PROMO, WORKED

BOOK = load_rulebook()


def proposal(topic=PROMO, facts=WORKED, actionable=True, render_error=None):
    match = BOOK.evaluate(topic, facts)
    template = BOOK.templates.get(match.template) if match.template else None
    return Proposal(
        TopicCandidate(topic, 0.95, ()), actionable, match, template, "text", render_error
    )


def test_reply_when_everything_allows_it():
    verdict = decide(mode=LineMode.ON, locale_known=True, model_reasons=(), best=proposal())
    assert verdict.action is Action.REPLY and verdict.reasons == () and verdict.would_reply


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"model_reasons": ("low_confidence",)}, "low_confidence"),
        ({"locale_known": False}, "unknown_locale"),
        ({"best": proposal(facts={**WORKED, "complete_rides": 1})}, "rule_requires_human"),
        ({"best": proposal(facts={**WORKED, "complete_rides": 1})}, "template_requires_human"),
        ({"best": proposal(facts={"complete_rides": 3})}, "missing_fact"),
        ({"best": proposal(render_error="boom")}, "render_failed"),
        (
            {"best": proposal(topic="riders/other/off_topic", actionable=False)},
            "non_actionable_topic",
        ),
        ({"best": None}, "no_rule"),
        ({"mode": LineMode.OFF}, "mode_off"),
        ({"mode": LineMode.SHADOW}, "shadow_mode"),
    ],
)
def test_each_reason_hands_off(kwargs, reason):
    args = {
        "mode": LineMode.ON,
        "locale_known": True,
        "model_reasons": (),
        "best": proposal(),
    } | kwargs
    verdict = decide(**args)
    assert verdict.action is Action.HANDOFF and reason in verdict.reasons


def test_shadow_mode_only_adds_its_reason_when_it_would_have_replied():
    verdict = decide(
        mode=LineMode.SHADOW, locale_known=True, model_reasons=("small_margin",), best=proposal()
    )
    assert verdict.reasons == ("small_margin",) and not verdict.would_reply
