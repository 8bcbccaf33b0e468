"""The case's worked example, shared by every test that needs it (the API documents the same one)."""

from service.schemas import WORKED_EXAMPLE

PROMO = "riders/ride_cost/promo_not_applied"
WORKED: dict[str, object] = dict(WORKED_EXAMPLE["facts"])
