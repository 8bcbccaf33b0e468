"""Reading rules/*.test.yaml: rule tests, each topic, fact and expectation checked at load."""

from __future__ import annotations

from collections.abc import Collection

from rules.errors import Problems
from rules.facts import FactSchema, FactValueError
from rules.read.checks import check_keys, check_ref, mapping_items
from rules.read.source import LocDict, YamlFile, where_of
from rules.rulebook import RuleTest
from rules.templates import Template
from rules.topics import TopicTree

TEST_KEYS = {"name": str, "topic": str, "facts": dict, "expect": dict}
EXPECT_KEYS = {"rule": (str, type(None)), "template": (str, type(None))}


def read_rule_tests(
    files: list[YamlFile],
    facts: FactSchema,
    topics: TopicTree,
    rule_ids: Collection[str],
    templates: dict[str, Template],
    problems: Problems,
) -> list[RuleTest]:
    """Return the rule tests in file order; a test naming unknown things is a problem, left out."""
    tests: list[RuleTest] = []
    for file in files:
        for item, where in mapping_items(file, "tests", problems):
            if not check_keys(
                item, TEST_KEYS, {"name", "topic", "expect"}, "a rule test", problems
            ):
                continue
            topic = item["topic"]
            check_ref(topic, topics.index, "topic", where_of(topic, item.at("topic")), problems)
            try:
                checked = facts.validate(item.get("facts", {}))
            except FactValueError as exc:
                problems.add(item.at("facts"), f"test '{item['name']}': {exc}")
                continue
            expect: LocDict = item["expect"]
            if not check_keys(expect, EXPECT_KEYS, set(), "'expect'", problems):
                continue
            rule, template = expect.get("rule"), expect.get("template")
            if rule is not None:
                check_ref(rule, rule_ids, "rule", expect.at("rule"), problems)
            if template is not None:
                check_ref(template, templates, "template", expect.at("template"), problems)
            tests.append(RuleTest(item["name"], topic, checked, rule, template, where))
    return tests
