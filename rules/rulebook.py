"""A loaded rulebook: facts, topics, templates, rules and rule tests, with a content-hash version."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.engine import Match, Rule, evaluate_rules
from rules.errors import Where
from rules.facts import FactSchema
from rules.templates import Template
from rules.topics import TopicTree

DEFAULT_ROOT = Path(__file__).parent / "book"


@dataclass(frozen=True)
class RuleTest:
    """A rule test written next to the rules: topic + facts -> the expected rule and template."""

    name: str
    topic: str
    facts: Mapping[str, Any]
    expect_rule: str | None
    expect_template: str | None
    where: Where


@dataclass
class Rulebook:
    """Everything operations staff edit, loaded, cross-checked and compiled."""

    root: Path
    version: str
    facts: FactSchema
    topics: TopicTree
    templates: dict[str, Template]
    rules: tuple[Rule, ...]
    tests: tuple[RuleTest, ...]
    _by_topic: dict[str, tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    def rules_for(self, topic: str) -> tuple[Rule, ...]:
        """Return the rules that apply to `topic` in evaluation order.

        A rule applies to its own topic and every topic below it. Order: higher priority first,
        then the more specific topic, then declaration order.
        """
        cached = self._by_topic.get(topic)
        if cached is None:
            scope = set(self.topics.ancestors(topic))
            applicable = [rule for rule in self.rules if rule.topic in scope]
            applicable.sort(key=lambda r: (-r.priority, -r.topic.count("/"), r.order))
            cached = self._by_topic[topic] = tuple(applicable)
        return cached

    def evaluate(self, topic: str, facts: Mapping[str, Any]) -> Match:
        """Return which rule (and so which template) answers `topic` for these facts, with a trace.

        Never raises on ticket data: an unknown topic matches nothing, a missing fact is traced.
        """
        return evaluate_rules(topic, self.rules_for(topic), facts)


def content_version(root: Path, files: list[Path]) -> str:
    """Return the rulebook version: a hash of every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return "rb-" + digest.hexdigest()[:12]
