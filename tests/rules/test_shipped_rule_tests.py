"""The rule tests written next to the rules, run through pytest (one test each)."""

import pytest

from rules.loader import load_rulebook
from rules.ruletests import run_rule_tests

BOOK = load_rulebook()


@pytest.mark.parametrize("outcome", run_rule_tests(BOOK), ids=lambda o: o.test.name)
def test_rule_test(outcome):
    assert outcome.passed, outcome.as_dict()


def test_the_worked_example_and_its_neighbours_are_among_them():
    names = " | ".join(t.name for t in BOOK.tests)
    for needle in ("worked example", "no coupon", "on hold", "first ride"):
        assert needle in names


def test_a_wrong_expectation_fails(book_copy):
    root = book_copy(
        (
            "rules/drivers.test.yaml",
            "expect: {rule: blocked_low_rating",
            "expect: {rule: blocked_review",
        )
    )
    outcomes = run_rule_tests(load_rulebook(root))
    assert [o.test.name for o in outcomes if not o.passed] == ["a low rating limits the account"]
