"""The case's worked example, shared by every test that needs it."""

PROMO = "riders/ride_cost/promo_not_applied"
WORKED = {
    "complete_rides": 12,
    "success_order_flg": True,
    "paid_cancel_tag": False,
    "final_transaction_status": "success",
    "coupon_used": True,
    "coupon_use_value": 100,
}
