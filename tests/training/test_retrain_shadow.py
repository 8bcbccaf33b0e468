"""`autoreply retrain --shadow`: a challenger that passes the gate goes to `shadow`, beside the
champion, with the gate's verdict in its history; `current` stays where it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.registry import Registry
from rules.loader import load_rulebook
from service.db.history import list_events
from service.db.migrate import upgrade
from service.db.repository import utcnow
from service.db.session import make_engine, make_session_factory
from tests.models.helpers import bundle_variant, tiny_bundle
from training.gate import Verdict, load_gate
from training.promotion import promote, register
from training.retrain import RetrainJob, _settle

pytestmark = pytest.mark.slow


def test_a_challenger_that_passes_the_gate_goes_to_shadow_not_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    registry = Registry(tmp_path / "reg")
    base = tiny_bundle(tmp_path / "tiny")
    champion = register(sessions, registry, base, actor="test", reason="first")
    promote(sessions, registry, champion, actor="test", reason="first")
    challenger = registry.add(bundle_variant(base, tmp_path / "v2", 0.5))
    job = RetrainJob(
        config=Path("training/configs/retrain_quick.json"), registry=registry,
        gate=load_gate(Path("training/configs/gate.json")), rulebook=load_rulebook(),
        rulebook_dir=Path("rules/book"), shadow=True,
    )  # fmt: skip
    _settle(
        job, sessions, challenger, Verdict(True, ["better coverage"], ["coverage"]), {}, utcnow()
    )
    assert (registry.current(), registry.shadow()) == (champion, challenger)
    with sessions() as session:
        events = [(e.event, e.reason, e.gate) for e in list_events(session, version=challenger)]
    assert [e[0] for e in events] == ["registered", "shadowed"]
    assert events[1][1] == "gate passed: better coverage" and events[1][2]["promote"] is True
