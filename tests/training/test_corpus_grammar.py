import random

import pytest

from training.corpus.grammar import PatternError, compile_pattern


def test_alternatives_optionals_and_slots_expand():
    pattern = compile_pattern("[my|the] [promo ]code {coupon} [didn't [work|apply]|failed]")
    seen = {pattern.expand(random.Random(i), {"coupon": "100"}) for i in range(300)}
    assert "my promo code 100 didn't work" in seen
    assert "the code 100 failed" in seen
    assert all("  " not in s and "[" not in s for s in seen)
    assert pattern.slots() == {"coupon"}


def test_empty_alternative_and_tidy_punctuation():
    pattern = compile_pattern("no discount [again|] [!|.]")
    assert {pattern.expand(random.Random(i), {}) for i in range(50)} == {
        "no discount again!",
        "no discount again.",
        "no discount!",
        "no discount.",
    }


@pytest.mark.parametrize("bad", ["[unclosed", "stray ] bracket", "a | b", "{Bad-Slot}", "{}"])
def test_malformed_patterns_are_refused(bad):
    with pytest.raises(PatternError):
        compile_pattern(bad)
