"""Feedback as the agent console sends it: escalations, wrong marks, one row per idempotency key,
and what `autoreply data export` makes of each."""

from __future__ import annotations

import json
import threading

from tests.service.conftest import headers
from tests.service.test_api import rows, ticket
from training.feedback import export_to_file


def handed_off(client, ticket_id: str = "T-h") -> dict:
    body = ticket(id=ticket_id, text="maybe the driver charged me twice")
    answer = client.post("/v1/autoreply", json=body, headers=headers()).json()
    assert answer["action"] == "handoff"
    return answer


def feedback(client, **values):
    return client.post("/v1/feedback", json=values, headers=headers())


def test_an_escalation_alone_is_feedback(client):
    decision = handed_off(client)
    answer = feedback(client, ticket_id="T-h", decision_id=decision["decision_id"], escalated=True)
    assert answer.status_code == 201, answer.text
    refused = feedback(client, ticket_id="T-h", escalated=False)
    assert refused.status_code == 422 and "escalated" in refused.json()["message"]


def test_a_wrong_mark_names_a_known_template_and_a_listed_reason(client):
    handed_off(client)
    ok = feedback(
        client, ticket_id="T-h", wrong_template_id="riders.promo_reissue", wrong_reason="unsafe"
    )
    assert ok.status_code == 201, ok.text
    unknown = feedback(client, ticket_id="T-h", wrong_template_id="nope", wrong_reason="unsafe")
    assert unknown.status_code == 422 and "wrong_template_id" in unknown.text
    unlisted = feedback(client, ticket_id="T-h", wrong_reason="because")
    assert unlisted.status_code == 422


def test_the_same_idempotency_key_records_once_even_when_racing(client):
    handed_off(client)
    values = {
        "ticket_id": "T-h",
        "template_id": "riders.promo_reissue",
        "idempotency_key": "k" * 16,
    }
    first = feedback(client, **values).json()
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(feedback(client, **values).json()))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a["id"] for a in answers} == {first["id"]} and rows(client)["feedback"] == 1
    handed_off(client, "T-other")
    reused = feedback(client, **{**values, "ticket_id": "T-other"})
    assert reused.status_code == 409


def test_console_actions_export_as_training_labels(client, tmp_path):
    for ticket_id in ("T-edit", "T-esc", "T-disputed", "T-fixed"):
        handed_off(client, ticket_id)
    decision_id = handed_off(client, "T-sent")["decision_id"]
    best = client.get(f"/v1/decisions/{decision_id}", headers=headers()).json()["template_id"]
    feedback(client, ticket_id="T-sent", template_id=best)
    feedback(client, ticket_id="T-edit", template_id=best, edited=True)
    feedback(client, ticket_id="T-esc", escalated=True)
    feedback(
        client, ticket_id="T-disputed", escalated=True, wrong_reason="wrong_topic"
    )  # no better topic named: the decision's topic must not become a label
    feedback(
        client,
        ticket_id="T-fixed",
        template_id="riders.receipt_how_to",
        topic="riders/payment/receipt",
        wrong_reason="wrong_topic",
    )
    state = client.app.state.autoreply
    out = tmp_path / "labels.jsonl"
    report = export_to_file(state.sessions, state.rulebooks.current, out)
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert report.skipped == {"topic_disputed": 1} and set(records) == {
        "T-sent",
        "T-edit",
        "T-esc",
        "T-fixed",
    }
    actions = {key: record["agent_action"] for key, record in records.items()}
    assert actions == {
        "T-sent": "sent",
        "T-edit": "edited",
        "T-esc": "escalated",
        "T-fixed": "other_template",
    }
    assert records["T-fixed"]["topic"] == "riders/payment/receipt"
