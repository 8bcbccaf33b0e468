"""The pure decision: every reason named, reply only when everything allows it."""

from __future__ import annotations

import re

import pytest

from models.abstention import ReplyOption
from models.prediction import TopicCandidate
from rules.loader import load_rulebook
from service.decision import (
    Action,
    Proposal,
    Suggestion,
    decide,
    option_reasons,
    rules_reasons,
)
from service.settings import LineMode
from tests.examples import PROMO, WORKED

BOOK = load_rulebook()


def proposal(topic=PROMO, facts=WORKED, actionable=True):
    match = BOOK.evaluate(topic, facts)
    template = BOOK.templates.get(match.template) if match.template else None
    return Proposal(TopicCandidate(topic, 0.95, ()), actionable, match, template)


def suggestion(*proposals: Proposal, render_error=None) -> Suggestion:
    first = proposals[0]
    option = ReplyOption(first.match.template, 0.95, tuple(p.topic.path for p in proposals))
    return Suggestion(option, first, option_reasons(proposals), "text", render_error)


def rule_reasons(best: Suggestion | None = None) -> list[str]:
    return rules_reasons(best or suggestion(proposal()), None)


def test_reply_when_everything_allows_it():
    verdict = decide(
        mode=LineMode.ON, locale_known=True, model_reasons=(), rule_reasons=rule_reasons()
    )
    assert verdict.action is Action.REPLY and verdict.reasons == () and verdict.would_reply


REFUSED = {**WORKED, "complete_rides": 1}


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"model_reasons": ("low_confidence",)}, "low_confidence"),
        ({"locale_known": False}, "unknown_locale"),
        (
            {"rule_reasons": rule_reasons(suggestion(proposal(facts=REFUSED)))},
            "rule_requires_human",
        ),
        (
            {"rule_reasons": rule_reasons(suggestion(proposal(facts=REFUSED)))},
            "template_requires_human",
        ),
        (
            {"rule_reasons": rule_reasons(suggestion(proposal(facts={"complete_rides": 3})))},
            "missing_fact",
        ),
        (
            {"rule_reasons": rule_reasons(suggestion(proposal(), render_error="boom"))},
            "render_failed",
        ),
        (
            {
                "rule_reasons": rules_reasons(
                    None, proposal(topic="riders/other/off_topic", actionable=False)
                )
            },
            "non_actionable_topic",
        ),
        ({"rule_reasons": rules_reasons(None, None)}, "no_rule"),
        ({"mode": LineMode.OFF}, "mode_off"),
        ({"mode": LineMode.SHADOW}, "shadow_mode"),
    ],
)
def test_each_reason_hands_off(kwargs, reason):
    args = {
        "mode": LineMode.ON,
        "locale_known": True,
        "model_reasons": (),
        "rule_reasons": rule_reasons(),
    } | kwargs
    verdict = decide(**args)
    assert verdict.action is Action.HANDOFF and reason in verdict.reasons


def test_a_reply_chosen_by_two_leaves_carries_both_leaves_rule_reasons():
    allowed, refused = proposal(), proposal(facts=REFUSED)
    assert option_reasons([allowed]) == ()
    assert "rule_requires_human" in option_reasons([allowed, refused])


def test_shadow_mode_only_adds_its_reason_when_it_would_have_replied():
    verdict = decide(
        mode=LineMode.SHADOW,
        locale_known=True,
        model_reasons=("small_margin",),
        rule_reasons=rule_reasons(),
    )
    assert verdict.reasons == ("small_margin",) and not verdict.would_reply


def test_the_readme_lists_exactly_the_handoff_reasons():
    from pathlib import Path

    from service.decision import HANDOFF_REASONS

    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    section = readme.split("Hand-off reasons (bounded", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", section.split(":", 1)[1])) - {"docs"}
    assert listed == set(HANDOFF_REASONS)
