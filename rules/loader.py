"""Load a rulebook directory, check everything against everything, and list all problems at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rules.conditions import ConditionTypeError, compile_condition
from rules.engine import AllNode, AnyNode, Condition, LeafNode, NotNode, Rule
from rules.errors import ConditionSyntaxError, Problem, RulebookError
from rules.facts import FactSchema, FactValueError, suggest
from rules.rulebook import DEFAULT_ROOT, Rulebook, RuleTest, content_version
from rules.sources import check_keys, mapping_items
from rules.templates import Template
from rules.topics import TopicTree
from rules.vocabulary_loader import VocabularyLoader
from rules.yamlsrc import LocDict, LocList, Where, where_of


class _Loader(VocabularyLoader):
    """Adds the rules, their conditions, the rule tests and the coverage checks."""

    # -- rules --------------------------------------------------------------------------------
    def rules(
        self, facts: FactSchema, topics: TopicTree, templates: dict[str, Template]
    ) -> list[Rule]:
        rules: list[Rule] = []
        seen: dict[str, Where] = {}
        allowed: dict[str, type | tuple[type, ...]] = {
            "id": str,
            "topic": str,
            "description": str,
            "owner": str,
            "priority": int,
            "autoreply": bool,
            "template": str,
            "when": (str, list, dict),
        }
        for path in self.glob("rules"):
            data = self.read(path)
            default_topic = data.get("topic") if isinstance(data, LocDict) else None
            default_owner = data.get("owner") if isinstance(data, LocDict) else None
            for item, where in mapping_items(data, "rules", self.problems, self.top(path)):
                required = {"id", "description", "template"} | (
                    {"topic"} if default_topic is None else set()
                )
                if not check_keys(
                    item,
                    allowed,
                    required | ({"owner"} if default_owner is None else set()),
                    "a rule",
                    self.problems,
                ):
                    continue
                rid, topic, tid = item["id"], item.get("topic", default_topic), item["template"]
                if rid in seen:
                    prior = seen[rid]
                    self.problems.add(
                        item.at("id"),
                        f"duplicate rule id '{rid}' (first at {prior.file}:{prior.line})",
                    )
                    continue
                seen[rid] = item.at("id")
                self.check_ref(topic, topics.index, "topic", where_of(topic, item.at("topic")))
                self.check_ref(tid, templates, "template", item.at("template"))
                autoreply = item.get("autoreply", False)
                if autoreply and tid in templates and not templates[tid].autoreply:
                    self.problems.add(
                        item.at("autoreply"),
                        f"rule '{rid}' allows autoreply but template '{tid}' may never be sent without a human",
                    )
                when = (
                    self.condition(item["when"], facts, item.at("when")) if "when" in item else None
                )
                rules.append(
                    Rule(
                        rid,
                        str(topic),
                        item["description"],
                        str(item.get("owner", default_owner)),
                        item.get("priority", 0),
                        autoreply,
                        tid,
                        when,
                        where,
                        len(rules),
                    )
                )
        return rules

    def condition(self, node: Any, facts: FactSchema, where: Where) -> Condition:
        where = where_of(node, where)
        if isinstance(node, str):
            return self.leaf(node, facts, where)
        if isinstance(node, LocList):
            return AllNode(
                tuple(
                    self.condition(n, facts, w) for n, w in zip(node, node.item_where, strict=True)
                )
            )
        if isinstance(node, LocDict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "not":
                return NotNode(self.condition(value, facts, node.at(key)))
            if key in ("all", "any") and isinstance(value, LocList) and value:
                children = tuple(
                    self.condition(n, facts, w)
                    for n, w in zip(value, value.item_where, strict=True)
                )
                return AllNode(children) if key == "all" else AnyNode(children)
            self.problems.add(
                node.at(key),
                f"'{key}' must be all: [..], any: [..] or not: ..{suggest(key, ['all', 'any', 'not'])}",
            )
        else:
            self.problems.add(where, "a condition is a line, a list, or one of all / any / not")
        return AllNode(())

    def leaf(self, text: str, facts: FactSchema, where: Where) -> Condition:
        try:
            return LeafNode(compile_condition(text, facts))
        except (ConditionSyntaxError, ConditionTypeError) as exc:
            column = where.column + exc.offset if "\n" not in text else where.column
            self.problems.add(
                Where(where.file, where.line, column), f"{exc} in condition '{text.strip()}'"
            )
            return AllNode(())

    # -- rule tests and coverage --------------------------------------------------------------
    def tests(
        self,
        facts: FactSchema,
        topics: TopicTree,
        rules: list[Rule],
        templates: dict[str, Template],
    ) -> list[RuleTest]:
        tests: list[RuleTest] = []
        rule_ids = {r.id for r in rules}
        allowed = {"name": str, "topic": str, "facts": dict, "expect": dict}
        for path in self.glob("rules", tests=True):
            for item, where in mapping_items(
                self.read(path), "tests", self.problems, self.top(path)
            ):
                if not check_keys(
                    item, allowed, {"name", "topic", "expect"}, "a rule test", self.problems
                ):
                    continue
                self.check_ref(
                    item["topic"], topics.index, "topic", where_of(item["topic"], item.at("topic"))
                )
                try:
                    checked = facts.validate(item.get("facts", {}))
                except FactValueError as exc:
                    self.problems.add(item.at("facts"), f"test '{item['name']}': {exc}")
                    continue
                expect: LocDict = item["expect"]
                if not check_keys(
                    expect,
                    {"rule": (str, type(None)), "template": (str, type(None))},
                    set(),
                    "'expect'",
                    self.problems,
                ):
                    continue
                if expect.get("rule") is not None:
                    self.check_ref(expect["rule"], rule_ids, "rule", expect.at("rule"))
                if expect.get("template") is not None:
                    self.check_ref(expect["template"], templates, "template", expect.at("template"))
                tests.append(
                    RuleTest(
                        item["name"],
                        item["topic"],
                        checked,
                        expect.get("rule"),
                        expect.get("template"),
                        where,
                    )
                )
        return tests

    def coverage(self, topics: TopicTree, rulebook: Rulebook) -> None:
        reachable: set[str] = set()
        shadowed_by: dict[str, str] = {}
        for leaf in topics.leaves():
            ordered = rulebook.rules_for(leaf.path)
            cut = next((i for i, rule in enumerate(ordered) if rule.is_fallback), len(ordered))
            if cut == len(ordered) and leaf.actionable:
                self.problems.add(
                    leaf.where or Where("topics", 1, 1),
                    f"actionable topic '{leaf.path}' has no fallback rule (a rule without 'when')",
                )
            reachable.update(rule.id for rule in ordered[: cut + 1])
            for rule in ordered[cut + 1 :]:
                shadowed_by.setdefault(rule.id, ordered[cut].id)
        for rule in rulebook.rules:
            if rule.id not in reachable and rule.id in shadowed_by:
                self.problems.add(
                    rule.where,
                    f"rule '{rule.id}' can never fire: fallback '{shadowed_by[rule.id]}' is tried before it",
                )


def load_rulebook(root: Path = DEFAULT_ROOT) -> Rulebook:
    """Load, cross-check and compile the rulebook at `root`; raise RulebookError listing every problem."""
    if not (root / "facts.yaml").is_file():
        raise RulebookError(
            [Problem(str(root), 1, 1, "not a rulebook directory: it has no facts.yaml")]
        )
    loader = _Loader(root)
    facts = loader.facts()
    topics = loader.topics()
    templates = loader.templates(facts)
    rules = loader.rules(facts, topics, templates)
    tests = loader.tests(facts, topics, rules, templates)
    version = content_version(root, loader.files)
    rulebook = Rulebook(root, version, facts, topics, templates, tuple(rules), tuple(tests))
    loader.coverage(topics, rulebook)
    loader.problems.raise_if_any()
    return rulebook
