"""Ticket facts typed by the vocabulary."""

from __future__ import annotations

import pytest

from rules.facts import FactValueError
from rules.loader import load_rulebook


def test_an_integral_json_number_is_an_integer_fact():
    book = load_rulebook()
    assert book.facts.validate({"coupon_use_value": 100.0}) == {"coupon_use_value": 100}
    assert type(book.facts.validate({"coupon_use_value": 100.0})["coupon_use_value"]) is int
    with pytest.raises(FactValueError, match="coupon_use_value"):
        book.facts.validate({"coupon_use_value": 100.5})
