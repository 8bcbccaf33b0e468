"""`autoreply bundles add/list/promote/rollback`: the registry and its history in the database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from tests.models.helpers import bundle_variant, tiny_bundle

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    base = tiny_bundle(tmp_path_factory.mktemp("tiny"))
    variants = tmp_path_factory.mktemp("variants")
    return [bundle_variant(base, variants / f"v{i}", t) for i, t in enumerate((0.5, 0.9))]


def bundles_cli(registry, *args: str) -> dict:
    result = runner.invoke(app, ["bundles", *args, "--registry", str(registry)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_promote_twice_then_rollback_restores_the_first(bundles, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    registry = tmp_path / "reg"
    v1, v2 = (bundles_cli(registry, "add", str(b))["version"] for b in bundles)
    bundles_cli(registry, "promote", v1, "--reason", "first model")
    bundles_cli(registry, "promote", v2, "--actor", "alice")
    assert bundles_cli(registry, "rollback", "--reason", "complaints") == {
        "from": v2,
        "current": v1,
    }
    listed = bundles_cli(registry, "list")
    assert listed["current"] == v1
    events = {
        v["version"]: [(e["event"], e["actor"]) for e in v["history"]] for v in listed["versions"]
    }
    assert events == {
        v1: [("registered", "cli"), ("promoted", "cli"), ("rolled_back", "cli")],
        v2: [("registered", "cli"), ("promoted", "alice")],
    }
    rolled = listed["versions"][[v["version"] for v in listed["versions"]].index(v1)]["history"][-1]
    assert rolled["reason"] == f"rolled back from {v2}: complaints"
    assert rolled["data_sha256"] and "overall" in rolled["metrics"]


def test_rollback_without_a_previous_champion_exits_2_and_says_so(bundles, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    registry = tmp_path / "reg"
    v1 = bundles_cli(registry, "add", str(bundles[0]))["version"]
    bundles_cli(registry, "promote", v1)
    result = runner.invoke(app, ["bundles", "rollback", "--registry", str(registry)])
    assert result.exit_code == 2 and "nothing to roll back to" in result.output
    missing = runner.invoke(app, ["bundles", "promote", "nope", "--registry", str(registry)])
    assert missing.exit_code == 2 and "no bundle 'nope'" in missing.output


def test_shadow_points_at_a_challenger_records_it_and_off_takes_it_away(
    bundles, tmp_path, monkeypatch
):
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    registry = tmp_path / "reg"
    v1, v2 = (bundles_cli(registry, "add", str(b))["version"] for b in bundles)
    bundles_cli(registry, "promote", v1)
    assert bundles_cli(registry, "shadow", v2, "--reason", "try it") == {"shadow": v2}
    assert (registry / "shadow").resolve() == (registry / v2).resolve()
    listed = bundles_cli(registry, "list")
    assert (listed["current"], listed["shadow"]) == (v1, v2)
    shadowed = next(v for v in listed["versions"] if v["version"] == v2)
    assert shadowed["shadow"] and shadowed["history"][-1]["event"] == "shadowed"
    assert bundles_cli(registry, "shadow", "--off") == {"shadow": None, "ended": v2}
    assert not (registry / "shadow").exists() and bundles_cli(registry, "list")["shadow"] is None
    assert bundles_cli(registry, "shadow", "--off") == {"shadow": None, "ended": None}
    for args, said in ((["shadow"], "give a VERSION, or --off"),
                       (["shadow", v1, "--off"], "give a VERSION, or --off"),
                       (["shadow", "nope"], "no bundle 'nope'"),
                       (["shadow", "current"], "'current' is not a bundle version")):  # fmt: skip
        result = runner.invoke(app, ["bundles", *args, "--registry", str(registry)])
        assert result.exit_code == 2 and said in result.output, result.output
