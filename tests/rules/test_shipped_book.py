"""The shipped rulebook as a product: its size, its rule-test coverage, and every template renders."""

from datetime import datetime

import pytest

from rules.facts import FactType
from rules.loader import load_rulebook
from tests.examples import CASE_CONDITIONS, PROMO, WORKED

BOOK = load_rulebook()
SAMPLE = {
    FactType.BOOL: True,
    FactType.INT: 7,
    FactType.FLOAT: 412.5,
    FactType.STR: "x",
    FactType.DATETIME: datetime(2026, 11, 20, 18, 40),
    FactType.LIST: ("child_seat",),
}
PROMO_OUTPUTS = {
    "promo_code": "RIDE-7Q2K",
    "promo_value": 100,
    "promo_currency": "RUB",
    "promo_expires_on": datetime(2026, 12, 6),
}


def fact_sample(name: str):
    spec = BOOK.facts.get(name)
    return spec.values[0] if spec.type is FactType.ENUM else SAMPLE[spec.type]


def categories(line: str) -> set[str]:
    return {leaf.path.split("/")[1] for leaf in BOOK.topics.leaves(line)}


def test_both_lines_have_the_breadth_of_a_real_support_desk():
    assert len(BOOK.topics.leaves("riders")) >= 30 and len(categories("riders")) >= 6
    assert len(BOOK.topics.leaves("drivers")) >= 15
    for line in ("riders", "drivers"):
        other = [
            leaf for leaf in BOOK.topics.leaves(line) if leaf.path.startswith(f"{line}/other/")
        ]
        assert {leaf.path.rsplit("/", 1)[1] for leaf in other} == {"thanks", "off_topic", "unclear"}
        assert not any(leaf.actionable for leaf in other)


def test_most_actionable_leaves_choose_among_templates_by_facts():
    actionable = [leaf.path for leaf in BOOK.topics.leaves() if leaf.actionable]
    by_facts = [
        path
        for path in actionable
        if len({r.template for r in BOOK.rules_for(path)}) >= 2
        and any(not r.is_fallback for r in BOOK.rules_for(path))
    ]
    assert len(by_facts) / len(actionable) >= 0.6


def test_every_rule_is_expected_by_a_rule_test():
    expected = {t.expect_rule for t in BOOK.tests}
    assert [r.id for r in BOOK.rules if r.id not in expected] == []


def test_every_template_is_used_by_a_rule():
    used = {r.template for r in BOOK.rules}
    assert [t for t in BOOK.templates if t not in used] == []


@pytest.mark.parametrize("template", BOOK.templates.values(), ids=lambda t: t.id)
def test_every_template_renders_in_every_locale(template):
    values = {s: PROMO_OUTPUTS.get(s) or fact_sample(s) for s in template.slots}
    for locale in ("ru", "en"):
        text = template.render(locale, values)
        assert len(text) > 30 and "{{" not in text


def test_the_worked_example_is_the_case_s_six_conditions_and_its_template():
    match = BOOK.evaluate(PROMO, WORKED)
    assert match.rule.id == "promo_burnt_reissue" and match.template == "riders.promo_reissue"
    assert [leaf.text.strip() for leaf, _, _ in match.trace[-1].conditions] == CASE_CONDITIONS
    action = BOOK.templates["riders.promo_reissue"].action
    assert action is not None and action.params["value"].name == "coupon_use_value"
