import pytest

from rules.errors import RulebookError
from rules.loader import load_rulebook

RULES = "rules/riders_ride_cost.yaml"
TEMPLATES = "templates/riders_ride_cost.yaml"


def rejected(root) -> list[str]:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(root)
    return [str(p) for p in caught.value.problems]


def test_shipped_rulebook_loads_with_a_content_version():
    book = load_rulebook()
    assert book.version.startswith("rb-")
    assert {"riders", "drivers"} <= set(book.topics.lines)
    assert book.rules and book.tests


def test_version_changes_with_content(book_copy):
    before = load_rulebook(book_copy()).version
    after = load_rulebook(book_copy((RULES, "Any other promo", "Every other promo"))).version
    assert before != after


def line_of(root, rel: str, needle: str) -> str:
    """Return 'rel:LINE:' for the first line of root/rel that holds `needle`."""
    for number, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return f"{rel}:{number}:"
    raise AssertionError(f"{needle!r} not in {rel}")


@pytest.mark.parametrize(
    ("edit", "at", "message"),
    [
        (
            (
                RULES,
                "- coupon_used is true\n        - coupon_use_value",
                "- coupon_usd is true\n        - coupon_use_value",
            ),
            (RULES, "coupon_usd"),
            "unknown fact 'coupon_usd'; did you mean 'coupon_used'?",
        ),
        (
            (RULES, "coupon_use_value = 100", "coupon_use_value = 'hundred'"),
            (RULES, "'hundred'"),
            "'coupon_use_value' is an int; compare it with a number",
        ),
        (
            (RULES, "template: riders.promo_hold_refund", "template: riders.promo_hold_refnd"),
            (RULES, "promo_hold_refnd"),
            "unknown template 'riders.promo_hold_refnd'; did you mean 'riders.promo_hold_refund'?",
        ),
        (
            (RULES, "topic: riders/ride_cost/overcharge", "topic: riders/ride_cost/overcharged"),
            (RULES, "overcharged"),
            "unknown topic 'riders/ride_cost/overcharged'; did you mean 'riders/ride_cost/overcharge'?",
        ),
        (
            (
                RULES,
                "final_transaction_status in ['hold', 'hold_fail']",
                "final_transaction_status in ['hold' 'hold_fail']",
            ),
            (RULES, "['hold' 'hold_fail']"),
            "expected ',' or ']' in the list",
        ),
        (
            (RULES, "id: overcharge_fallback", "id: promo_fallback  # again"),
            (RULES, "# again"),
            "duplicate rule id 'promo_fallback' (first at",
        ),
        (
            (TEMPLATES, "{{ promo_code }}.\n        Он", "{{ promo_cod }}.\n        Он"),
            (TEMPLATES, "ru: |"),
            "'ru' text of 'riders.promo_reissue' uses undeclared slot 'promo_cod'; did you mean 'promo_code'?",
        ),
        (
            (
                TEMPLATES,
                "slots: [ride_cost, estimated_cost]",
                "slots: [ride_cost, estimated_cost, ride_km]",
            ),
            (TEMPLATES, "ride_km"),
            "slot 'ride_km' of template 'riders.overcharge_explain' is neither a fact nor an output",
        ),
        (
            (
                RULES,
                "    template: riders.overcharge_explain\n",
                "    templat: riders.overcharge_explain\n",
            ),
            (RULES, "templat:"),
            "unknown key 'templat' in a rule; did you mean 'template'?",
        ),
        (
            (RULES, "priority: 90", "priority: high"),
            (RULES, "priority: high"),
            "'priority' in a rule must be int",
        ),
        (
            (
                RULES,
                "  - id: promo_fallback",
                "  - id: promo_fallback\n    when: complete_rides > 0",
            ),
            ("topics/riders.yaml", "id: promo_not_applied"),
            "actionable topic 'riders/ride_cost/promo_not_applied' has no fallback rule",
        ),
        (
            (RULES, "    priority: 80\n", "    priority: -5\n"),
            (RULES, "id: promo_not_used_explain"),
            "rule 'promo_not_used_explain' can never fire: fallback 'promo_fallback' is tried before it",
        ),
        (
            (
                "rules/drivers.yaml",
                "      - account_status = 'limited'",
                "      - account_status = 'limitd'",
            ),
            ("rules/drivers.yaml", "limitd"),
            "did you mean 'limited'?",
        ),
        (
            (
                "facts.yaml",
                "type: int\n    description: Face",
                "type: integer\n    description: Face",
            ),
            ("facts.yaml", "integer"),
            "unknown type 'integer'; did you mean 'int'?",
        ),
        (
            (TEMPLATES, "issue_promo_code:", "issue_promocode:"),
            (TEMPLATES, "issue_promocode"),
            "unknown action 'issue_promocode'",
        ),
        ((RULES, "rules:\n", "rules:\n  - [broken\n"), (RULES, "- [broken"), "YAML syntax"),
        (
            (
                "rules/riders_payment.yaml",
                "autoreply: true\n    template: riders.receipt_how_to",
                "autoreply: true\n    template: riders.promo_escalate",
            ),
            ("rules/riders_payment.yaml", "autoreply: true"),
            "allows autoreply but template 'riders.promo_escalate' may never be sent",
        ),
    ],
)
def test_each_kind_of_mistake_is_named_with_file_and_line(book_copy, edit, at, message):
    root = book_copy(edit)
    where = line_of(root, *at)
    problems = rejected(root)
    assert any(where in p and message in p for p in problems), (where, problems)


def test_all_problems_are_listed_at_once(book_copy):
    root = book_copy(
        (RULES, "coupon_use_value = 100", "coupon_use_valu = 100"),
        (RULES, "template: riders.promo_hold_refund", "template: nope"),
        (TEMPLATES, "{{ promo_code }}.\n        Он", "{{ promo_cod }}.\n        Он"),
    )
    problems = rejected(root)
    assert len(problems) >= 3
    assert str(problems[0]).startswith("rules/book/") or "book/" in problems[0]


def test_templates_must_have_every_locale(book_copy):
    root = book_copy(
        (
            "templates/riders_other.yaml",
            "      en: Thank you for the kind words! We will pass them on to the driver.\n",
            "",
        )
    )
    assert any("lacks its 'en' text" in p for p in rejected(root))


def test_a_rule_test_with_unknown_facts_is_rejected(book_copy):
    root = book_copy(("rules/drivers.test.yaml", "driver_rating: 4.31", "driver_ratin: 4.31"))
    assert any("unknown fact; did you mean 'driver_rating'?" in p for p in rejected(root))


def test_not_a_rulebook_directory(tmp_path):
    assert any("not a rulebook directory" in p for p in rejected(tmp_path))
