"""The retraining loop end to end on PostgreSQL: the service serves v1, agents teach it a new
phrasing, `autoreply retrain` trains v2, the gate promotes it, the service swaps it in under
traffic without a failed request, and `autoreply bundles rollback` restores v1. A worse
challenger is rejected with its reasons."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cli import app as cli_app
from models.registry import Registry
from rules.loader import load_rulebook
from service.db.migrate import upgrade
from service.db.session import make_engine, make_session_factory
from service.main import create_app
from tests.models.helpers import tiny_encoder, write_corpus
from tests.service.conftest import headers, make_settings
from training.promotion import promote, register
from training.quick import train_quick_bundle

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
runner = CliRunner()
QUICK = ["quick_epochs=60", "max_length=64", "report=false"]
# Code words no model could map to a topic before agents taught it (the rules answer each leaf
# without facts). Real phrasings would already be understood by MiniLM: nothing to learn.
TAUGHT = {
    "riders/payment/receipt": "code banana {n}",
    "riders/app_account/delete_account": "code walrus {n}",
    "riders/driver/smoking": "code tulip {n}",
}


@pytest.fixture(scope="module")
def v1(tmp_path_factory) -> tuple[Path, Path]:
    """Return (base corpus, v1 bundle): a quick MiniLM bundle on a tiny corpus."""
    base = tmp_path_factory.mktemp("v1")
    corpus = write_corpus(base / "corpus", per_leaf=6)
    bundle = train_quick_bundle(
        corpus, base / "bundle", quick_epochs=60, max_length=64, report=False, baseline=False
    )
    return corpus, bundle


def champion_registry(url: str, root: Path, bundle: Path) -> tuple[Registry, str]:
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    registry = Registry(root)
    version = register(sessions, registry, bundle, actor="test", reason="first model")
    promote(sessions, registry, version, actor="test", reason="first model")
    return registry, version


def teach(client: TestClient, per_leaf: int = 16) -> None:
    """Post tickets in the new phrasing, then the agent's template for each as feedback."""
    book = load_rulebook()
    for n in range(per_leaf):
        for leaf, phrase in TAUGHT.items():
            ticket_id = f"T-{leaf.rsplit('/', 1)[1]}-{n}"
            ticket = {"id": ticket_id, "line": "riders", "locale": "en", "customer_id": "c",
                      "text": phrase.format(n=n), "facts": {}}  # fmt: skip
            assert client.post("/v1/suggest", json=ticket, headers=headers()).status_code == 200
            template = book.evaluate(leaf, book.facts.validate({})).template
            feedback = {"ticket_id": ticket_id, "topic": leaf, "template_id": template}
            answer = client.post("/v1/feedback", json=feedback, headers=headers())
            assert answer.status_code in (200, 201), answer.text


def retrain(registry: Registry, corpus: Path, gate: Path, *extra: str) -> dict:
    args = ["retrain", "--config", "training/configs/retrain_quick.json", "--registry",
            str(registry.root), "--gate", str(gate), "--holdout", "0.25",
            "--set", f"data_dir={corpus}", *[x for s in QUICK for x in ("--set", s)], *extra]  # fmt: skip
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_feedback_trains_v2_the_gate_promotes_it_the_service_swaps_and_rollback_restores(
    v1, postgres_url, tmp_path, monkeypatch
):
    corpus, bundle = v1
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", postgres_url)
    registry, first = champion_registry(postgres_url, tmp_path / "bundles", bundle)
    settings = make_settings(postgres_url, bundle_dir=registry.pointer, reload_roots=[tmp_path])
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["model"]["version"] == first
        teach(client)
        gate = tmp_path / "gate.json"
        gate.write_text(json.dumps({"no_worse": {"unsafe_rate": 0.1}, "groups": [],
                                    "better_on": ["accuracy", "coverage"]}))  # fmt: skip
        outcome = retrain(registry, corpus, gate)
        assert outcome["decision"] == "promoted", (
            outcome["reasons"],
            outcome["figures"]["challenger"],
            outcome["figures"]["champion"],
        )
        second = outcome["challenger"]
        assert registry.current() == second and outcome["data"]["holdout"] == 12
        holdout = outcome["figures"]
        assert (
            holdout["challenger"]["holdout"]["accuracy"]
            > holdout["champion"]["holdout"]["accuracy"]
        )
        assert swap_under_traffic(client) == second
        rolled = runner.invoke(cli_app, ["bundles", "rollback", "--registry", str(registry.root)])
        assert rolled.exit_code == 0, rolled.output
        assert swap_under_traffic(client) == first


def swap_under_traffic(client: TestClient) -> str:
    """Reload while another thread keeps asking; every answer must be a 200. Return the version."""
    statuses: list[int] = []
    stop = threading.Event()

    def ask() -> None:
        ticket = {"id": "T-traffic", "line": "riders", "locale": "en", "customer_id": "c",
                  "text": "where is my receipt", "facts": {}}  # fmt: skip
        while not stop.is_set():
            statuses.append(client.post("/v1/suggest", json=ticket, headers=headers()).status_code)

    worker = threading.Thread(target=ask)
    worker.start()
    answer = client.post(
        "/v1/admin/reload", json={"rules": False, "model": True}, headers=headers()
    )
    stop.set()
    worker.join()
    assert answer.status_code == 200, answer.text
    assert statuses and set(statuses) == {200}
    return answer.json()["model_version"]


def test_a_worse_challenger_is_rejected_with_its_reasons(v1, postgres_url, tmp_path, monkeypatch):
    corpus, bundle = v1
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", postgres_url)
    registry, first = champion_registry(postgres_url, tmp_path / "bundles", bundle)
    worse = f"encoder_dir={tiny_encoder(tmp_path / 'tiny')}"
    outcome = retrain(registry, corpus, Path("training/configs/gate.json"), "--force",
                      "--set", worse, "--set", "quick_epochs=1")  # fmt: skip
    assert outcome["decision"] == "rejected" and registry.current() == first
    assert any("worse than the champion" in r or "not better" in r for r in outcome["reasons"])
    listed = runner.invoke(cli_app, ["bundles", "list", "--registry", str(registry.root)])
    history = {v["version"]: v["history"] for v in json.loads(listed.stdout)["versions"]}
    rejected = history[outcome["challenger"]][-1]
    assert rejected["event"] == "rejected" and rejected["gate"]["reasons"] == outcome["reasons"]
