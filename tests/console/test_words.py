"""Every hand-off reason and every wrong-suggestion reason has words an agent understands."""

from __future__ import annotations

from service.console.words import HANDOFF_WORDS, WRONG_WORDS, explain_trace
from service.decision import HANDOFF_REASONS
from service.schemas import WRONG_REASONS
from tests.examples import PROMO, WORKED


def test_every_hand_off_reason_has_words():
    assert set(HANDOFF_WORDS) == set(HANDOFF_REASONS)
    assert all(words.endswith(".") and "_" not in words for words in HANDOFF_WORDS.values())


def test_every_wrong_reason_has_words():
    assert tuple(WRONG_WORDS) == WRONG_REASONS


def test_the_why_names_the_rule_and_each_condition_with_its_value():
    from rules.loader import load_rulebook

    book = load_rulebook()
    trace = book.evaluate(PROMO, {**WORKED, "coupon_use_value": 50}).as_dict()["trace"]
    why = explain_trace(trace, {rule.id: rule.description for rule in book.rules})
    sentences = [c.sentence for rule in why for c in rule.conditions]
    assert "coupon_use_value = 100 does not hold: coupon_use_value is 50" in sentences
    assert "success_order_flg is true holds: success_order_flg is true" in sentences
    assert "Rule promo_burnt_reissue did not apply." in [rule.headline for rule in why]
    fired = [rule for rule in why if rule.fired]
    assert fired and fired[-1].headline.startswith(f"Rule {fired[-1].rule} chose this reply")
