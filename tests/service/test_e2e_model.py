"""End to end through HTTP with the real model: MiniLM, ONNX Runtime int8, real abstention, rules,
the database (SQLite, then PostgreSQL + Redis) and promo codes. No fake anywhere.

The bundle is the quick one of tests/conftest.py (frozen encoder, heads only, trained once per
session on a small generated corpus; the fault tests in tests/faults serve it too).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.db.migrate import upgrade
from service.db.repository import PROMO_LENGTH, count_rows
from service.main import create_app
from tests.service.conftest import headers, make_settings
from tests.service.test_api import PRAISE, ticket

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

    bad = client.post(
        "/v1/autoreply", json=ticket(id="T-bad", facts={"coupon_usd": True}), headers=headers()
    )
    assert bad.status_code == 422 and "did you mean 'coupon_used'" in bad.text

    with client.app.state.autoreply.sessions() as session:
        counts = count_rows(session)
    assert (counts["tickets"], counts["decisions"], counts["replies"], counts["promo_codes"]) == (
        2,
        2,
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
