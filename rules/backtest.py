"""Replay past tickets through a rulebook: how often each rule fired and agreed with the agent,
and, against another rulebook, which tickets would change decision."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.engine import Match
from rules.facts import FactValueError
from rules.rulebook import Rulebook


@dataclass(frozen=True)
class PastTicket:
    """One replayed ticket: its topic, its facts and the template the agent actually sent."""

    key: str
    topic: str
    facts: dict[str, Any]
    agent_template: str | None


@dataclass
class BacktestReport:
    """Per-rule counts, skipped lines with their reasons, and decision changes between versions."""

    version: str
    tickets: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    agreed: Counter[str] = field(default_factory=Counter)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    other_version: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)

    def compare(self, item: PastTicket, match: Match, against: Rulebook) -> None:
        """Record `item` as a change when the other rulebook decides it differently."""
        try:
            other: Match | None = against.evaluate(item.topic, against.facts.validate(item.facts))
        except FactValueError:
            other = None  # the other version's facts schema refuses this ticket
        before = _decision(match)
        after = (
            _decision(other)
            if other
            else {"rule": None, "template": None, "error": "facts refused"}
        )
        if before != after:
            self.changes.append(
                {
                    "ticket": item.key,
                    "topic": item.topic,
                    "agent_template": item.agent_template,
                    "before": before,
                    "after": after,
                }
            )

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data, rules sorted by how often they fired."""
        per_rule = [
            {
                "rule": rule,
                "fired": n,
                "agreed": self.agreed[rule],
                "disagreed": n - self.agreed[rule],
                "agreement": round(self.agreed[rule] / n, 4),
            }
            for rule, n in self.fired.most_common()
        ]
        total_fired = sum(self.fired.values())
        out: dict[str, Any] = {
            "rulebook": self.version,
            "tickets": self.tickets,
            "agreement": round(sum(self.agreed.values()) / total_fired, 4) if total_fired else None,
            "rules": per_rule,
            "skipped": self.skipped,
        }
        if self.other_version is not None:
            out["against"] = {
                "rulebook": self.other_version,
                "changed": len(self.changes),
                "changes": self.changes,
            }
        return out


def _decision(match: Match) -> dict[str, Any]:
    return {"rule": match.rule.id if match.rule else None, "template": match.template}


def read_past_tickets(path: Path) -> Iterator[PastTicket | dict[str, Any]]:
    """Yield past tickets from JSONL (`topic`, `facts`, `template`); a bad line yields its error."""
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                yield PastTicket(
                    str(row.get("id", number)),
                    row["topic"],
                    dict(row.get("facts") or {}),
                    row.get("template"),
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                yield {"line": number, "error": f"{type(exc).__name__}: {exc}"}


def backtest(rulebook: Rulebook, path: Path, against: Rulebook | None = None) -> BacktestReport:
    """Replay every ticket in `path` through `rulebook` (and `against`, when given)."""
    return backtest_tickets(rulebook, read_past_tickets(path), against)


def backtest_tickets(
    rulebook: Rulebook,
    tickets: Iterable[PastTicket | dict[str, Any]],
    against: Rulebook | None = None,
) -> BacktestReport:
    """Replay past tickets (a dict is an unreadable one, kept as skipped) through `rulebook`."""
    report = BacktestReport(rulebook.version, other_version=against.version if against else None)
    for item in tickets:
        if isinstance(item, dict):
            report.skipped.append(item)
            continue
        try:
            facts = rulebook.facts.validate(item.facts)
        except FactValueError as exc:
            report.skipped.append({"ticket": item.key, "error": str(exc)})
            continue
        report.tickets += 1
        match = rulebook.evaluate(item.topic, facts)
        if match.rule is not None:
            report.fired[match.rule.id] += 1
            report.agreed[match.rule.id] += match.template == item.agent_template
        if against is not None:
            report.compare(item, match, against)
    return report
