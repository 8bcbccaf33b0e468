"""The edge of the app: database outages, unexpected errors, body limits and load shedding."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
from fastapi.testclient import TestClient

from rules.loader import load_rulebook
from service import pipeline
from service.main import create_app
from tests.service.conftest import KEYWORDS, headers, make_settings
from tests.service.fakes import KeywordClassifier, keyword_model
from tests.service.test_api import ticket

# Nothing listens on port 1: every connection is refused, as when PostgreSQL is down.
DOWN_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none"
DATABASE_ROUTES = [
    ("POST", "/v1/suggest", ticket()),
    ("POST", "/v1/autoreply", ticket()),
    ("POST", "/v1/feedback", {"ticket_id": "T-100500", "csat": 5}),
    ("GET", "/v1/decisions/abc", None),
]


def _client_without_database() -> TestClient:
    settings = make_settings(DOWN_DATABASE)
    classifier = KeywordClassifier(load_rulebook(settings.rulebook_dir).topics, KEYWORDS, {})
    return TestClient(
        create_app(settings, model_loader=lambda _dir, tree: keyword_model(tree, classifier))
    )


def test_a_database_outage_is_a_503_with_retry_after_on_every_route():
    with _client_without_database() as client:
        for method, path, body in DATABASE_ROUTES:
            answer = client.request(method, path, json=body, headers=headers())
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["Retry-After"] == "1"
            assert answer.json()["error"] == "database_unavailable"
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False


def test_an_unexpected_error_is_a_500_in_the_error_shape_logged_without_its_message(
    client, monkeypatch, caplog
):
    def broken(_state, body):
        raise ValueError(f"customer {body.customer_id} wrote: {body.text}")

    monkeypatch.setattr(pipeline, "suggest", broken)
    with caplog.at_level(logging.INFO):
        answer = client.post("/v1/suggest", json=ticket(), headers=headers())
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal_error",
        "message": "an unexpected error; it is logged",
        "details": None,
    }
    assert "ValueError" in caplog.text and "rider-42" not in caplog.text
    assert "without the discount" not in caplog.text


def test_a_body_over_the_limit_is_refused_with_413_declared_or_streamed(make_client):
    client = make_client(max_body_bytes=4096)
    big = ticket(text="x" * 5000)
    answer = client.post("/v1/suggest", json=big, headers=headers())
    assert answer.status_code == 413 and answer.json()["error"] == "body_too_large"

    def chunks():  # no Content-Length: the limit counts what arrives
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    streamed = client.post(
        "/v1/suggest", content=chunks(), headers={**headers(), "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert client.post("/v1/suggest", json=ticket(), headers=headers()).status_code == 200


@contextmanager
def one_request_held(client, monkeypatch) -> Iterator[threading.Event]:
    """Hold one suggest request inside the service until the `with` ends."""
    entered, release = threading.Event(), threading.Event()
    real_suggest = pipeline.suggest

    async def held(state, body):
        if body.id == "T-held":
            entered.set()
            await anyio.to_thread.run_sync(release.wait, 10)  # the event loop goes on serving
        return await real_suggest(state, body)

    monkeypatch.setattr(pipeline, "suggest", held)
    busy = threading.Thread(
        target=lambda: client.post("/v1/suggest", json=ticket(id="T-held"), headers=headers())
    )
    busy.start()
    try:
        assert entered.wait(10)
        yield release
    finally:
        release.set()
        busy.join(10)


def test_probes_are_never_shed_while_tickets_are(make_client, monkeypatch):
    client = make_client(max_inflight=1, max_queued=0, queue_wait_s=0)
    with one_request_held(client, monkeypatch):
        shed = client.post("/v1/suggest", json=ticket(id="T-2"), headers=headers())
        assert shed.status_code == 503 and shed.json()["error"] == "overloaded"
        assert shed.headers["Retry-After"] == "1"
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert client.get(probe).status_code == 200, probe
    deadline = time.monotonic() + 5
    while "autoreply_inflight_requests 0.0" not in client.get("/metrics").text:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_past_the_limit_a_request_waits_for_a_slot_before_it_is_shed(make_client, monkeypatch):
    client = make_client(max_inflight=1, max_queued=1, queue_wait_s=10)
    waited: list = []
    with one_request_held(client, monkeypatch) as release:
        queued = threading.Thread(
            target=lambda: waited.append(
                client.post("/v1/suggest", json=ticket(id="T-q"), headers=headers())
            )
        )
        queued.start()
        time.sleep(0.2)  # the queued request is waiting for the held one's slot
        release.set()
        queued.join(10)
    assert waited[0].status_code == 200
    for queued in (1, 0):  # a waiter whose wait runs out; a request past the queue
        late = make_client(max_inflight=1, max_queued=queued, queue_wait_s=0.3)
        with one_request_held(late, monkeypatch):
            started = time.monotonic()
            shed = late.post("/v1/suggest", json=ticket(id=f"T-{queued}"), headers=headers())
            # Refused only after the wait, so a client cannot spin on 503s.
            assert shed.status_code == 503 and 0.3 <= time.monotonic() - started < 5


def test_without_a_key_any_body_gets_401_before_422(client):
    for raw in (b"{not json", b'{"id": 1}'):
        answer = client.post(
            "/v1/autoreply", content=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized", raw
    with_key = client.post(
        "/v1/autoreply",
        content=b"{not json",
        headers={**headers(), "Content-Type": "application/json"},
    )
    assert with_key.status_code == 422
