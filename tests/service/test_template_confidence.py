"""Decisions on the template through HTTP: siblings that agree add up, thresholds back off."""

from __future__ import annotations

from tests.examples import WORKED
from tests.service.conftest import headers

LOST = "riders/lost_items"
AUTOREPLY_LOST_ITEMS = (
    (
        "rules/riders_lost_items.yaml",
        "    when: lost_item_call_made is true\n    template: riders.lost_item_we_contact",
        "    when: lost_item_call_made is true\n    autoreply: true\n"
        "    template: riders.lost_item_we_contact",
    ),
    (
        "rules/riders_lost_items.yaml",
        "we contact him ourselves.\n    template:",
        "we contact him ourselves.\n    autoreply: true\n    template:",
    ),
    (
        "templates/riders_lost_items.yaml",
        "lost item ourselves\n    autoreply: false",
        "lost item ourselves\n    autoreply: true",
    ),
)


def ticket(tid: str, text: str, facts: dict) -> dict:
    return {"id": tid, "line": "riders", "locale": "en", "customer_id": "c-1", "text": text,
            "facts": facts}  # fmt: skip


def lost_bag(make_client, book_copy, tid: str, call_made: bool) -> tuple[object, dict]:
    """Send "I lost my bag" (two sibling leaves at 0.50 and 0.45) to a rulebook where both may
    autoreply; return the client and the answer."""
    client = make_client(rulebook_dir=book_copy(*AUTOREPLY_LOST_ITEMS))
    facts = {"lost_item_call_made": call_made, "driver_active": True, "hours_since_ride": 3}
    body = client.post(
        "/v1/autoreply", json=ticket(tid, "I lost my bag", facts), headers=headers()
    ).json()
    return client, body


def test_siblings_leading_to_one_template_are_answered_together(make_client, book_copy):
    client, body = lost_bag(make_client, book_copy, "T-lost-1", call_made=True)
    # Neither leaf alone (0.50, 0.45) passes the 0.8 threshold; the template they share does.
    assert body["action"] == "reply", body["reasons"]
    assert body["reply"]["template_id"] == "riders.lost_item_we_contact"
    confidence = body["confidence"]
    assert confidence["prob"] == 0.95 and confidence["threshold"] == 0.8
    assert confidence["leaves"] == [f"{LOST}/left_in_car", f"{LOST}/driver_not_responding"]
    assert confidence["threshold_source"] == "line"
    assert body["topic"]["path"] == f"{LOST}/left_in_car" and body["topic"]["prob"] == 0.5
    record = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers()).json()
    assert record["template_prob"] == 0.95 and record["threshold"] == 0.8
    assert record["threshold_source"] == "line" and record["confidence"] == 0.5
    assert record["trace"]["leaves"] == confidence["leaves"]


def test_siblings_leading_to_different_templates_still_block_each_other(make_client, book_copy):
    _, body = lost_bag(make_client, book_copy, "T-lost-2", call_made=False)
    assert body["action"] == "handoff"
    assert {"low_confidence", "small_margin"} <= set(body["reasons"])
    assert body["confidence"]["prob"] == 0.5
    suggested = [s["template_id"] for s in body["suggestions"]]
    assert suggested[:2] == ["riders.lost_item_call_driver", "riders.lost_item_we_contact"]
    assert [s["template_prob"] for s in body["suggestions"][:2]] == [0.5, 0.45]


def test_a_leaf_without_evidence_is_answered_through_its_parents_threshold(make_client):
    # Validation held too few tickets for the promo leaf (no threshold of its own) and none for
    # the line; its category had enough.
    thresholds = {
        "riders/ride_cost/promo_not_applied": None,
        "riders/ride_cost": 0.9,
        "riders": None,
    }
    client = make_client(thresholds=thresholds)
    body = client.post(
        "/v1/autoreply", json=ticket("T-parent", "my promo was ignored", WORKED), headers=headers()
    ).json()
    assert body["action"] == "reply" and body["reply"]["template_id"] == "riders.promo_reissue"
    assert body["confidence"]["threshold"] == 0.9
    assert body["confidence"]["threshold_source"] == "parent"
    record = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers()).json()
    assert record["threshold_source"] == "parent" and record["template_prob"] >= 0.9


def test_no_threshold_anywhere_never_autoreplies(make_client):
    client = make_client(thresholds={})
    body = client.post(
        "/v1/autoreply", json=ticket("T-none", "my promo was ignored", WORKED), headers=headers()
    ).json()
    assert body["action"] == "handoff" and "no_threshold" in body["reasons"]
    assert body["confidence"]["threshold"] is None
    assert body["suggestions"][0]["template_id"] == "riders.promo_reissue"


def test_suggest_shows_each_templates_probability(client):
    body = client.post(
        "/v1/suggest", json=ticket("T-sug", "my promo was ignored", WORKED), headers=headers()
    ).json()
    first = body["suggestions"][0]
    assert first["template_id"] == "riders.promo_reissue" and first["template_prob"] >= 0.93
    assert body["confidence"]["template_id"] == "riders.promo_reissue"
    assert [lv["path"] for lv in first["topic"]["levels"]][-1] == first["topic"]["path"]
