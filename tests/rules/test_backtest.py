import json

from rules.backtest import backtest
from rules.loader import load_rulebook
from tests.examples import PROMO, WORKED


def write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_backtest_counts_fired_agreed_and_disagreed(tmp_path):
    past = write(
        tmp_path / "past.jsonl",
        [
            {"id": "t1", "topic": PROMO, "facts": WORKED, "template": "riders.promo_reissue"},
            {"id": "t2", "topic": PROMO, "facts": WORKED, "template": "riders.promo_escalate"},
            {
                "id": "t3",
                "topic": PROMO,
                "facts": {**WORKED, "coupon_used": False},
                "template": "riders.promo_how_coupons_apply",
            },
            "not json",
            {"id": "t5", "topic": PROMO, "facts": {"coupon_usd": True}, "template": None},
        ],
    )
    report = backtest(load_rulebook(), past).as_dict()
    rules = {r["rule"]: r for r in report["rules"]}
    assert rules["promo_burnt_reissue"] == {
        "rule": "promo_burnt_reissue",
        "fired": 2,
        "agreed": 1,
        "disagreed": 1,
        "agreement": 0.5,
    }
    assert rules["promo_not_used_explain"]["agreed"] == 1
    assert report["tickets"] == 3
    assert [s.get("line") or s.get("ticket") for s in report["skipped"]] == [4, "t5"]


def test_backtest_against_another_version_lists_changed_tickets(tmp_path, book_copy):
    other = book_copy(
        ("rules/riders_ride_cost.yaml", "- coupon_use_value = 100", "- coupon_use_value = 200")
    )
    past = write(
        tmp_path / "past.jsonl",
        [
            {"id": "t1", "topic": PROMO, "facts": WORKED, "template": "riders.promo_reissue"},
            {
                "id": "t2",
                "topic": "riders/payment/receipt",
                "facts": {},
                "template": "riders.receipt_how_to",
            },
        ],
    )
    report = backtest(load_rulebook(), past, against=load_rulebook(other)).as_dict()
    assert report["against"]["changed"] == 1
    change = report["against"]["changes"][0]
    assert change["ticket"] == "t1" and change["before"]["template"] == "riders.promo_reissue"
    assert change["after"]["rule"] != "promo_burnt_reissue"
