"""The phrasebook: phrasing families per topic and locale, and each locale's shared material."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from training.corpus.grammar import Pattern, compile_pattern

PHRASING_DIR = Path(__file__).parent / "phrasing"
# Slot names a pattern may use: filled from the ticket's facts, or from a locale's pools.
FACT_SLOTS = frozenset(
    [
        "price",
        "estimate",
        "discounted",
        "diff",
        "coupon",
        "fee",
        "wait_min",
        "late_min",
        "refund",
        "payout",
        "ndays",
        "pct",
        "plan_pct",
        "rating",
        "stars",
        "hours",
        "goal",
        "phone",
        "plate",
    ]
)
POOL_SLOTS = frozenset(["when", "dest", "item", "name", "car", "city"])
SARCASM = "sarcasm"  # the pseudo-topic of sarcasm frames, which are held out like families


@dataclass(frozen=True)
class Family:
    """One way of putting a topic into words: a few patterns that share wording and structure."""

    topic: str
    locale: str
    name: str
    patterns: tuple[Pattern, ...]

    @property
    def id(self) -> str:
        """Return the stable family id, e.g. 'riders/payment/receipt:en:how_to_get'."""
        return f"{self.topic}:{self.locale}:{self.name}"


@dataclass
class Common:
    """A locale's shared material: pools, sarcasm frames, multi-problem joins, dialogue turns."""

    locale: str
    pools: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sarcasm: list[Family] = field(default_factory=list)
    multi: tuple[Pattern, ...] = ()
    dialogue: dict[str, tuple[Pattern, ...]] = field(default_factory=dict)
    subject_formats: tuple[Pattern, ...] = ()
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by topic


@dataclass
class Phrasebook:
    """Every family by (topic, locale), and every locale's Common."""

    families: dict[tuple[str, str], list[Family]] = field(default_factory=dict)
    common: dict[str, Common] = field(default_factory=dict)

    def all_families(self) -> list[Family]:
        """Return every family, sarcasm frames included, in load order."""
        out = [f for group in self.families.values() for f in group]
        return out + [f for c in self.common.values() for f in c.sarcasm]


def _patterns(sources: list[str]) -> tuple[Pattern, ...]:
    return tuple(compile_pattern(str(s)) for s in sources)


def _load_common(data: dict, locale: str) -> Common:
    common = Common(locale)
    common.pools = {k: tuple(str(v) for v in vs) for k, vs in data["pools"].items()}
    common.sarcasm = [
        Family(SARCASM, locale, name, _patterns(ps)) for name, ps in data["sarcasm"].items()
    ]
    common.multi = _patterns(data["multi"])
    common.dialogue = {k: _patterns(v) for k, v in data["dialogue"].items()}
    common.subject_formats = _patterns(data["subject_formats"])
    return common


def load_phrasebook(root: Path = PHRASING_DIR) -> Phrasebook:
    """Load every phrasing file under `root` (one folder per locale; common.yaml is shared)."""
    book = Phrasebook()
    paths = sorted(root.glob("*/*.yaml"), key=lambda p: (p.name != "common.yaml", str(p)))
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        locale = data["locale"]
        if path.name == "common.yaml":
            book.common[locale] = _load_common(data, locale)
            continue
        if path.name == "subjects.yaml":
            subjects = {t: tuple(v) for t, v in data["subjects"].items()}
            book.common[locale].subjects = subjects
            continue
        for topic, families in data["topics"].items():
            group = book.families.setdefault((topic, locale), [])
            group.extend(Family(topic, locale, n, _patterns(ps)) for n, ps in families.items())
    return book


def unknown_slots(book: Phrasebook) -> list[str]:
    """Return 'family: slot' for every slot a pattern uses that nothing fills."""
    known = FACT_SLOTS | POOL_SLOTS | {"complaint", "first", "second", "subject", "core"}
    return [
        f"{family.id}: {slot}"
        for family in book.all_families()
        for pattern in family.patterns
        for slot in sorted(pattern.slots() - known)
    ]
