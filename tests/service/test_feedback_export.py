"""Feedback becomes training JSONL in the corpus format."""

from __future__ import annotations

import json

from tests.service.conftest import headers
from tests.service.test_api import PRAISE, ticket
from training.feedback import export_to_file


def test_feedback_exports_in_the_corpus_format(client, tmp_path):
    decision = client.post("/v1/suggest", json=ticket(), headers=headers()).json()
    client.post(
        "/v1/feedback",
        json={
            "ticket_id": "T-100500",
            "decision_id": decision["decision_id"],
            "template_id": "riders.promo_reissue",
            "agent_id": "a1",
        },
        headers=headers(),
    )
    client.post("/v1/feedback", json={"ticket_id": "T-100500", "csat": 4}, headers=headers())
    client.post("/v1/suggest", json=ticket(id="T-2", text=PRAISE, facts={}), headers=headers())
    client.post(
        "/v1/feedback",
        json={
            "ticket_id": "T-2",
            "topic": "riders/other/thanks",
            "edited": True,
            "template_id": "riders.thanks_reply",
        },
        headers=headers(),
    )
    client.post(
        "/v1/suggest", json=ticket(id="T-3"), headers=headers()
    )  # no feedback: not exported
    state = client.app.state.autoreply
    report = export_to_file(state.sessions, state.rulebooks.current, tmp_path / "feedback.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert report.written == 2 and len(lines) == 2
    first = next(x for x in lines if x["id"] == "T-100500")
    assert first["topic"] == first["label"] == "riders/ride_cost/promo_not_applied"
    assert (first["template"], first["agent_action"], first["csat"]) == (
        "riders.promo_reissue",
        "sent",
        4,
    )
    assert first["facts"]["coupon_use_value"] == 100 and first["locale"] == "en"
    second = next(x for x in lines if x["id"] == "T-2")
    assert (second["topic"], second["agent_action"], second["guard"]) == (
        "riders/other/thanks",
        "edited",
        "gratitude",
    )
    assert set(first) >= {
        "id",
        "line",
        "locale",
        "text",
        "dialogue",
        "topic",
        "label",
        "guard",
        "facts",
        "template",
        "agent_action",
        "csat",
        "family",
        "split",
    }


def test_data_export_command_writes_the_file(client, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli import app

    client.post("/v1/suggest", json=ticket(), headers=headers())
    client.post(
        "/v1/feedback",
        json={"ticket_id": "T-100500", "template_id": "riders.promo_reissue"},
        headers=headers(),
    )
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", client.app.state.autoreply.settings.database_url)
    out = tmp_path / "export.jsonl"
    result = CliRunner().invoke(app, ["data", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written"] == 1, result.stdout
    assert json.loads(out.read_text())["template"] == "riders.promo_reissue"
    bad = CliRunner().invoke(app, ["data", "export", "--out", str(out), "--since", "yesterday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.stderr
