"""The HTTP API end to end on the embedded defaults (SQLite, in-process cache), keyword classifier."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import create_engine, text

from service.db.repository import PROMO_LENGTH
from service.schemas import WORKED_EXAMPLE
from tests.service.conftest import headers

PRAISE = "Loved everything! The car came on time, good driver, fair prices! Thanks"


def ticket(**changes):
    return {**json.loads(json.dumps(WORKED_EXAMPLE)), **changes}


def rows(client) -> dict[str, int]:
    engine = create_engine(client.app.state.autoreply.settings.database_url)
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("tickets", "decisions", "replies", "promo_codes", "feedback")
        }


def test_worked_example_gets_the_promo_reissue_with_a_fresh_code(client):
    answer = client.post("/v1/autoreply", json=ticket(), headers=headers())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["action"] == "reply" and body["reasons"] == []
    reply = body["reply"]
    assert reply["template_id"] == "riders.promo_reissue"
    assert len(reply["promo_code"]) == PROMO_LENGTH and reply["promo_code"] in reply["text"]
    assert "100 RUB" in reply["text"]
    assert body["topic"]["path"] == "riders/ride_cost/promo_not_applied"
    assert rows(client)["promo_codes"] == 1 and rows(client)["replies"] == 1


def test_a_retried_autoreply_returns_the_same_decision_and_one_promo_code(client):
    first = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    again = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert again == first
    assert rows(client)["promo_codes"] == 1 and rows(client)["decisions"] == 1


def test_concurrent_autoreplies_converge_on_one_decision(client):
    answers, errors = [], []

    def call():
        try:
            answers.append(
                client.post("/v1/autoreply", json=ticket(id="T-race"), headers=headers()).json()
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({a["decision_id"] for a in answers}) == 1
    assert rows(client)["promo_codes"] == 1 and rows(client)["replies"] == 1


def test_praise_is_handed_off(client):
    body = client.post(
        "/v1/autoreply", json=ticket(id="T-praise", text=PRAISE, facts={}), headers=headers()
    ).json()
    assert body["action"] == "handoff" and body["reply"] is None
    assert "guard_gratitude" in body["reasons"] and "non_actionable_topic" in body["reasons"]
    assert rows(client)["promo_codes"] == 0


@pytest.mark.parametrize(
    ("facts", "template", "reason"),
    [
        (
            {**WORKED_EXAMPLE["facts"], "coupon_used": False, "coupon_use_value": 0},
            "riders.promo_how_coupons_apply",
            None,
        ),
        (
            {**WORKED_EXAMPLE["facts"], "final_transaction_status": "hold_fail"},
            "riders.promo_hold_refund",
            None,
        ),
        (
            {**WORKED_EXAMPLE["facts"], "complete_rides": 1},
            "riders.promo_escalate",
            "rule_requires_human",
        ),
        ({"complete_rides": 5, "coupon_used": True}, "riders.promo_escalate", "missing_fact"),
    ],
)
def test_the_worked_examples_neighbours(client, facts, template, reason):
    body = client.post(
        "/v1/autoreply", json=ticket(id="T-n", facts=facts), headers=headers()
    ).json()
    assert body["suggestions"][0]["template_id"] == template
    if reason is None:
        assert body["action"] == "reply" and body["reply"]["promo_code"] is None
    else:
        assert body["action"] == "handoff" and reason in body["reasons"]


def test_suggest_returns_rendered_replies_with_topic_rule_and_trace(client):
    body = client.post("/v1/suggest", json=ticket(), headers=headers("agent")).json()
    top = body["suggestions"][0]
    assert top["template_id"] == "riders.promo_reissue" and top["autoreply_allowed"] is True
    assert "[promo code issued on send]" in top["text"]
    assert top["rule_id"] == "promo_burnt_reissue"
    assert top["trace"][-1]["conditions"][0] == {
        "condition": "complete_rides > 1",
        "fact": "complete_rides",
        "value": 12,
        "result": "true",
    }
    assert [lv["path"] for lv in top["topic"]["levels"]] == [
        "riders/ride_cost",
        "riders/ride_cost/promo_not_applied",
    ]
    assert rows(client)["promo_codes"] == 0  # suggesting issues nothing
    record = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers()).json()
    assert record["kind"] == "suggest" and record["rule_id"] == "promo_burnt_reissue"


def test_russian_ticket_gets_a_russian_reply(client):
    body = client.post(
        "/v1/autoreply",
        json=ticket(
            id="T-ru", locale="ru", text="Дали промокод на 100 рублей, а водитель взял всю сумму!"
        ),
        headers=headers(),
    ).json()
    assert body["action"] == "reply" and "промокод" in body["reply"]["text"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"line": "couriers"}, "unknown_line"),
        ({"locale": "de"}, "unknown_locale"),
        ({"text": "maybe something"}, "low_confidence"),
    ],
)
def test_cannot_decide_is_a_normal_handoff(client, changes, reason):
    answer = client.post("/v1/autoreply", json=ticket(id="T-x", **changes), headers=headers())
    assert answer.status_code == 200
    assert reason in answer.json()["reasons"] and answer.json()["action"] == "handoff"


def test_shadow_mode_decides_and_records_but_never_sends(make_client):
    client = make_client(line_modes={"riders": "shadow", "drivers": "on"})
    body = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert body["action"] == "handoff" and body["reasons"] == ["shadow_mode"]
    record = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers()).json()
    assert record["trace"]["would_reply"] is True and rows(client)["promo_codes"] == 0


def test_off_mode_hands_off(make_client):
    client = make_client(line_modes={"riders": "off"})
    body = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert body["action"] == "handoff" and body["reasons"][0] == "mode_off"


def test_promo_cap_per_customer_hands_off_past_the_cap(make_client):
    client = make_client(promo_cap=2)
    actions = [
        client.post("/v1/autoreply", json=ticket(id=f"T-cap-{i}"), headers=headers()).json()
        for i in range(3)
    ]
    assert [a["action"] for a in actions] == ["reply", "reply", "handoff"]
    assert "promo_cap_reached" in actions[2]["reasons"]
    assert rows(client)["promo_codes"] == 2 and rows(client)["replies"] == 2


BAD_INPUTS = [
    ({k: v for k, v in WORKED_EXAMPLE.items() if k != "text"}, "text"),
    ({**WORKED_EXAMPLE, "facts": {"complete_rides": "twelve"}}, "complete_rides"),
    ({**WORKED_EXAMPLE, "facts": {"coupon_usd": True}}, "did you mean 'coupon_used'"),
    ({**WORKED_EXAMPLE, "text": "   "}, "text"),
    ({**WORKED_EXAMPLE, "text": "x" * 10_001}, "text"),  # a larger body is a 413 (test_main)
    ({**WORKED_EXAMPLE, "id": ""}, "id"),
    ({**WORKED_EXAMPLE, "surprise": 1}, "surprise"),
    ({**WORKED_EXAMPLE, "dialogue": "not a list"}, "dialogue"),
]


@pytest.mark.parametrize("route", ["/v1/autoreply", "/v1/suggest"])
@pytest.mark.parametrize(("body", "mentions"), BAD_INPUTS)
def test_bad_input_gets_a_422_that_says_what_to_fix_and_records_nothing(
    client, route, body, mentions
):
    answer = client.post(route, json=body, headers=headers())
    assert answer.status_code == 422, answer.text
    assert mentions in answer.text
    assert set(rows(client).values()) == {0}


def test_invalid_utf8_is_a_422(client):
    raw = json.dumps(ticket()).encode().replace(b"promo code", b"promo \xff\xfe code")
    answer = client.post(
        "/v1/autoreply", content=raw, headers={**headers(), "Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert set(rows(client).values()) == {0}


def test_api_keys_and_scopes(client):
    assert client.post("/v1/suggest", json=ticket()).status_code == 401
    assert (
        client.post("/v1/suggest", json=ticket(), headers={"X-API-Key": "nope"}).status_code == 401
    )
    assert client.post("/v1/autoreply", json=ticket(), headers=headers("agent")).status_code == 403
    assert client.post("/v1/suggest", json=ticket(), headers=headers("system")).status_code == 403
    bearer = {"Authorization": f"Bearer {headers('agent')['X-API-Key']}"}
    assert client.post("/v1/suggest", json=ticket(), headers=bearer).status_code == 200


def test_feedback_is_stored_and_checked(client):
    decision = client.post("/v1/suggest", json=ticket(), headers=headers()).json()
    good = {
        "ticket_id": "T-100500",
        "decision_id": decision["decision_id"],
        "template_id": "riders.promo_reissue",
        "csat": 5,
    }
    assert client.post("/v1/feedback", json=good, headers=headers("agent")).status_code == 201
    assert (
        client.post(
            "/v1/feedback", json={**good, "template_id": "riders.nope"}, headers=headers()
        ).status_code
        == 422
    )
    assert (
        client.post("/v1/feedback", json={**good, "csat": 9}, headers=headers()).status_code == 422
    )
    assert (
        client.post("/v1/feedback", json={"ticket_id": "T-100500"}, headers=headers()).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/feedback",
            json={**good, "ticket_id": "T-unknown", "decision_id": None},
            headers=headers(),
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/v1/feedback", json={**good, "topic": "riders/ride_cost"}, headers=headers()
        ).status_code
        == 422
    )
    assert rows(client)["feedback"] == 1


def test_decision_not_found(client):
    assert client.get("/v1/decisions/nope", headers=headers()).status_code == 404


def test_prediction_cache_skips_the_model_on_a_repeat(client):
    client.post("/v1/suggest", json=ticket(id="a"), headers=headers())
    client.post("/v1/suggest", json=ticket(id="b"), headers=headers())
    assert client.classifier.calls == 1
    metrics = client.get("/metrics").text
    assert 'autoreply_prediction_cache_total{result="hit"} 1.0' in metrics


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["checks"]["model"]["version"] == "fake-1"
    assert ready["checks"]["redis"] == {
        "ok": True,
        "configured": False,
        "up": False,
        "degraded": False,
    }
    client.post("/v1/autoreply", json=ticket(), headers=headers())
    metrics = client.get("/metrics").text
    assert 'autoreply_decisions_total{action="reply",kind="autoreply",line="riders"} 1.0' in metrics
    assert (
        'autoreply_http_requests_total{method="POST",route="/v1/autoreply",status="200"} 1.0'
        in metrics
    )
    assert "T-100500" not in metrics and "promo code" not in metrics


def test_openapi_documents_the_routes_with_examples(client):
    schema = client.get("/openapi.json").json()
    assert {
        "/v1/suggest",
        "/v1/autoreply",
        "/v1/feedback",
        "/v1/decisions/{decision_id}",
        "/v1/admin/reload",
    } <= set(schema["paths"])
    assert (
        schema["components"]["schemas"]["TicketIn"]["examples"][0]["facts"]["coupon_use_value"]
        == 100
    )


def test_logs_name_decisions_but_never_the_text_or_the_key(client, caplog):
    caplog.set_level("DEBUG")
    client.post("/v1/autoreply", json=ticket(), headers=headers())
    client.post(
        "/v1/suggest", json=ticket(id="T-log", text="secret promo words"), headers=headers()
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "decision " in logged and "riders/ride_cost/promo_not_applied" in logged
    for secret in (
        "secret promo words",
        "driver took the money",
        headers()["X-API-Key"],
        "rider-42",
    ):
        assert secret not in logged
