"""A quick bundle end to end: frozen MiniLM, heads only, the full bundle with its report."""

import json

import pytest

from models.abstention import ALL_LINES
from models.bundle import check_against_topics, load_bundle
from rules.loader import load_rulebook
from tests.models.helpers import quick_bundle as build_quick_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return load_bundle(build_quick_bundle(tmp_path_factory.mktemp("quick")))


def test_quick_bundle_is_complete_and_matches_the_rulebook(bundle):
    check_against_topics(bundle, load_rulebook().topics)
    assert bundle.training["mode"] == "quick" and bundle.spec.task_layers == 0
    assert bundle.code_version and bundle.created_at.startswith("20")
    assert len(bundle.data_fingerprint["sha256"]) == 64
    assert bundle.data_fingerprint["labels"].startswith("rulebook rb-")
    for name in ("report.md", "reliability.png", "coverage_precision.png", "confusion_riders.png"):
        assert (bundle.path / "report" / name).is_file(), name
    report = (bundle.path / "report" / "report.md").read_text()
    assert "## Lexical head" in report and "| riders | cyrillic |" in report
    decisions = (bundle.path / "report" / "decisions.md").read_text()
    assert "Where the answerable tickets went" in decisions
    went = json.loads((bundle.path / "report" / "decisions.json").read_text())
    answerable = went["overall"]["answerable"]
    assert sum(sum(s.values()) for s in went["answerable_outcomes"].values()) == answerable


def test_metrics_cover_lines_languages_guard_baseline_and_tokens(bundle):
    metrics = json.loads((bundle.path / "metrics.json").read_text())
    riders = metrics["lines"]["riders"]["test"]
    assert set(riders) == {"all", "en", "ru"}
    for figure in (
        "leaf_accuracy",
        "macro_f1",
        "hierarchical_f1",
        "top3_accuracy",
        "ece",
        "ece_before",
    ):
        assert 0.0 <= riders["ru"][figure] <= 1.0, figure
    assert set(riders["en"]["level_accuracy"]) == {"1", "2"}
    assert metrics["guard"]["trained"] and metrics["guard"]["test"]["all"]["n"] > 0
    assert set(metrics["baseline"]["riders"]) == {"all", "en", "ru"}
    assert metrics["tokens"]["ru"]["tokens_per_word"] > metrics["tokens"]["en"]["tokens_per_word"]
    assert metrics["overall"]["all"]["leaf_accuracy"] > 0.5  # the synthetic titles are learnable


def test_every_topic_node_has_a_threshold_entry_with_its_evidence(bundle):
    leaves = {leaf for line in bundle.lines for leaf in bundle.leaf_paths(line)}
    nodes = {"/".join(leaf.split("/")[:depth]) for leaf in leaves for depth in (1, 2)}
    assert set(bundle.thresholds) == leaves | nodes | {ALL_LINES}
    for entry in bundle.threshold_evidence.values():
        assert entry["support"] >= 0 and "accepted" in entry
    # the last back-off pools every line's evidence
    pooled = bundle.threshold_evidence[ALL_LINES]["support"]
    assert pooled == sum(bundle.threshold_evidence[line]["support"] for line in bundle.lines)
    # 6 validation tickets per leaf can never show a 3% error rate (77 are needed with none
    # wrong), and this corpus has no agent templates to judge a reply against.
    assert all(bundle.thresholds[leaf] is None for leaf in leaves)
