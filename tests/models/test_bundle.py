"""Bundle validation: what is missing or wrong is named; a tree that differs is refused."""

import json

import pytest

from models.bundle import (
    MANIFEST,
    BundleError,
    BundleMismatchError,
    check_against_topics,
    load_bundle,
    write_manifest,
)
from models.spec import ModelSpec
from rules.loader import load_rulebook


def make_bundle(root, topics=None):
    """Write a structurally complete bundle with placeholder weights (load never reads them)."""
    topics = topics or load_rulebook().topics.snapshot()
    lines = {line: [leaf["path"] for leaf in leaves] for line, leaves in topics.items()}
    (root / "onnx").mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "metrics.json"):
        (root / name).write_text("{}")
    for name in ("model.safetensors", "onnx/model.fp32.onnx", "onnx/model.int8.onnx"):
        (root / name).write_bytes(b"weights")
    (root / "topics.json").write_text(json.dumps(topics))
    heads = {**{line: 1.5 for line in lines}, "guard": 1.1}
    (root / "calibration.json").write_text(json.dumps({"temperature": heads}))
    entries = {
        leaf: {"threshold": 0.8, "support": 30} for leaves in lines.values() for leaf in leaves
    }
    (root / "thresholds.json").write_text(json.dumps({"topics": entries}))
    write_manifest(
        root,
        {
            "created_at": "2026-11-22T10:00:00+00:00",
            "code_version": "abc",
            "data_fingerprint": {"sha256": "f"},
            "spec": ModelSpec(lines={k: tuple(v) for k, v in lines.items()}).to_json(),
            "policy": {"min_margin": 0.2},
        },
    )
    return root


def test_a_complete_bundle_loads_and_exposes_its_parts(tmp_path):
    bundle = load_bundle(make_bundle(tmp_path / "b"))
    assert bundle.version.startswith("topics-20261122-")
    assert set(bundle.lines) == {"riders", "drivers"}
    assert bundle.thresholds["riders/ride_cost/promo_not_applied"] == 0.8
    assert bundle.temperature["guard"] == 1.1
    assert bundle.actionable["riders/other/thanks"] is False
    assert bundle.policy == {"min_margin": 0.2}
    check_against_topics(bundle, load_rulebook().topics)


def test_missing_files_are_all_named(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "thresholds.json").unlink()
    (root / "onnx" / "model.int8.onnx").unlink()
    with pytest.raises(BundleError) as error:
        load_bundle(root)
    assert "missing file thresholds.json" in str(error.value)
    assert "missing file onnx/model.int8.onnx" in str(error.value)


def test_no_manifest_says_training_may_have_been_interrupted(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / MANIFEST).unlink()
    with pytest.raises(BundleError, match=r"no readable bundle\.json"):
        load_bundle(root)
    with pytest.raises(BundleError, match="not a directory"):
        load_bundle(tmp_path / "nowhere")


def test_a_modified_file_fails_its_hash(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "model.safetensors").write_bytes(b"other weights")
    with pytest.raises(BundleError, match=r"model\.safetensors does not match its sha256"):
        load_bundle(root)
    assert load_bundle(root, verify_hashes=False).version


def test_bad_contents_are_reported(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "calibration.json").write_text(json.dumps({"temperature": {"riders": 0}}))
    thresholds = json.loads((root / "thresholds.json").read_text())
    thresholds["topics"]["riders/ride_cost/overcharge"]["threshold"] = 1.5
    (root / "thresholds.json").write_text(json.dumps(thresholds))
    with pytest.raises(BundleError) as error:
        load_bundle(root, verify_hashes=False)
    message = str(error.value)
    assert "positive temperature for 'riders'" in message and "'guard'" in message
    assert "threshold of 'riders/ride_cost/overcharge' is 1.5" in message


def test_a_tree_that_differs_from_the_rulebook_is_refused(tmp_path):
    topics = load_rulebook().topics.snapshot()
    topics["riders"] = [leaf for leaf in topics["riders"] if "receipt" not in leaf["path"]]
    topics["riders"].append({"path": "riders/payment/old_leaf", "actionable": True, "title": {}})
    bundle = load_bundle(make_bundle(tmp_path / "b", topics))
    with pytest.raises(BundleMismatchError) as error:
        check_against_topics(bundle, load_rulebook().topics)
    message = str(error.value)
    assert "rulebook topic 'riders/payment/receipt' has no output in the model" in message
    assert "model topic 'riders/payment/old_leaf' is not in the rulebook" in message


def test_a_rulebook_line_the_bundle_lacks_is_refused_unless_allowed(tmp_path):
    topics = {"riders": load_rulebook().topics.snapshot()["riders"]}
    bundle = load_bundle(make_bundle(tmp_path / "b", topics))
    with pytest.raises(BundleMismatchError, match="rulebook line 'drivers' is not served"):
        check_against_topics(bundle, load_rulebook().topics)
    check_against_topics(bundle, load_rulebook().topics, allow_missing_lines=True)
