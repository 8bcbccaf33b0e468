"""Ride facts: drawn from consistent joint distributions, with realistic gaps."""

import random
from collections import Counter

import pytest

from rules.loader import load_rulebook
from training.corpus.ride import MISSING_RATES
from training.corpus.stories import load_stories, sample_facts

BOOK = load_rulebook()
STORIES = load_stories()


def draws(topic=None, line="riders", n=400):
    rng = random.Random(11)
    stories = STORIES[topic] if topic else None
    return [sample_facts(rng, stories.line if stories else line, stories) for _ in range(n)]


@pytest.mark.parametrize("topic", sorted(STORIES))
def test_every_topic_draws_facts_the_rulebook_accepts(topic):
    for facts in draws(topic, n=60):
        BOOK.facts.validate(facts)


def test_rider_facts_are_jointly_consistent():
    facts = [f for topic in STORIES if topic.startswith("riders/") for f in draws(topic, n=60)]
    for f in facts:
        if f.get("coupon_used") is False:
            assert f.get("coupon_use_value", 0) == 0
        if f.get("coupon_used") is True:
            assert f.get("coupon_use_value", 1) > 0
        if f.get("payment_method") == "cash":
            assert f.get("final_transaction_status", "cash") == "cash"
            assert f.get("charge_count", 0) == 0
        if f.get("paid_cancel_tag") is True:
            assert f.get("success_order_flg") is not True
            assert f.get("cancel_fee", 1) > 0
        if f.get("paid_waiting_minutes") == 0:
            assert f.get("waiting_fee", 0) == 0
        if f.get("refund_status") == "none":
            assert "refund_amount" not in f


def test_driver_facts_are_jointly_consistent():
    facts = [f for topic in STORIES if topic.startswith("drivers/") for f in draws(topic, n=60)]
    facts += draws(line="drivers", n=500)
    for f in facts:
        if f.get("account_status") == "active":
            assert "block_reason" not in f
        if f.get("block_reason") == "low_rating":
            assert f.get("driver_rating", 0) < 4.5
        if f.get("block_reason") == "debt":
            assert f.get("balance", -1) < 0
        if f.get("bonus_goal_met") is False:
            assert f.get("bonus_status", "not_eligible") == "not_eligible"
        if f.get("cancel_compensation_paid") is True:
            assert f.get("rider_cancelled") is not False
            assert f.get("driver_waited_minutes", 5) >= 5


def test_blocks_come_from_stories_and_a_blocked_account_is_not_paid_out():
    ordinary = [f for f in draws(line="drivers", n=2000) if "account_status" in f]
    assert all(f["account_status"] == "active" for f in ordinary)
    blocked = [
        f
        for topic in ("drivers/account/blocked", "drivers/orders/no_orders")
        for f in draws(topic, n=300)
        if f.get("account_status") == "blocked"
    ]
    assert blocked
    assert all(f.get("payout_status", "on_hold") == "on_hold" for f in blocked)


def test_facts_go_missing_at_realistic_rates():
    facts = draws("riders/driver/wrong_car", n=3000)
    photo = sum("car_matches_order" not in f for f in facts) / len(facts)
    assert abs(photo - MISSING_RATES["car_matches_order"]) < 0.06
    tariff = sum("tariff" not in f for f in facts) / len(facts)
    assert 0.02 < tariff < 0.12  # a ride not found, or the fact not attached


def test_app_tickets_carry_no_ride():
    for f in draws("riders/app_account/login_code", n=200):
        assert "ride_cost" not in f and "tariff" not in f


def test_every_rule_of_every_topic_is_reachable_by_its_stories():
    fired = Counter()
    for topic in STORIES:
        for f in draws(topic, n=300):
            match = BOOK.evaluate(topic, BOOK.facts.validate(f))
            fired[match.rule.id] += 1
    actionable_rules = [
        r.id for r in BOOK.rules if BOOK.topics.index[r.topic].actionable or r.topic.count("/") == 1
    ]
    assert [r for r in actionable_rules if not fired[r]] == []
