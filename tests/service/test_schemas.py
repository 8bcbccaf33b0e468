"""Hostile input is refused at the edge with a 422 naming the field, the same on both databases."""

from __future__ import annotations

import json

import pytest

from service.schemas import MAX_FACT_CHARS, MAX_FACT_ITEMS, MAX_FACTS
from tests.service.conftest import headers
from tests.service.test_api import rows, ticket

NUL = "\u0000"
HOSTILE_TICKETS = [
    (ticket(text=f"promo{NUL}code"), "text"),
    (ticket(customer_id=f"rider{NUL}42"), "customer_id"),
    (ticket(line=f"riders{NUL}"), "line"),
    (ticket(locale=f"en{NUL}"), "locale"),
    (ticket(dialogue=[f"hi{NUL}"]), "dialogue"),
    (ticket(text="bell \u0007 and escape \u001b"), "text"),
    (ticket(customer_id="two\nlines"), "customer_id"),
    (ticket(facts={"final_transaction_status": f"success{NUL}"}), "final_transaction_status"),
    (ticket(facts={"requirements": [f"child_seat{NUL}"]}), "requirements"),
    (ticket(facts={"requirements": ["x"] * (MAX_FACT_ITEMS + 1)}), "requirements"),
    (ticket(facts={"requirements": ["x" * (MAX_FACT_CHARS + 1)]}), "requirements"),
    (ticket(facts={f"f{i}": 1 for i in range(MAX_FACTS + 1)}), "facts"),
    (ticket(facts={"ride_cost": {"nested": 1}}), "ride_cost"),
    (ticket(facts={"Ride Cost": 1}), "Ride Cost"),
]
# Python's json reads these tokens as floats; PostgreSQL's JSON cannot hold them.
NON_FINITE = ["Infinity", "-Infinity", "NaN"]


def _post_raw(client, route: str, raw: str):
    return client.post(
        route, content=raw.encode(), headers={**headers(), "Content-Type": "application/json"}
    )


def check_hostile_inputs(client) -> None:
    for route in ("/v1/autoreply", "/v1/suggest"):
        for body, field in HOSTILE_TICKETS:
            answer = client.post(route, json=body, headers=headers())
            assert answer.status_code == 422, (route, field, answer.text)
            assert any(field in d["loc"] for d in answer.json()["details"]), answer.text
        for token in NON_FINITE:
            raw = json.dumps(ticket(facts={"ride_cost": 1.5})).replace("1.5", token)
            answer = _post_raw(client, route, raw)
            assert answer.status_code == 422 and "finite" in answer.text, answer.text
    feedback = {"ticket_id": "T-100500", "csat": 5, "final_text": f"edited{NUL}"}
    answer = client.post("/v1/feedback", json=feedback, headers=headers())
    assert answer.status_code == 422 and "final_text" in answer.text
    assert set(rows(client).values()) == {0}


def test_hostile_inputs_are_422_naming_the_field_on_sqlite(client):
    check_hostile_inputs(client)


@pytest.mark.postgres
def test_hostile_inputs_are_422_naming_the_field_on_postgres(make_client, postgres_url):
    check_hostile_inputs(make_client(postgres_url))


def test_text_keeps_its_whitespace_and_any_language(client):
    body = ticket(text="promo code\tnot applied\r\nпромокод не сработал 🙁")
    assert client.post("/v1/autoreply", json=body, headers=headers()).status_code == 200


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/v1/admin/reload", {"model": 0}, "model"),
        ("/v1/admin/reload", {"rules": "yes"}, "rules"),
        ("/v1/feedback", {"ticket_id": "T", "template_id": "x", "edited": 1}, "edited"),
    ],
)
def test_booleans_are_strict(client, route, body, field):
    answer = client.post(route, json=body, headers=headers())
    assert answer.status_code == 422 and field in answer.text, answer.text


def test_the_schema_states_the_limits_the_service_enforces(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["TicketIn"]
    facts = schema["properties"]["facts"]
    assert facts["maxProperties"] == MAX_FACTS and facts["additionalProperties"] is False
    # The rulebook's own vocabulary: a name or a value the schema allows is one the service takes.
    coupon_used, null = facts["properties"]["coupon_used"]["anyOf"]  # nullable: null is "missing"
    assert coupon_used["type"] == "boolean" and null == {"type": "null"}
    status = facts["properties"]["final_transaction_status"]["anyOf"][0]
    assert status["enum"] == ["success", "hold", "hold_fail", "refunded", "cash"]
    assert "\\x00" in schema["properties"]["text"]["pattern"]
