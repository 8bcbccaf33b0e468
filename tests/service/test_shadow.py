"""A challenger scored in shadow beside the champion (keyword classifiers): what it would have
decided is recorded per ticket, never sent; the champion's answer is untouched; the queue is
bounded; the figures of `autoreply bundles compare` on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app as cli_app
from models.bundle import BundleError
from rules.loader import load_rulebook
from service.classifier import LoadedModel, ModelHolder
from service.db.tables import Reply, ShadowDecision
from service.metrics import Metrics
from service.settings import Settings
from service.shadow import ShadowQueue, challenger_dir, refresh_challenger
from tests.examples import PROMO, WORKED
from tests.service.conftest import KEYWORDS, headers
from tests.service.test_api import PRAISE, ticket

# Where the champion (KEYWORDS) is sure of the promo leaf, the rival is not; it reads a receipt
# question and an unsure "maybe" as the promo leaf, with confidence.
RIVAL = {**KEYWORDS, "promo": (PROMO, 0.6), "receipt": (PROMO, 0.95), "maybe": (PROMO, 0.95)}
CARD = {**WORKED, "payment_method": "card"}
TICKETS = {  # id -> (ticket, the champion's action, what the two decisions compare as)
    "T-promo": (ticket(id="T-promo"), "reply", "champion_only_replies"),
    "T-praise": (ticket(id="T-praise", text=PRAISE, facts={}), "handoff", "same_decision"),
    "T-receipt": (
        ticket(id="T-receipt", text="where is my receipt", facts=CARD),
        "reply",
        "template_disagreement",
    ),
    "T-maybe": (ticket(id="T-maybe", text="maybe I paid too much"), "handoff", "challenger_only_replies"),
}  # fmt: skip


def post_tickets(client) -> dict[str, dict]:
    """Post every ticket to /v1/autoreply (and the praise to /v1/suggest); wait for the shadow."""
    answers = {}
    for ticket_id, (body, action, _) in TICKETS.items():
        answers[ticket_id] = client.post("/v1/autoreply", json=body, headers=headers()).json()
        assert answers[ticket_id]["action"] == action, answers[ticket_id]
    suggested = client.post("/v1/suggest", json=TICKETS["T-praise"][0], headers=headers())
    assert suggested.status_code == 200
    assert client.app.state.autoreply.shadow.drain(10)
    return answers


def compare(url: str, monkeypatch, *args: str) -> dict:
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", url)
    result = CliRunner().invoke(cli_app, ["bundles", "compare", "--registry", "nowhere", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def check_shadow_and_compare(client, url: str, monkeypatch) -> None:
    answers = post_tickets(client)
    with client.app.state.autoreply.sessions() as session:
        rows = {r.ticket_id: r for r in session.scalars(select(ShadowDecision))}
        sent = [r.ticket_id for r in session.scalars(select(Reply))]
    assert sorted(sent) == ["T-promo", "T-receipt"]  # the champion's replies, and only those
    promo, maybe = rows["T-promo"], rows["T-maybe"]
    assert (promo.champion_version, promo.challenger_version) == ("fake-1", "fake-2")
    assert promo.decision_id == answers["T-promo"]["decision_id"] and promo.kind == "autoreply"
    assert (promo.action, promo.would_reply, promo.reasons) == (
        "handoff",
        False,
        ["low_confidence"],
    )
    assert (promo.template_prob, promo.threshold, promo.threshold_source) == (0.6, 0.8, "line")
    assert (maybe.action, maybe.template_id, maybe.reasons) == ("reply", "riders.promo_reissue", [])
    assert rows["T-praise"].kind == "suggest"  # the latest of its two scorings

    for body in ({"ticket_id": "T-promo", "template_id": "riders.promo_reissue"},
                 {"ticket_id": "T-maybe", "escalated": True}):  # fmt: skip
        assert client.post("/v1/feedback", json=body, headers=headers()).status_code in (200, 201)
    figures = compare(url, monkeypatch)
    assert figures["challenger"] == "fake-2" and figures["champions"] == {"fake-1": 4}
    assert (figures["scorings"], figures["tickets"]) == (5, 4)
    for _, _, outcome in TICKETS.values():
        assert figures[outcome] == 1, (outcome, figures)
    assert figures["replies"] == {"champion": 2, "challenger": 2}
    agents = figures["agents"]
    assert agents["tickets"] == 2
    assert agents["champion"] == {"tickets": 2, "agreed": 1, "agreement": 0.5, "replies": 1,
                                  "replies_agreed": 1, "reply_agreement": 1.0}  # fmt: skip
    assert agents["challenger"] == {"tickets": 2, "agreed": 1, "agreement": 0.5, "replies": 1,
                                    "replies_agreed": 0, "reply_agreement": 0.0}  # fmt: skip
    assert compare(url, monkeypatch, "--since", "2999-01-01")["tickets"] == 0


def test_the_challenger_is_recorded_beside_the_champion_and_compared(
    make_client, tmp_path, monkeypatch
):
    url = f"sqlite:///{tmp_path / 'autoreply.db'}"
    check_shadow_and_compare(make_client(url, rival=RIVAL), url, monkeypatch)


@pytest.mark.postgres
def test_the_same_on_postgres(make_client, postgres_url, monkeypatch):
    check_shadow_and_compare(make_client(postgres_url, rival=RIVAL), postgres_url, monkeypatch)


def test_the_champions_answers_are_byte_identical_with_and_without_a_challenger(
    make_client, tmp_path, monkeypatch
):
    def answers(client, prefix: str) -> list[bytes]:
        counter = itertools.count()
        monkeypatch.setattr("service.db.repository.new_id", lambda: f"{prefix}{next(counter):08d}")
        monkeypatch.setattr("service.db.repository.new_promo_code", lambda: "PROMO2345ABCD")
        bodies = [client.post(f"/v1/{route}", json=body, headers=headers()).content
                  for body, _, _ in TICKETS.values() for route in ("autoreply", "suggest")]  # fmt: skip
        assert client.app.state.autoreply.shadow.drain(10)
        return bodies

    alone = make_client(f"sqlite:///{tmp_path / 'alone.db'}")
    shadowed = make_client(f"sqlite:///{tmp_path / 'shadowed.db'}", rival=RIVAL)
    assert shadowed.get("/readyz").json()["checks"]["challenger"]["version"] == "fake-2"
    assert alone.get("/readyz").json()["checks"]["challenger"]["version"] is None
    assert answers(alone, "d") == answers(shadowed, "d")
    with shadowed.app.state.autoreply.sessions() as session:
        assert len(session.scalars(select(ShadowDecision)).all()) == 2 * len(TICKETS)


def test_closing_drops_what_is_still_queued_and_the_queue_serves_on():
    metrics = Metrics()
    queue = ShadowQueue(metrics, limit=3)
    release, ran = threading.Event(), []
    assert queue.submit(lambda: release.wait(5))
    assert queue.submit(lambda: ran.append(1)) and queue.submit(lambda: ran.append(2))
    queue.close(0.05)  # the running one finishes; the two queued behind it are dropped
    release.set()
    assert queue.drain(5) and ran == []
    assert queue.submit(lambda: ran.append(3)) and queue.drain(5) and ran == [3]
    skipped = {"outcome": "skipped"}
    assert metrics.registry.get_sample_value("autoreply_shadow_scorings_total", skipped) == 2


def test_a_full_queue_skips_and_a_failure_is_counted_never_raised():
    metrics = Metrics()
    queue = ShadowQueue(metrics, limit=1)
    release = threading.Event()
    assert queue.submit(lambda: release.wait(5)) is True
    assert queue.submit(lambda: None) is False  # one pending: the limit
    release.set()
    assert queue.drain(5)
    assert queue.submit(lambda: 1 / 0) is True and queue.drain(5)

    def count(outcome: str) -> float | None:
        return metrics.registry.get_sample_value(
            "autoreply_shadow_scorings_total", {"outcome": outcome}
        )

    assert (count("scored"), count("skipped"), count("failed")) == (1.0, 1.0, 1.0)
    assert metrics.registry.get_sample_value("autoreply_shadow_pending") == 0


class BrokenClassifier:
    version = "broken"
    lines = ("riders", "drivers")

    def predict(self, texts, line, k=5, dialogues=None):
        raise RuntimeError("the challenger's inference broke")

    plan = predict


def test_a_failing_challenger_leaves_the_champion_answering(make_client):
    client = make_client(rival=RIVAL)
    state = client.app.state.autoreply
    champion = state.models.current
    state.challenger.install(
        LoadedModel(BrokenClassifier(), "fake", champion.policy, lambda _: None)
    )
    answer = client.post("/v1/autoreply", json=ticket(id="T-1"), headers=headers())
    assert answer.status_code == 200 and answer.json()["action"] == "reply"
    assert state.shadow.drain(5)
    assert 'autoreply_shadow_scorings_total{outcome="failed"} 1.0' in client.get("/metrics").text


def test_the_challenger_is_named_by_path_or_found_beside_the_champion(tmp_path):
    beside = Settings(bundle_dir=tmp_path / "reg" / "current")
    assert challenger_dir(beside) == tmp_path / "reg" / "shadow"  # the default: the pointer
    named = Settings(bundle_dir=tmp_path / "reg" / "current", challenger="v2")
    assert challenger_dir(named) == tmp_path / "reg" / "v2"
    assert challenger_dir(Settings(challenger=str(tmp_path / "b"))) == tmp_path / "b"
    assert challenger_dir(Settings(challenger="off")) is None


def test_a_missing_challenger_is_none_and_a_refused_one_is_reported(make_client, tmp_path):
    missing = tmp_path / "missing" / "bundle"
    client = make_client(challenger=str(missing))
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["challenger"] == {
        "ok": True, "path": str(missing), "version": None, "pending": 0, "error": None,
    }  # fmt: skip

    def refuse(directory, _topics):
        raise BundleError(f"{directory}: no weights")

    holder = ModelHolder(refuse, tmp_path)
    topics = load_rulebook().topics
    assert refresh_challenger(holder, Settings(challenger=str(tmp_path)), topics) is None
    assert holder.current is None and "BundleError" in (holder.error or "")
