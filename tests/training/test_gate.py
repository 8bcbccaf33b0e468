"""The promotion gate decides on evaluation figures alone (fake figures here), with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.gate import GateError, decide, load_gate

GATE = load_gate(Path("training/configs/gate.json"))


def report(coverage=0.5, agreement=0.9, accuracy=0.8, unsafe_rate=0.0, groups=None):
    overall = {"tickets": 100, "coverage": coverage, "agreement": agreement,
               "accuracy": accuracy, "unsafe_rate": unsafe_rate, "error_rate": 0.1}  # fmt: skip
    return {"overall": overall, "by_line_locale": groups or {"riders/en": overall}}


def test_better_coverage_and_nothing_worse_promotes():
    verdict = decide(GATE, {"frozen": report()}, {"frozen": report(coverage=0.6)})
    assert verdict.promote and verdict.reasons == ["frozen: coverage 0.6 > 0.5"]


def test_more_unsafe_replies_are_refused_even_with_better_coverage():
    verdict = decide(GATE, {"frozen": report()}, {"frozen": report(coverage=0.7, unsafe_rate=0.02)})
    assert not verdict.promote
    assert (
        "frozen: unsafe_rate 0.02 is worse than the champion's 0.0 by more than 0.0"
        in verdict.reasons
    )


def test_a_line_and_language_worse_than_its_margin_is_refused():
    worse = dict(report()["overall"], agreement=0.8)
    verdict = decide(
        GATE, {"holdout": report()}, {"holdout": report(coverage=0.6, groups={"riders/en": worse})}
    )
    assert not verdict.promote
    assert verdict.reasons == [
        "holdout riders/en: agreement 0.8 is worse than the champion's 0.9 by more than 0.05"
    ]


def test_within_the_margins_but_better_on_nothing_is_refused():
    verdict = decide(GATE, {"frozen": report()}, {"frozen": report(agreement=0.89)})
    assert not verdict.promote
    assert verdict.reasons == ["not better on coverage or accuracy in any evaluation set"]


def test_small_groups_are_not_judged():
    tiny = dict(report()["overall"], tickets=5, agreement=0.1)
    verdict = decide(
        GATE, {"frozen": report()}, {"frozen": report(coverage=0.6, groups={"riders/en": tiny})}
    )
    assert verdict.promote


def test_a_typo_in_the_gate_config_is_refused_by_name(tmp_path):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps({"no_worse": {"agreemnt": 0.1}, "better": ["coverage"]}))
    with pytest.raises(GateError, match=r"unknown key 'better'.*unknown figure 'agreemnt'"):
        load_gate(path)
