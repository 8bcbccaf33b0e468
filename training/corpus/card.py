"""The dataset card's figures (card.json): sizes, distributions and the noise actually drawn."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from training.corpus.ride import DEFAULT_MISSING, MISSING_RATES, RIDE_NOT_FOUND
from training.corpus.schema import SPLITS, TicketRecord

if TYPE_CHECKING:
    from training.corpus.generate import CorpusConfig
    from training.corpus.world import World


class CardBuilder:
    """Counts a corpus as it is written, then summarises it."""

    def __init__(self, config: CorpusConfig, world: World) -> None:
        self.config = config
        self.world = world
        self.counts: dict[str, Counter[str]] = {
            k: Counter()
            for k in (
                "split",
                "line",
                "locale",
                "guard",
                "topic",
                "agent_action",
                "csat",
                "family_split",
            )
        }
        self.total = 0
        self.noisy = 0
        self.with_dialogue = 0
        self.families_used: dict[str, set[str]] = {s: set() for s in SPLITS}

    def add(self, record: TicketRecord, true_topic: str) -> None:
        """Count one ticket."""
        self.total += 1
        self.noisy += record.topic != true_topic
        self.with_dialogue += record.dialogue is not None
        for key in ("split", "line", "locale", "guard", "topic", "agent_action"):
            self.counts[key][str(getattr(record, key))] += 1
        self.counts["csat"][str(record.csat)] += 1
        self.counts["family_split"][f"{record.split}/{record.locale}/{record.line}"] += 1
        self.families_used[record.split].add(record.family)

    def build(self) -> dict[str, Any]:
        """Return the card as JSON-ready data (deterministic for a seed: no timings)."""
        config, n = self.config, max(self.total, 1)
        rated = {k: v for k, v in self.counts["csat"].items() if k != "None"}
        return {
            "seed": config.seed,
            "tickets": self.total,
            "rulebook": self.world.rulebook.version,
            "splits": dict(sorted(self.counts["split"].items())),
            "by_split_locale_line": dict(sorted(self.counts["family_split"].items())),
            "lines": dict(sorted(self.counts["line"].items())),
            "locales": dict(sorted(self.counts["locale"].items())),
            "guards": dict(self.counts["guard"].most_common()),
            "topics": dict(self.counts["topic"].most_common()),
            "agent_actions": dict(self.counts["agent_action"].most_common()),
            "csat": {
                "missing": round(self.counts["csat"]["None"] / n, 4),
                "histogram": dict(sorted(rated.items())),
            },
            "families_used": {s: len(f) for s, f in self.families_used.items()},
            "rates": self._rates(n),
        }

    def _rates(self, n: int) -> dict[str, Any]:
        config = self.config
        return {
            "label_noise": {"configured": config.label_noise, "drawn": round(self.noisy / n, 4)},
            "dialogue": {
                "rate_for_tickets_with_a_topic": config.dialogue_rate,
                "drawn_over_all_tickets": round(self.with_dialogue / n, 4),
            },
            "subject_phrase": config.subject_rate,
            "agent": config.agent.as_dict(),
            "fact_missing": {
                "default": DEFAULT_MISSING,
                **MISSING_RATES,
                "ride_not_found": RIDE_NOT_FOUND,
            },
            "csat_missing": config.csat_missing,
            "guard_shares": dict(config.guard_shares),
            "expected_backtest_agreement": round(
                config.agent.keeps_rule_template * (1 - config.label_noise), 4
            ),
        }

    @staticmethod
    def to_json(card: dict[str, Any]) -> str:
        """Return the card as indented JSON."""
        return json.dumps(card, ensure_ascii=False, indent=2) + "\n"
