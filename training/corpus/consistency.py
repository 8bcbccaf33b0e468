"""The joint-consistency pass over a ticket's facts, and the gaps the ticket system leaves.

Each rule derives a fact from the ones it depends on unless the topic's story fixed it, so a story
can pin "the payment is still on hold" and the rest of the ride follows from it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from training.corpus.ride import (
    DEFAULT_MISSING,
    MISSING_RATES,
    NOW,
    RIDE_FACTS,
    RIDE_NOT_FOUND,
    WAIT_RATE,
)


def _derive(facts: dict[str, Any], fixed: set[str], name: str, value: Any) -> None:
    if name not in fixed:
        facts[name] = value


def make_rider_consistent(rng: random.Random, facts: dict[str, Any], fixed: set[str]) -> None:
    """Derive the rider facts that follow from the others (in place)."""
    if not facts["coupon_used"]:
        facts["coupon_use_value"] = 0
    elif facts["coupon_use_value"] == 0:
        facts["coupon_use_value"] = 100
    if facts["paid_cancel_tag"]:
        facts["success_order_flg"] = False
    _payment(rng, facts, fixed)
    _price(rng, facts, fixed)
    if facts["refund_status"] == "none":
        facts.pop("refund_amount", None)
    else:
        amount = facts.get("ride_cost") or facts.get("cancel_fee") or 300.0
        facts["refund_amount"] = float(round(amount * rng.choice([1.0, 1.0, 0.5, 0.3]), 0))
    if facts["has_unpaid_debt"]:
        _derive(facts, fixed, "account_status", "limited")
    finished = NOW - timedelta(hours=facts["hours_since_ride"], minutes=rng.randint(0, 59))
    facts["ride_finished_at"] = finished.replace(second=0).isoformat()


def _payment(rng: random.Random, facts: dict[str, Any], fixed: set[str]) -> None:
    if facts["payment_method"] == "cash":
        facts["final_transaction_status"] = "cash"
        _derive(facts, fixed, "charge_count", 0)
        facts["payment_error"] = "none"
        return
    if facts["success_order_flg"] or facts["paid_cancel_tag"]:
        status = rng.choices(["success", "hold", "hold_fail"], weights=[92, 5, 3])[0]
        count = 1
    else:
        status, count = "refunded", 0
    _derive(facts, fixed, "final_transaction_status", status)
    _derive(facts, fixed, "charge_count", count)


def _price(rng: random.Random, facts: dict[str, Any], fixed: set[str]) -> None:
    estimate = facts["estimated_cost"]
    if facts["paid_cancel_tag"]:
        fee = float(rng.choice([99, 149, 199, 249]))
        facts.update(cancel_fee=fee, ride_cost=fee, paid_waiting_minutes=0, waiting_fee=0.0)
        facts.pop("price_diff_pct", None)
        return
    facts["cancel_fee"] = 0.0
    if not facts["success_order_flg"]:
        facts.update(ride_cost=0.0, paid_waiting_minutes=0, waiting_fee=0.0)
        facts.pop("price_diff_pct", None)
        return
    minutes = facts["paid_waiting_minutes"]
    facts["waiting_fee"] = float(minutes * WAIT_RATE.get(facts["tariff"], 10))
    facts["ride_cost"] = float(round(estimate * (1 + facts["price_diff_pct"] / 100), 0))


def make_driver_consistent(rng: random.Random, facts: dict[str, Any], fixed: set[str]) -> None:
    """Derive the driver facts that follow from the others (in place)."""
    reason = facts.get("block_reason")
    if facts["account_status"] == "active":
        facts.pop("block_reason", None)
    elif reason is None:
        reason = facts["block_reason"] = rng.choice(["low_rating", "documents", "complaints"])
    if reason == "low_rating":
        _derive(facts, fixed, "driver_rating", round(rng.uniform(3.9, 4.49), 2))
    elif reason == "documents":
        _derive(facts, fixed, "documents_status", "expired")
    elif reason == "debt":
        _derive(facts, fixed, "balance", round(-rng.uniform(100, 4000), 2))
    if facts["payout_status"] == "failed":
        _derive(facts, fixed, "bank_details_valid", rng.random() < 0.2)
    elif not facts["bank_details_valid"]:
        _derive(facts, fixed, "payout_status", "failed")
    if facts["account_status"] == "blocked":  # a blocked account is not paid out
        _derive(facts, fixed, "payout_status", "on_hold")
    if not facts["bonus_goal_met"]:
        facts["bonus_status"] = "not_eligible"
    elif facts["bonus_status"] == "not_eligible":
        facts["bonus_status"] = "pending"
    if facts.get("tariff_commission_pct") is None:
        facts.pop("tariff_commission_pct", None)
    if not facts["rider_cancelled"]:
        facts.update(driver_waited_minutes=0, cancel_compensation_paid=False)
    elif facts.get("driver_waited_minutes", 0) < 5:
        facts["cancel_compensation_paid"] = False


def leave_gaps(rng: random.Random, facts: dict[str, Any], no_ride: bool) -> dict[str, Any]:
    """Return the facts with the ones the ticket system would not have attached removed."""
    drop_ride = no_ride or rng.random() < RIDE_NOT_FOUND
    return {
        name: value
        for name, value in facts.items()
        if not (drop_ride and name in RIDE_FACTS)
        and rng.random() >= MISSING_RATES.get(name, DEFAULT_MISSING)
    }
