"""Reading rules/*.yaml: each rule's topic, template and condition, checked against the vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.conditions import ConditionTypeError, compile_condition
from rules.engine import AllNode, AnyNode, Condition, LeafNode, NotNode, Rule
from rules.errors import ConditionSyntaxError, Problems, Where
from rules.facts import FactSchema, suggest
from rules.read.checks import check_keys, check_ref, mapping_items
from rules.read.source import LocDict, LocList, YamlFile, where_of
from rules.templates import Template
from rules.topics import TopicTree

RULE_KEYS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "topic": str,
    "description": str,
    "owner": str,
    "priority": int,
    "autoreply": bool,
    "template": str,
    "when": (str, list, dict),
}
RULE_REQUIRED = {"id", "description", "template"}


def read_rules(
    files: list[YamlFile],
    facts: FactSchema,
    topics: TopicTree,
    templates: dict[str, Template],
    problems: Problems,
) -> list[Rule]:
    """Return the rules in file order, with compiled conditions; a malformed rule is left out."""
    rules: list[Rule] = []
    seen: dict[str, Where] = {}
    for file in files:
        # A file may set the topic and the owner of all its rules.
        defaults: Mapping[str, Any] = file.data if isinstance(file.data, LocDict) else {}
        required = RULE_REQUIRED | {k for k in ("topic", "owner") if defaults.get(k) is None}
        for item, where in mapping_items(file, "rules", problems):
            usable = check_keys(item, RULE_KEYS, required, "a rule", problems)
            if not usable or _is_duplicate(item, seen, problems):
                continue
            topic = item.get("topic", defaults.get("topic"))
            _check_refs(item, topic, topics, templates, problems)
            when = (
                _condition(item["when"], facts, item.at("when"), problems)
                if "when" in item
                else None
            )
            rules.append(
                Rule(
                    item["id"],
                    str(topic),
                    item["description"],
                    str(item.get("owner", defaults.get("owner"))),
                    item.get("priority", 0),
                    item.get("autoreply", False),
                    item["template"],
                    when,
                    where,
                    len(rules),
                )
            )
    return rules


def _is_duplicate(item: LocDict, seen: dict[str, Where], problems: Problems) -> bool:
    rid = item["id"]
    if rid in seen:
        prior = seen[rid]
        problems.add(
            item.at("id"), f"duplicate rule id '{rid}' (first at {prior.file}:{prior.line})"
        )
        return True
    seen[rid] = item.at("id")
    return False


def _check_refs(
    item: LocDict, topic: Any, topics: TopicTree, templates: dict[str, Template], problems: Problems
) -> None:
    # The topic and template a rule names exist, and its template may be sent when the rule may.
    tid = item["template"]
    check_ref(topic, topics.index, "topic", where_of(topic, item.at("topic")), problems)
    check_ref(tid, templates, "template", item.at("template"), problems)
    if item.get("autoreply", False) and tid in templates and not templates[tid].autoreply:
        problems.add(
            item.at("autoreply"),
            f"rule '{item['id']}' allows autoreply but template '{tid}' may never be sent without a human",
        )


def _condition(node: Any, facts: FactSchema, where: Where, problems: Problems) -> Condition:
    # A condition is a line, a list of conditions (all hold), or one of all / any / not.
    where = where_of(node, where)
    if isinstance(node, str):
        return _leaf(node, facts, where, problems)
    if isinstance(node, LocList):
        return AllNode(_conditions(node, facts, problems))
    if isinstance(node, LocDict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "not":
            return NotNode(_condition(value, facts, node.at(key), problems))
        if key in ("all", "any") and isinstance(value, LocList) and value:
            children = _conditions(value, facts, problems)
            return AllNode(children) if key == "all" else AnyNode(children)
        problems.add(
            node.at(key),
            f"'{key}' must be all: [..], any: [..] or not: ..{suggest(key, ['all', 'any', 'not'])}",
        )
    else:
        problems.add(where, "a condition is a line, a list, or one of all / any / not")
    return AllNode(())


def _conditions(nodes: LocList, facts: FactSchema, problems: Problems) -> tuple[Condition, ...]:
    return tuple(
        _condition(n, facts, w, problems) for n, w in zip(nodes, nodes.item_where, strict=True)
    )


def _leaf(text: str, facts: FactSchema, where: Where, problems: Problems) -> Condition:
    try:
        return LeafNode(compile_condition(text, facts))
    except (ConditionSyntaxError, ConditionTypeError) as exc:
        # An offset maps to a column only on a one-line condition; else point at its start.
        column = where.column + exc.offset if "\n" not in text else where.column
        problems.add(Where(where.file, where.line, column), f"{exc} in condition '{text.strip()}'")
        return AllNode(())
