"""Rules and their evaluation: the ordered rules of a topic against one ticket's facts, with a trace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from rules.conditions import Leaf
from rules.errors import Where

# One evaluated condition: (the compiled leaf, the value seen, the result; None = fact missing).
TraceEntry = tuple[Leaf, Any, bool | None]


class Condition(Protocol):
    """A compiled condition tree node."""

    def evaluate(
        self, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
    ) -> bool | None:
        """Return True, False, or None when missing facts leave it undecided.

        Appends each evaluated line to `trace` and each missing fact's name to `missing`.
        """
        ...


def _evaluate_leaf(
    leaf: Leaf, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
) -> bool | None:
    try:
        value, result = leaf.evaluate(facts)
    except TypeError:  # a value of a type the schema did not promise counts as missing
        value, result = facts.get(leaf.fact), None
    trace.append((leaf, value, result))
    if result is None:
        missing.append(leaf.fact if facts.get(leaf.fact) is None else str(leaf.other))
    return result


@dataclass(frozen=True)
class LeafNode:
    """One condition line."""

    leaf: Leaf

    def evaluate(
        self, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
    ) -> bool | None:
        """Evaluate the line."""
        return _evaluate_leaf(self.leaf, facts, trace, missing)


@dataclass(frozen=True)
class AllNode:
    """All children must hold (Kleene AND: False wins, then unknown)."""

    children: tuple[Condition, ...]
    # The common case, all children plain `fact OP literal` lines, runs in one tight loop.
    _plain: tuple[tuple[Leaf, str, Any], ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        leaves = [c.leaf for c in self.children if isinstance(c, LeafNode)]
        plain = len(leaves) == len(self.children) and all(
            not (leaf.null_check or leaf.other) for leaf in leaves
        )
        object.__setattr__(
            self,
            "_plain",
            tuple((leaf, leaf.fact, leaf.test) for leaf in leaves) if plain else None,
        )

    def evaluate(
        self, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
    ) -> bool | None:
        """Return the conjunction, stopping at the first False."""
        plain = self._plain
        if plain is not None:  # inlined: this loop is the rule engine's hot path
            mark = len(trace)
            try:
                unknown = False
                get, append = facts.get, trace.append
                for leaf, fact, test in plain:
                    value = get(fact)
                    if value is None:
                        append((leaf, None, None))
                        missing.append(fact)
                        unknown = True
                        continue
                    result = test(value)
                    append((leaf, value, result))
                    if not result:
                        return False
                return None if unknown else True
            except TypeError:
                del trace[mark:]  # redo slowly: the generic path records the bad value as missing
        unknown = False
        for child in self.children:
            result = child.evaluate(facts, trace, missing)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True


@dataclass(frozen=True)
class AnyNode:
    """At least one child must hold (Kleene OR: True wins, then unknown)."""

    children: tuple[Condition, ...]

    def evaluate(
        self, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
    ) -> bool | None:
        """Return the disjunction, stopping at the first True."""
        unknown = False
        for child in self.children:
            result = child.evaluate(facts, trace, missing)
            if result is True:
                return True
            if result is None:
                unknown = True
        return None if unknown else False


@dataclass(frozen=True)
class NotNode:
    """The child must not hold; not-unknown stays unknown, so a missing fact never fires a rule."""

    child: Condition

    def evaluate(
        self, facts: Mapping[str, Any], trace: list[TraceEntry], missing: list[str]
    ) -> bool | None:
        """Return the negation, or None when the child is undecided."""
        result = self.child.evaluate(facts, trace, missing)
        return None if result is None else not result


@dataclass(frozen=True)
class Rule:
    """One business rule: when its conditions hold for a ticket on its topic, its template answers."""

    id: str
    topic: str  # a leaf, or an inner node whose whole subtree the rule covers
    description: str
    owner: str
    priority: int
    autoreply: bool
    template: str
    when: Condition | None  # None: unconditional (a fallback)
    where: Where
    order: int  # declaration order across the rulebook, the last tie-breaker

    @property
    def is_fallback(self) -> bool:
        """Whether the rule always fires."""
        return self.when is None


@dataclass(frozen=True)
class RuleTrace:
    """How one rule fared: its result and every condition it evaluated."""

    rule: Rule
    result: bool | None
    conditions: tuple[TraceEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready account of the rule's evaluation."""
        return {
            "rule": self.rule.id,
            "result": _result_word(self.result),
            "conditions": [
                {
                    "condition": leaf.text,
                    "fact": leaf.fact,
                    "value": _jsonable(value),
                    "result": _result_word(result),
                }
                for leaf, value, result in self.conditions
            ],
        }


def _result_word(result: bool | None) -> str:
    return "missing" if result is None else ("true" if result else "false")


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class Match:
    """The outcome of a topic's rules on a ticket: the rule that fired (or none) and the trace.

    The trace is kept flat while evaluating (this is the hot path) and shaped on demand.
    """

    __slots__ = ("_conditions", "_tried", "missing_facts", "rule", "topic")

    def __init__(
        self,
        topic: str,
        rule: Rule | None,
        tried: list[tuple[Rule, bool | None, int, int]],
        conditions: list[TraceEntry],
        missing_facts: tuple[str, ...],
    ) -> None:
        self.topic = topic
        self.rule = rule
        self.missing_facts = missing_facts
        self._tried = tried
        self._conditions = conditions

    @property
    def template(self) -> str | None:
        """Return the id of the template that answers, or None when no rule fired."""
        return self.rule.template if self.rule else None

    @property
    def trace(self) -> tuple[RuleTrace, ...]:
        """Return, for every rule tried in order, its result and the conditions it evaluated."""
        return tuple(
            RuleTrace(rule, result, tuple(self._conditions[start:end]))
            for rule, result, start, end in self._tried
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the match and its trace as JSON-ready data."""
        return {
            "topic": self.topic,
            "rule": self.rule.id if self.rule else None,
            "template": self.template,
            "autoreply_allowed_by_rule": bool(self.rule and self.rule.autoreply),
            "missing_facts": list(self.missing_facts),
            "trace": [entry.as_dict() for entry in self.trace],
        }


def evaluate_rules(topic: str, rules: tuple[Rule, ...], facts: Mapping[str, Any]) -> Match:
    """Return the first rule (in evaluation order) whose conditions hold, with the trace of all tried.

    `missing_facts` names the facts that were missing in any rule tried, the fired one included:
    an earlier rule might have fired had they been known, so the service does not autoreply then.
    """
    conditions: list[TraceEntry] = []
    missing: list[str] = []
    tried: list[tuple[Rule, bool | None, int, int]] = []
    for rule in rules:
        start = len(conditions)
        result = True if rule.when is None else rule.when.evaluate(facts, conditions, missing)
        tried.append((rule, result, start, len(conditions)))
        if result is True:
            return Match(topic, rule, tried, conditions, tuple(dict.fromkeys(missing)))
    return Match(topic, None, tried, conditions, tuple(dict.fromkeys(missing)))
