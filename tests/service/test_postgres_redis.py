"""The same flows on PostgreSQL and a real Redis, and the service carrying on when Redis is down."""

from __future__ import annotations

import threading

import pytest

from tests.service.conftest import headers
from tests.service.test_api import PRAISE, ticket

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_worked_example_retry_and_praise_on_postgres_and_redis(
    make_client, postgres_url, redis_url
):
    client = make_client(postgres_url, redis_url=redis_url)
    ready = client.get("/readyz").json()
    assert ready["checks"]["redis"]["up"] is True and ready["checks"]["database"]["ok"] is True
    first = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert first["action"] == "reply" and first["reply"]["template_id"] == "riders.promo_reissue"
    assert client.post("/v1/autoreply", json=ticket(), headers=headers()).json() == first
    praise = client.post(
        "/v1/autoreply", json=ticket(id="T-p", text=PRAISE, facts={}), headers=headers()
    ).json()
    assert praise["action"] == "handoff"
    state = client.app.state.autoreply
    with state.sessions() as session:
        from service.db.repository import count_rows

        counts = count_rows(session)
    assert counts["promo_codes"] == 1 and counts["replies"] == 1 and counts["decisions"] == 2


def test_concurrent_autoreplies_on_postgres_issue_one_code(make_client, postgres_url, redis_url):
    client = make_client(postgres_url, redis_url=redis_url)
    answers = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                client.post("/v1/autoreply", json=ticket(id="T-pg-race"), headers=headers()).json()
            )
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a["decision_id"] for a in answers}) == 1 and len(answers) == 8


def test_prediction_cache_is_shared_through_redis(make_client, postgres_url, redis_url):
    one = make_client(postgres_url, redis_url=redis_url)
    two = make_client(postgres_url, redis_url=redis_url)
    one.post("/v1/suggest", json=ticket(id="a"), headers=headers())
    two.post("/v1/suggest", json=ticket(id="b"), headers=headers())
    assert one.classifier.calls + two.classifier.calls == 1


def test_bad_input_records_nothing_on_postgres(make_client, postgres_url):
    client = make_client(postgres_url)
    answer = client.post(
        "/v1/autoreply", json=ticket(facts={"coupon_usd": True}), headers=headers()
    )
    assert answer.status_code == 422
    with client.app.state.autoreply.sessions() as session:
        from service.db.repository import count_rows

        assert set(count_rows(session).values()) == {0}


def test_redis_down_keeps_answering_and_says_so(make_client):
    client = make_client(redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    body = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert body["action"] == "reply"
    assert client.post("/v1/autoreply", json=ticket(), headers=headers()).json() == body
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["redis"]["degraded"] is True
    assert "autoreply_redis_up 0.0" in client.get("/metrics").text
