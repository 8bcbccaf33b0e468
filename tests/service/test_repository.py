"""Queries with rules of their own: promo codes."""

from __future__ import annotations

import math

from service.db.repository import PROMO_ALPHABET, PROMO_LENGTH, new_promo_code


def test_promo_codes_carry_at_least_64_bits():
    assert PROMO_LENGTH * math.log2(len(set(PROMO_ALPHABET))) >= 64
    codes = {new_promo_code() for _ in range(1000)}
    assert len(codes) == 1000 and all(len(c) == PROMO_LENGTH for c in codes)
    assert set("".join(codes)) <= set(PROMO_ALPHABET)
