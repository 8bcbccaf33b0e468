"""A challenger in shadow through the real path: the session's quick bundle (tests/conftest.py) is
the champion, a copy of it with every leaf threshold at 0 the challenger; both registered,
promoted and shadowed with the CLI, served by ONNX Runtime, tickets of the generated corpus
posted through HTTP, agents' feedback, then `autoreply bundles compare`. The champion answers
byte for byte as it does with no challenger loaded."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app as cli_app
from service.db.migrate import upgrade
from service.db.tables import Decision, Reply, ShadowDecision
from service.main import create_app
from tests.models.helpers import bundle_variant
from tests.service.conftest import headers, make_settings
from tests.service.test_api import ticket
from training.args import DataArguments
from training.data import Example, read_examples

pytestmark = pytest.mark.slow
TICKETS = 40


@pytest.fixture(scope="module")
def rival(bundle, tmp_path_factory) -> Path:
    """The quick bundle with every leaf threshold at 0: another version, replying more often."""
    return bundle_variant(bundle, tmp_path_factory.mktemp("rival") / "bundle", 0.0)


def cli(*args: str) -> dict:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def examples(bundle: Path) -> list[Example]:
    corpus = bundle.parent / "corpus" / "test.jsonl"
    return read_examples(corpus, DataArguments(), "corpus")[:TICKETS]


def post(client: TestClient, cases: list[Example], monkeypatch) -> list[bytes]:
    """Post each case to autoreply and suggest, with the same ids and promo codes on every app."""
    counter = itertools.count()
    monkeypatch.setattr("service.db.repository.new_id", lambda: f"d{next(counter):031d}")
    monkeypatch.setattr("service.db.repository.new_promo_code", lambda: "PROMO2345ABCD")
    bodies = []
    for n, case in enumerate(cases):
        body = ticket(id=f"T-{n}", text=case.text, line=case.line, locale=case.locale,
                      dialogue=list(case.dialogue or ()), facts=case.facts or {})  # fmt: skip
        for route in ("autoreply", "suggest"):
            answer = client.post(f"/v1/{route}", json=body, headers=headers())
            assert answer.status_code == 200, answer.text
            bodies.append(answer.content)
    return bodies


def test_a_real_challenger_in_shadow_is_recorded_compared_and_changes_no_answer(
    bundle, rival, tmp_path, monkeypatch
):
    registry = str(tmp_path / "bundles")
    url = f"sqlite:///{tmp_path / 'shadow.db'}"
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", url)
    champion = cli("bundles", "add", str(bundle), "--registry", registry)["version"]
    challenger = cli("bundles", "add", str(rival), "--registry", registry)["version"]
    cli("bundles", "promote", champion, "--registry", registry)
    cli("bundles", "shadow", challenger, "--registry", registry)
    cases = examples(bundle)

    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    upgrade(alone_url)
    alone = make_settings(alone_url, bundle_dir=Path(registry) / "current")
    with TestClient(create_app(alone)) as client:
        assert client.get("/readyz").json()["checks"]["challenger"]["version"] is None
        unshadowed = post(client, cases, monkeypatch)

    shadowed = make_settings(url, bundle_dir=Path(registry) / "current", challenger="shadow")
    with TestClient(create_app(shadowed)) as client:
        checks = client.get("/readyz").json()["checks"]
        assert (checks["model"]["version"], checks["challenger"]["version"]) == (
            champion,
            challenger,
        )
        assert post(client, cases, monkeypatch) == unshadowed
        assert client.app.state.autoreply.shadow.drain(60)
        agents = 0
        for n, case in enumerate(cases):
            if case.template is not None:
                feedback = {"ticket_id": f"T-{n}", "template_id": case.template}
                assert client.post("/v1/feedback", json=feedback, headers=headers()).status_code in (200, 201)  # fmt: skip
                agents += 1
        check_rows_against_the_decisions(client, champion, challenger)

    figures = cli("bundles", "compare", "--registry", registry)
    assert figures["challenger"] == challenger and figures["champions"] == {champion: TICKETS}
    assert (figures["scorings"], figures["tickets"]) == (2 * TICKETS, TICKETS)
    outcomes = ("same_decision", "champion_only_replies", "challenger_only_replies",
                "template_disagreement")  # fmt: skip
    assert sum(figures[o] for o in outcomes) == TICKETS
    # The same network with thresholds at 0 replies wherever the champion does, with the same
    # template, and more often.
    assert figures["champion_only_replies"] == figures["template_disagreement"] == 0
    assert figures["challenger_only_replies"] > 0
    assert figures["replies"]["challenger"] > figures["replies"]["champion"]
    assert figures["agents"]["tickets"] == agents > 0
    assert 0 < figures["agents"]["champion"]["agreement"] <= 1


def check_rows_against_the_decisions(client, champion: str, challenger: str) -> None:
    """Each shadow row sits beside its decision and repeats its verdict; nothing else was sent."""
    with client.app.state.autoreply.sessions() as session:
        decisions = {d.id: d for d in session.scalars(select(Decision))}
        rows = session.scalars(select(ShadowDecision)).all()
        sent = {r.decision_id for r in session.scalars(select(Reply))}
    assert len(rows) == len(decisions) == 2 * TICKETS
    for row in rows:
        decision = decisions[row.decision_id]
        assert (row.ticket_id, row.kind) == (decision.ticket_id, decision.kind)
        assert (row.champion_version, row.challenger_version) == (champion, challenger)
        assert row.champion_template == decision.template_id
        assert row.champion_reply == decision.trace["would_reply"]
        assert row.threshold in (0.0, None)  # the challenger's own thresholds
    assert sent == {d.id for d in decisions.values() if d.action == "reply"}
