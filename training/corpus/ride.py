"""Ride facts drawn from consistent joint distributions: a base per line, a topic's story on top,
a consistency pass that derives what follows from what (no coupon value without a used coupon,
no payout on a blocked account unless that is the story), then realistic gaps."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Tickets are dated relative to this instant, so a corpus is the same whichever day it is built.
NOW = datetime(2026, 11, 22, 12, 0)
_TARIFF_PRICE = {"econom": 380, "comfort": 520, "comfort_plus": 700, "business": 1200, "kids": 560}
WAIT_RATE = {"econom": 9, "comfort": 12, "comfort_plus": 15, "business": 25, "kids": 12}
# Facts that describe the ride; an app or account ticket (`_no_ride`) or a ride the ticket
# system could not find carries none of them.
RIDE_FACTS = frozenset(
    [
        "success_order_flg",
        "paid_cancel_tag",
        "final_transaction_status",
        "coupon_used",
        "coupon_use_value",
        "tariff",
        "ride_cost",
        "estimated_cost",
        "currency",
        "ride_finished_at",
        "requirements",
        "price_diff_pct",
        "route_changed",
        "route_deviation_pct",
        "paid_waiting_minutes",
        "waiting_fee",
        "driver_late_minutes",
        "cancel_fee",
        "charge_count",
        "payment_error",
        "refund_status",
        "refund_amount",
        "hours_since_ride",
        "driver_complaints_90d",
        "car_matches_order",
        "driver_active",
        "lost_item_call_made",
    ]
)
# How often the ticket system fails to attach a fact (the rest: DEFAULT_MISSING).
DEFAULT_MISSING = 0.03
MISSING_RATES = {
    "car_matches_order": 0.25,
    "route_deviation_pct": 0.08,
    "driver_late_minutes": 0.08,
    "driver_complaints_90d": 0.05,
    "app_outdated": 0.10,
    "activity_score": 0.06,
}
RIDE_NOT_FOUND = 0.03


def weighted(rng: random.Random, options: Mapping[Any, float]) -> Any:
    """Return one key of `options`, drawn with probability proportional to its value."""
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _lognormal_int(rng: random.Random, median: float, sigma: float, cap: int) -> int:
    return min(cap, int(rng.lognormvariate(math.log(median), sigma)))


def base_rider(rng: random.Random) -> dict[str, Any]:
    """Return the facts of an ordinary rider's ride, before any story."""
    tariff = weighted(
        rng, {"econom": 50, "comfort": 25, "comfort_plus": 10, "business": 5, "kids": 5}
    )
    coupon = rng.random() < 0.12
    return {
        "complete_rides": 1 + _lognormal_int(rng, 25, 1.3, 1500),
        "success_order_flg": True,
        "paid_cancel_tag": False,
        "payment_method": weighted(rng, {"card": 65, "cash": 22, "wallet": 8, "corporate": 5}),
        "tariff": tariff,
        "currency": "RUB",
        "estimated_cost": float(
            round(rng.lognormvariate(math.log(_TARIFF_PRICE[tariff]), 0.45), -1)
        ),
        "price_diff_pct": int(rng.gauss(0, 4)),
        "coupon_used": coupon,
        "coupon_use_value": rng.choice([50, 100, 100, 100, 150, 200, 300]) if coupon else 0,
        "route_changed": rng.random() < 0.08,
        "route_deviation_pct": int(abs(rng.gauss(0, 5))),
        "paid_waiting_minutes": 0 if rng.random() < 0.85 else rng.randint(1, 10),
        "driver_late_minutes": 0 if rng.random() < 0.8 else rng.randint(1, 15),
        "hours_since_ride": _lognormal_int(rng, 10, 1.3, 720),
        "requirements": ["animal_transport"] if rng.random() < 0.03 else [],
        "payment_error": "none",
        "refund_status": "none",
        "driver_complaints_90d": weighted(rng, {0: 70, 1: 18, 2: 7, 3: 3, 4: 2}),
        "car_matches_order": rng.random() < 0.97,
        "driver_active": rng.random() < 0.95,
        "lost_item_call_made": False,
        "platform": weighted(rng, {"android": 55, "ios": 40, "web": 5}),
        "app_outdated": rng.random() < 0.08,
        "sms_attempts": rng.randint(0, 2),
        "has_unpaid_debt": rng.random() < 0.03,
        "account_status": "active",
    }


def base_driver(rng: random.Random) -> dict[str, Any]:
    """Return the facts of an ordinary driver's account and last order, before any story."""
    plan = rng.choice([10.0, 15.0, 15.0, 20.0])
    goal_met = rng.random() < 0.6
    return {
        "complete_rides": 1 + _lognormal_int(rng, 900, 1.0, 30000),
        "driver_rating": round(min(5.0, max(4.5, rng.gauss(4.86, 0.08))), 2),
        "account_status": "active",
        "balance": round(rng.gauss(900, 700), 2),
        "payout_status": weighted(rng, {"paid": 70, "pending": 20, "failed": 4, "on_hold": 6}),
        "payout_amount": float(round(rng.lognormvariate(math.log(14000), 0.5), -1)),
        "payout_delay_days": rng.randint(0, 2),
        "bank_details_valid": rng.random() < 0.96,
        "tariff_commission_pct": plan,
        "commission_pct": plan,
        "bonus_goal_met": goal_met,
        "bonus_status": rng.choice(["paid", "paid", "pending"]) if goal_met else "not_eligible",
        "documents_status": weighted(
            rng, {"valid": 85, "expiring": 6, "expired": 3, "rejected": 2, "on_review": 4}
        ),
        "car_on_review": rng.random() < 0.04,
        "rider_rating_given": weighted(rng, {5: 80, 4: 10, 3: 4, 2: 2, 1: 4}),
        "rider_rates_low_often": rng.random() < 0.05,
        "success_order_flg": rng.random() < 0.96,
        "activity_score": max(0, min(100, int(rng.gauss(78, 14)))),
        "online_hours_7d": round(rng.uniform(5, 70), 1),
        "rider_cancelled": False,
        "cancel_compensation_paid": False,
        "fare_recalculated": rng.random() < 0.1,
        "coupon_used": rng.random() < 0.1,
        "gps_issue_detected": rng.random() < 0.05,
        "platform": weighted(rng, {"android": 75, "ios": 25}),
        "app_outdated": rng.random() < 0.08,
        "tariff": weighted(rng, {"econom": 60, "comfort": 30, "business": 10}),
        "payment_method": weighted(rng, {"card": 65, "cash": 35}),
        "ride_cost": float(round(rng.lognormvariate(math.log(450), 0.5), -1)),
    }


def draw_value(rng: random.Random, spec: Any) -> Any:
    """Return a story value: a list is a choice, {min, max} a range, anything else itself."""
    if isinstance(spec, list):
        return rng.choice(spec)
    if isinstance(spec, dict):
        low, high = spec["min"], spec["max"]
        if isinstance(low, int) and isinstance(high, int):
            return rng.randint(low, high)
        return round(rng.uniform(low, high), 1)
    return spec
