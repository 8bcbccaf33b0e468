"""Load a rulebook directory, check everything against everything, and list all problems at once."""

from __future__ import annotations

from pathlib import Path

from rules.errors import Problem, Problems, RulebookError, Where
from rules.read.facts import read_facts
from rules.read.rule_tests import read_rule_tests
from rules.read.rules import read_rules
from rules.read.source import read_yaml, read_yaml_files
from rules.read.templates import read_templates
from rules.read.topics import read_topics
from rules.rulebook import DEFAULT_ROOT, Rulebook, content_version


def load_rulebook(root: Path = DEFAULT_ROOT) -> Rulebook:
    """Load, cross-check and compile the rulebook at `root`; raise RulebookError listing every problem."""
    if not (root / "facts.yaml").is_file():
        raise RulebookError(
            [Problem(str(root), 1, 1, "not a rulebook directory: it has no facts.yaml")]
        )
    problems = Problems()
    # Each kind of file is read by its own reader, against the parts read before it.
    facts_file = read_yaml(root / "facts.yaml", problems)
    facts = read_facts(facts_file, problems)
    topic_files = read_yaml_files(root / "topics", problems)
    topics = read_topics(topic_files, problems)
    template_files = read_yaml_files(root / "templates", problems)
    templates = read_templates(template_files, facts, problems)
    rule_files = read_yaml_files(root / "rules", problems)
    rules = read_rules(rule_files, facts, topics, templates, problems)
    test_files = read_yaml_files(root / "rules", problems, tests=True)
    rule_ids = {rule.id for rule in rules}
    tests = read_rule_tests(test_files, facts, topics, rule_ids, templates, problems)
    files = [facts_file, *topic_files, *template_files, *rule_files, *test_files]
    version = content_version(root, [file.path for file in files])
    rulebook = Rulebook(root, version, facts, topics, templates, tuple(rules), tuple(tests))
    check_coverage(rulebook, problems)
    problems.raise_if_any()
    return rulebook


def check_coverage(rulebook: Rulebook, problems: Problems) -> None:
    """Record each actionable leaf without a fallback rule, and each rule a fallback shadows."""
    reachable: set[str] = set()
    shadowed_by: dict[str, str] = {}
    for leaf in rulebook.topics.leaves():
        ordered = rulebook.rules_for(leaf.path)
        cut = next((i for i, rule in enumerate(ordered) if rule.is_fallback), len(ordered))
        if cut == len(ordered) and leaf.actionable:
            problems.add(
                leaf.where or Where("topics", 1, 1),
                f"actionable topic '{leaf.path}' has no fallback rule (a rule without 'when')",
            )
        reachable.update(rule.id for rule in ordered[: cut + 1])
        for rule in ordered[cut + 1 :]:
            shadowed_by.setdefault(rule.id, ordered[cut].id)
    for rule in rulebook.rules:
        if rule.id not in reachable and rule.id in shadowed_by:
            problems.add(
                rule.where,
                f"rule '{rule.id}' can never fire: fallback '{shadowed_by[rule.id]}' is tried before it",
            )
