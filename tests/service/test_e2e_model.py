"""End to end through HTTP with the real model: MiniLM, ONNX Runtime int8, real abstention, rules,
the database (SQLite, then PostgreSQL + Redis) and promo codes. No fake anywhere.

The bundle is the quick one of tests/conftest.py (frozen encoder, heads only, trained once per
session on a small generated corpus; the fault tests in tests/faults serve it too).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app
from rules.loader import load_rulebook
from service.db.migrate import upgrade
from service.db.repository import PROMO_LENGTH, count_rows
from service.main import create_app
from tests.service.conftest import headers, make_settings
from tests.service.test_api import PRAISE, ticket
from training.args import DataArguments
from training.data import read_examples
from training.decisions import replay_bundle

SARCASM = "Great service, the driver took the money without the discount, thanks a lot"

pytestmark = pytest.mark.slow


def real_client(database_url: str, bundle: Path, **overrides) -> TestClient:
    upgrade(database_url)
    return TestClient(create_app(make_settings(database_url, bundle_dir=bundle, **overrides)))


def check_worked_example_praise_retry_and_bad_input(client: TestClient) -> None:
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["checks"]["model"]["backend"] == "onnx-int8"

    first = client.post("/v1/autoreply", json=ticket(), headers=headers())
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["topic"]["path"] == "riders/ride_cost/promo_not_applied", body
    assert body["action"] == "reply", body["reasons"]
    assert body["reply"]["template_id"] == "riders.promo_reissue"
    code = body["reply"]["promo_code"]
    assert (
        len(code) == PROMO_LENGTH
        and code in body["reply"]["text"]
        and "100 RUB" in body["reply"]["text"]
    )

    assert client.post("/v1/autoreply", json=ticket(), headers=headers()).json() == body

    praise = client.post(
        "/v1/autoreply", json=ticket(id="T-praise", text=PRAISE, facts={}), headers=headers()
    ).json()
    assert praise["action"] == "handoff" and praise["reply"] is None
    assert "guard_gratitude" in praise["reasons"], praise["reasons"]

    # A complaint dressed as praise, with facts under which the promo template would be sent.
    sarcasm = client.post(
        "/v1/autoreply", json=ticket(id="T-sarcasm", text=SARCASM), headers=headers()
    ).json()
    assert sarcasm["action"] == "handoff" and sarcasm["reply"] is None
    assert any(r.startswith("guard_") for r in sarcasm["reasons"]), sarcasm["reasons"]

    bad = client.post(
        "/v1/autoreply", json=ticket(id="T-bad", facts={"coupon_usd": True}), headers=headers()
    )
    assert bad.status_code == 422 and "did you mean 'coupon_used'" in bad.text

    with client.app.state.autoreply.sessions() as session:
        counts = count_rows(session)
    assert (counts["tickets"], counts["decisions"], counts["replies"], counts["promo_codes"]) == (
        3,
        3,
        1,
        1,
    )


def test_worked_example_through_http_on_sqlite(bundle, tmp_path):
    with real_client(f"sqlite:///{tmp_path / 'e2e.db'}", bundle) as client:
        check_worked_example_praise_retry_and_bad_input(client)
        suggested = client.post(
            "/v1/suggest", json=ticket(id="T-s"), headers=headers("agent")
        ).json()
        assert suggested["suggestions"][0]["template_id"] == "riders.promo_reissue"
        assert suggested["suggestions"][0]["topic"]["levels"][0]["path"] == "riders/ride_cost"


@pytest.mark.postgres
@pytest.mark.redis
def test_worked_example_through_http_on_postgres_and_redis(bundle, postgres_url, redis_url):
    with real_client(postgres_url, bundle, redis_url=redis_url) as client:
        check_worked_example_praise_retry_and_bad_input(client)
        assert client.get("/readyz").json()["checks"]["redis"]["up"] is True


def test_evaluate_replays_exactly_the_decisions_the_service_makes(bundle, tmp_path):
    corpus = bundle.parent / "corpus" / "test.jsonl"
    result = CliRunner().invoke(
        app, ["evaluate", str(corpus), "--bundle", str(bundle), "--out", str(tmp_path / "ev")]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    overall = report["overall"]
    assert overall["tickets"] > 500 and overall["replies"] > 0
    assert 0 < overall["coverage"] <= 1 and overall["agreement"] > 0.8
    assert set(report["guard_recall"]) == {
        "gratitude",
        "multi_problem",
        "off_topic",
        "sarcasm",
        "unclear",
    }
    went = report["answerable_outcomes"]  # every answerable ticket, where it went
    assert sum(sum(sides.values()) for sides in went.values()) == overall["answerable"]
    replied = went.get("replied", {"right": 0, "wrong": 0})
    assert replied["wrong"] == overall["wrong"]
    assert replied["right"] + replied["wrong"] == round(overall["coverage"] * overall["answerable"])
    assert (tmp_path / "ev" / "decisions.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "ev" / "decisions.json").read_text())["curve"]

    examples = read_examples(corpus, DataArguments(), "corpus")[:60]
    _, outcomes = replay_bundle(bundle, examples, load_rulebook(), "onnx-int8")
    with real_client(f"sqlite:///{tmp_path / 'ev.db'}", bundle) as client:
        for example, outcome in zip(examples, outcomes, strict=True):
            body = client.post(
                "/v1/autoreply",
                json=ticket(id=outcome.id, text=example.text, line=example.line,
                            locale=example.locale, dialogue=list(example.dialogue or ()),
                            facts=example.facts),
                headers=headers(),
            ).json()  # fmt: skip
            assert (body["action"], tuple(body["reasons"])) == (outcome.action, outcome.reasons)
            sent = body["reply"]["template_id"] if body["reply"] else None
            assert sent == (outcome.sent if outcome.action == "reply" else None)
