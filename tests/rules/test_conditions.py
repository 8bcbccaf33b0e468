from datetime import datetime

import pytest

from rules.conditions import ConditionTypeError, compile_condition, parse_condition
from rules.errors import ConditionSyntaxError
from rules.facts import FactSchema, FactSpec, FactType

SCHEMA = FactSchema(
    {
        spec.name: spec
        for spec in [
            FactSpec("complete_rides", FactType.INT, "", True),
            FactSpec("coupon_used", FactType.BOOL, "", True),
            FactSpec("coupon_use_value", FactType.INT, "", True),
            FactSpec("ride_cost", FactType.FLOAT, "", True),
            FactSpec("estimated_cost", FactType.FLOAT, "", True),
            FactSpec("tariff", FactType.STR, "", True),
            FactSpec("status", FactType.ENUM, "", True, ("success", "hold", "hold_fail")),
            FactSpec("finished_at", FactType.DATETIME, "", True),
            FactSpec("requirements", FactType.LIST, "", True),
        ]
    }
)


@pytest.mark.parametrize(
    ("expr", "facts", "expected"),
    [
        # the worked example's lines, exactly as the case writes them
        ("complete_rides > 1", {"complete_rides": 2}, True),
        ("complete_rides > 1", {"complete_rides": 1}, False),
        ("coupon_used is true", {"coupon_used": True}, True),
        ("coupon_used is false", {"coupon_used": True}, False),
        ("status != 'hold_fail'", {"status": "success"}, True),
        ("status != 'hold_fail'", {"status": "hold_fail"}, False),
        ("coupon_use_value = 100", {"coupon_use_value": 100}, True),
        ("coupon_use_value = 100", {"coupon_use_value": 200}, False),
        # the rest of the operators
        ("coupon_use_value == 100", {"coupon_use_value": 100}, True),
        ("complete_rides < 3", {"complete_rides": 3}, False),
        ("complete_rides <= 3", {"complete_rides": 3}, True),
        ("complete_rides >= 4", {"complete_rides": 3}, False),
        ("ride_cost > 99.5", {"ride_cost": 100.0}, True),
        ("status in ['hold', 'hold_fail']", {"status": "hold"}, True),
        ('status not in ["hold", "hold_fail"]', {"status": "hold"}, False),
        ("complete_rides in [1, 2, 3]", {"complete_rides": 4}, False),
        ("coupon_used is null", {}, True),
        ("coupon_used is null", {"coupon_used": False}, False),
        ("coupon_used is not null", {"coupon_used": False}, True),
        ("requirements contains 'child_seat'", {"requirements": ("child_seat",)}, True),
        ("ride_cost > estimated_cost", {"ride_cost": 10.0, "estimated_cost": 9.0}, True),
        ("ride_cost <= estimated_cost", {"ride_cost": 10.0, "estimated_cost": 9.0}, False),
        ("finished_at < '2026-01-02T00:00'", {"finished_at": datetime(2026, 1, 1)}, True),
        # a comparison on a missing fact is unknown (None), never True or False
        ("complete_rides > 1", {}, None),
        ("ride_cost > estimated_cost", {"ride_cost": 10.0}, None),
    ],
)
def test_conditions_evaluate(expr, facts, expected):
    _, result = compile_condition(expr, SCHEMA).evaluate(facts)
    assert result is expected


@pytest.mark.parametrize(
    ("expr", "message", "offset"),
    [
        ("coupon_usd is true", "unknown fact 'coupon_usd'; did you mean 'coupon_used'?", 0),
        ("complete_rides is true", "'complete_rides' is an int, not a bool", 0),
        ("coupon_used = 1", "'coupon_used' is a bool", 14),
        ("complete_rides > 'many'", "'complete_rides' is an int; compare it with a number", 17),
        ("status = 'hold_fial'", "did you mean 'hold_fail'?", 9),
        ("tariff < 'econom'", "'<' needs a number or a date-time", 0),
        ("ride_cost > tariff", "cannot compare 'ride_cost' (float) > 'tariff' (str)", 12),
        ("coupon_use_value = yes", "quote it", 19),
        ("finished_at > 'yesterday'", "not an ISO 8601 date-time", 14),
        ("tariff contains 'x'", "'contains' needs a list fact", 0),
    ],
)
def test_type_errors_name_the_problem_and_its_column(expr, message, offset):
    with pytest.raises(ConditionTypeError) as caught:
        compile_condition(expr, SCHEMA)
    assert message in str(caught.value)
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    ("expr", "offset"),
    [
        ("complete_rides >", 16),
        ("complete_rides ~ 1", 15),
        ("complete_rides > 1 and coupon_used is true", 19),
        ("> 1", 0),
        ("status in ['a' 'b']", 15),
        ("coupon_used is maybe", 15),
        ("status not 'x'", 11),
    ],
)
def test_syntax_errors_point_at_the_column(expr, offset):
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(expr)
    assert caught.value.offset == offset


def test_parser_never_evaluates_python():
    with pytest.raises(ConditionSyntaxError):
        parse_condition("__import__('os').system('true')")
