"""Which split a phrasing family belongs to: a fixed property of its id, never of the seed.

Within each (topic, locale) group the families are ranked by SHA-256 of SPLIT_SALT + family id;
the first TEST_SHARE of them (at least one) go to test, the next VALID_SHARE (at least one) to
valid, the rest to train. So the test split only ever holds wordings no training ticket used, and
corpora generated with different seeds hold out the same families and can be mixed safely.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from training.corpus.phrasing import Family

SPLITS = ("train", "valid", "test")
SPLIT_SALT = "autoreply-corpus-families-v1:"
TEST_SHARE = 0.12
VALID_SHARE = 0.12


def family_rank(family_id: str) -> str:
    """Return the family's position key: a hex digest that no seed changes."""
    return hashlib.sha256((SPLIT_SALT + family_id).encode()).hexdigest()


def assign_splits(families: Iterable[Family]) -> dict[str, str]:
    """Return family id -> split; each (topic, locale) group with 3+ families gets every split."""
    groups: dict[tuple[str, str], list[Family]] = defaultdict(list)
    for family in families:
        groups[(family.topic, family.locale)].append(family)
    out: dict[str, str] = {}
    for group in groups.values():
        ranked = sorted(group, key=lambda f: family_rank(f.id))
        n_test = max(1, round(len(ranked) * TEST_SHARE))
        n_valid = max(1, round(len(ranked) * VALID_SHARE))
        for i, family in enumerate(ranked):
            out[family.id] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return out
