"""Benchmark: evaluations per second of one topic's rules (10 rules x 6 conditions) on one core.

Usage: python benchmarks/rules_eval.py [--seconds 3]
Prints the worst case (every rule tried, each failing on its last condition, the fallback firing)
and the typical case (the first rule fires), with and without turning the trace into JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rules.loader import load_rulebook
from rules.rulebook import DEFAULT_ROOT

# A leaf whose shipped rules are one fallback, so the bench rules alone set the workload.
TOPIC = "riders/safety/accident"
CONDITIONS = [
    "complete_rides > 1",
    "success_order_flg is true",
    "paid_cancel_tag is false",
    "final_transaction_status != 'hold_fail'",
    "tariff in ['econom', 'comfort', 'business']",
]


def _bench_rules_yaml(rules: int) -> str:
    """Return a rule file: `rules` rules on TOPIC, rule i failing only on `coupon_use_value = i`."""
    lines = ["owner: bench", "rules:"]
    for i in range(rules - 1):
        lines += [
            f"  - id: bench_{i}",
            f"    topic: {TOPIC}",
            "    description: bench",
            f"    priority: {1000 - i}",
            "    template: riders.overcharge_explain",
            "    when:",
            *[f"      - {c}" for c in CONDITIONS],
            f"      - coupon_use_value = {i + 1000}",
        ]
    return "\n".join(lines) + "\n"


def _rate(call: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            call()
        count += 1000
    return count / (time.perf_counter() - start)


def main() -> None:
    """Build the bench rulebook, time the evaluations and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "book"
        shutil.copytree(DEFAULT_ROOT, root)
        (root / "rules" / "zz_bench.yaml").write_text(_bench_rules_yaml(10), encoding="utf-8")
        book = load_rulebook(root)
    facts = book.facts.validate(
        {
            "complete_rides": 12,
            "success_order_flg": True,
            "paid_cancel_tag": False,
            "final_transaction_status": "success",
            "tariff": "comfort",
            "coupon_use_value": 100,
            "ride_cost": 540.0,
            "estimated_cost": 410.0,
        }
    )
    rules = book.rules_for(TOPIC)
    worst = book.evaluate(TOPIC, facts)
    evaluated = sum(len(t.conditions) for t in worst.trace)
    assert worst.rule is not None and worst.rule.is_fallback, worst.rule
    first = {**facts, "coupon_use_value": 1000}
    assert book.evaluate(TOPIC, first).rule == rules[0]
    figures = {
        "rules_on_topic": len(rules),
        "conditions_evaluated_worst_case": evaluated,
        "worst_case_evals_per_s": round(_rate(lambda: book.evaluate(TOPIC, facts), args.seconds)),
        "first_rule_fires_evals_per_s": round(
            _rate(lambda: book.evaluate(TOPIC, first), args.seconds)
        ),
        "worst_case_with_json_trace_per_s": round(
            _rate(lambda: book.evaluate(TOPIC, facts).as_dict(), args.seconds)
        ),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
