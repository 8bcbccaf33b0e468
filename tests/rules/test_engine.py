import pytest

from rules.loader import load_rulebook
from tests.examples import CASE_CONDITIONS, PROMO, WORKED


@pytest.fixture(scope="module")
def book():
    return load_rulebook()


def test_worked_example_matches_with_a_full_trace(book):
    match = book.evaluate(PROMO, book.facts.validate(WORKED))
    assert (match.rule.id, match.template) == ("promo_burnt_reissue", "riders.promo_reissue")
    fired = match.as_dict()["trace"][-1]
    assert fired["rule"] == "promo_burnt_reissue" and fired["result"] == "true"
    assert [c["condition"] for c in fired["conditions"]] == CASE_CONDITIONS
    assert [c["value"] for c in fired["conditions"]] == [12, True, False, "success", True, 100]
    assert match.missing_facts == ()


def test_missing_fact_makes_its_condition_missing_and_is_reported(book):
    facts = {k: v for k, v in WORKED.items() if k != "success_order_flg"}
    match = book.evaluate(PROMO, facts)
    assert match.rule.id != "promo_burnt_reissue"
    conditions = next(t for t in match.as_dict()["trace"] if t["rule"] == "promo_burnt_reissue")[
        "conditions"
    ]
    assert {
        "condition": "success_order_flg is true",
        "fact": "success_order_flg",
        "value": None,
        "result": "missing",
    } in conditions
    assert "success_order_flg" in match.missing_facts


def test_not_of_a_missing_fact_never_fires(book):
    # promo_not_used_explain says `not: paid_cancel_tag is true`; with the tag missing it must not fire
    facts = {"complete_rides": 5, "coupon_used": False}
    match = book.evaluate(PROMO, facts)
    assert match.rule.id == "promo_fallback"
    assert "paid_cancel_tag" in match.missing_facts


def test_evaluation_never_raises_on_ticket_data(book):
    odd = {
        "complete_rides": "many",
        "coupon_used": "yes",
        "coupon_use_value": [1],
        "final_transaction_status": 7,
    }
    match = book.evaluate(PROMO, odd)
    assert match.rule.id == "promo_fallback"
    assert book.evaluate("riders/no/such/topic", WORKED).rule is None


def test_subtree_rules_apply_below_their_topic(book):
    match = book.evaluate("drivers/account/blocked", {"account_status": "blocked"})
    assert match.rule.id == "blocked_review" and match.rule.topic == "drivers/account"


def test_order_is_priority_then_specificity(book):
    ids = [r.id for r in book.rules_for(PROMO)]
    assert ids[0] == "promo_first_ride_escalate" and ids[-1] == "promo_fallback"
