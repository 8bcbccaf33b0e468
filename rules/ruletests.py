"""Run the rule tests written next to the rules."""

from __future__ import annotations

from dataclasses import dataclass

from rules.rulebook import Rulebook, RuleTest


@dataclass(frozen=True)
class RuleTestOutcome:
    """One rule test's result: what it expected, what the rulebook decided."""

    test: RuleTest
    got_rule: str | None
    got_template: str | None

    @property
    def passed(self) -> bool:
        """Whether the rulebook decided what the test expects (rule and/or template)."""
        rule_ok = self.test.expect_rule == self.got_rule or self._unchecked("rule")
        template_ok = self.test.expect_template == self.got_template or self._unchecked("template")
        return rule_ok and template_ok

    def _unchecked(self, what: str) -> bool:
        # A test may expect only a template (or only a rule); `expect: {rule: null}` expects no match.
        rule, template = self.test.expect_rule, self.test.expect_template
        if what == "rule":
            return rule is None and template is not None
        return template is None and rule is not None

    def as_dict(self) -> dict[str, object]:
        """Return the outcome as JSON-ready data."""
        where = self.test.where
        return {
            "name": self.test.name,
            "at": f"{where.file}:{where.line}",
            "passed": self.passed,
            "expected": {"rule": self.test.expect_rule, "template": self.test.expect_template},
            "got": {"rule": self.got_rule, "template": self.got_template},
        }


def run_rule_tests(rulebook: Rulebook) -> list[RuleTestOutcome]:
    """Evaluate every rule test of the rulebook and return the outcomes in file order."""
    outcomes = []
    for test in rulebook.tests:
        match = rulebook.evaluate(test.topic, test.facts)
        outcomes.append(
            RuleTestOutcome(test, match.rule.id if match.rule else None, match.template)
        )
    return outcomes
