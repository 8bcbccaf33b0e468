"""Each reader on its own: parsed YAML and a Problems collector in, its part of the rulebook out."""

from pathlib import Path

from rules.errors import Problems
from rules.facts import FactSchema, FactSpec, FactType
from rules.loader import check_coverage
from rules.read.facts import read_facts
from rules.read.rule_tests import read_rule_tests
from rules.read.rules import read_rules
from rules.read.source import YamlFile, read_yaml
from rules.read.templates import read_templates
from rules.read.topics import read_topics
from rules.rulebook import Rulebook
from rules.topics import TopicNode, TopicTree

FACTS = FactSchema({"complete_rides": FactSpec("complete_rides", FactType.INT, "Rides.", True)})
TOPICS = TopicTree(
    {"riders": TopicNode("riders", {}, children=[TopicNode("riders/promo", {"en": "Promo"})])}
)


def parsed(tmp_path: Path, text: str, problems: Problems, name: str = "book.yaml") -> YamlFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, problems)


def messages(problems: Problems) -> list[str]:
    return [f"{p.line}:{p.column}: {p.message}" for p in problems.items]


def test_a_syntax_error_is_a_problem_and_leaves_no_data(tmp_path):
    problems = Problems()
    file = parsed(tmp_path, "a: 1\na: 2\n", problems)
    assert file.data is None and file.top.line == 1
    assert messages(problems) == ["2:1: YAML syntax: duplicate key 'a'"]


def test_facts_keep_the_good_and_name_the_bad(tmp_path):
    problems = Problems()
    text = "facts:\n  rides: {type: int, description: Rides.}\n  Bad: {type: int, description: x}\n"
    schema = read_facts(parsed(tmp_path, text, problems), problems)
    assert list(schema.specs) == ["rides"]
    assert messages(problems) == ["3:3: fact name 'Bad' must be lower_snake_case"]


def test_topics_build_a_tree_and_name_a_malformed_id(tmp_path):
    problems = Problems()
    text = "line: riders\ntitle: {ru: П, en: R}\ntopics:\n  - {id: promo, title: {ru: П, en: P}}\n  - {id: Bad, title: {ru: П, en: B}}\n"
    tree = read_topics([parsed(tmp_path, text, problems)], problems)
    assert [leaf.path for leaf in tree.leaves()] == ["riders/promo"]
    assert messages(problems) == ["5:6: topic id 'Bad' must be lower_snake_case"]


def test_templates_check_slots_against_the_facts(tmp_path):
    problems = Problems()
    text = (
        "templates:\n  - id: riders.hi\n    title: Hi\n    autoreply: true\n"
        "    slots: [complete_rides, rides]\n"
        "    text: {ru: '{{ complete_rides }}', en: '{{ complete_rides }}'}\n"
    )
    templates = read_templates([parsed(tmp_path, text, problems)], FACTS, problems)
    assert list(templates) == ["riders.hi"]
    assert messages(problems) == [
        "5:29: slot 'rides' of template 'riders.hi' is neither a fact nor an output of its action"
    ]


def test_rules_compile_conditions_and_check_what_they_name(tmp_path):
    problems = Problems()
    text = (
        "owner: ops\ntopic: riders/promo\nrules:\n"
        "  - {id: a, description: A, template: t, when: complete_ride > 1}\n"
        "  - {id: b, description: B, template: nope}\n"
    )
    templates = read_templates([], FACTS, problems)
    rules = read_rules([parsed(tmp_path, text, problems)], FACTS, TOPICS, templates, problems)
    assert [(r.id, r.topic, r.owner, r.is_fallback) for r in rules] == [
        ("a", "riders/promo", "ops", False),
        ("b", "riders/promo", "ops", True),
    ]
    assert messages(problems) == [
        "4:29: unknown template 't'",
        "4:48: unknown fact 'complete_ride'; did you mean 'complete_rides'? in condition 'complete_ride > 1'",
        "5:29: unknown template 'nope'",
    ]


def test_rule_tests_check_facts_and_expectations(tmp_path):
    problems = Problems()
    text = (
        "tests:\n  - {name: ok, topic: riders/promo, facts: {complete_rides: 2}, expect: {rule: b}}\n"
        "  - {name: typo, topic: riders/promo, facts: {complete_ride: 2}, expect: {rule: b}}\n"
    )
    files = [parsed(tmp_path, text, problems, "book.test.yaml")]
    tests = read_rule_tests(files, FACTS, TOPICS, {"a"}, {}, problems)
    assert [(t.name, dict(t.facts), t.expect_rule) for t in tests] == [
        ("ok", {"complete_rides": 2}, "b")
    ]
    assert messages(problems) == [
        "2:74: unknown rule 'b'",
        "3:39: test 'typo': complete_ride: unknown fact; did you mean 'complete_rides'?",
    ]


def test_coverage_names_an_actionable_leaf_without_a_fallback(tmp_path):
    problems = Problems()
    book = Rulebook(tmp_path, "rb-test", FACTS, TOPICS, {}, (), ())
    check_coverage(book, problems)
    assert messages(problems) == [
        "1:1: actionable topic 'riders/promo' has no fallback rule (a rule without 'when')"
    ]
