"""The case's worked example, shared by every test that needs it (the API documents the same one)."""

from service.schemas import WORKED_EXAMPLE

PROMO = "riders/ride_cost/promo_not_applied"
WORKED: dict[str, object] = dict(WORKED_EXAMPLE["facts"])

# The case's rule, line by line, exactly as CASE.md writes it.
CASE_CONDITIONS = [
    "complete_rides > 1",
    "success_order_flg is true",
    "paid_cancel_tag is false",
    "final_transaction_status != 'hold_fail'",
    "coupon_used is true",
    "coupon_use_value = 100",
]
