"""The classifier on a real quick bundle (MiniLM): predictions, backends, no torch for ONNX."""

import json
import subprocess
import sys

import numpy as np
import pytest

from models.bundle import check_against_topics
from models.prediction import GUARD_CLASSES
from models.runtime import BACKENDS, UnknownLineError, load_classifier
from rules.loader import load_rulebook

pytestmark = pytest.mark.slow
TEXTS = [
    "Hello, promo code not applied. Please help",
    "Здравствуйте, не применился промокод. Помогите",
    "thanks, everything was great",
]


@pytest.fixture(scope="module")
def classifier(quick_bundle):
    return load_classifier(quick_bundle)


def test_bundle_matches_the_rulebook(classifier):
    check_against_topics(classifier.bundle, load_rulebook().topics)
    assert classifier.version == classifier.bundle.version
    assert set(classifier.lines) == set(load_rulebook().topics.lines)


def test_prediction_has_top_k_leaves_with_consistent_levels_and_a_guard(classifier):
    predictions = classifier.predict(TEXTS, "riders", k=3, dialogues=[None, ["ранее"], None])
    assert len(predictions) == 3
    for p in predictions:
        probs = [c.prob for c in p.candidates]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)
        for c in p.candidates:
            assert c.path.startswith("riders/") and c.levels[-1].path == c.path
            assert c.levels[-1].prob == pytest.approx(c.prob)
            assert all(
                a.prob >= b.prob - 1e-9 for a, b in zip(c.levels, c.levels[1:], strict=False)
            )
        assert set(p.guard) == set(GUARD_CLASSES) and sum(p.guard.values()) == pytest.approx(1.0)
        assert p.model_version == classifier.version and p.tokens > 2
    assert predictions[0].top.path == "riders/ride_cost/promo_not_applied"
    assert predictions[1].tokens > predictions[0].tokens  # Cyrillic splits into many pieces


@pytest.mark.parametrize(("backend", "tolerance"), [("onnx-fp32", 1e-4), ("onnx-int8", 0.02)])
def test_order_and_batching_barely_change_results(quick_bundle, classifier, backend, tolerance):
    # int8 quantizes activations with one range per batch, so batch-mates move it slightly
    model = load_classifier(quick_bundle, backend=backend, bundle=classifier.bundle)
    many = model.predict(TEXTS * 15, "riders")  # more than one batch of 32
    single = model.predict([TEXTS[1]], "riders")[0]
    assert many[1].top.path == single.top.path
    assert many[1].top.prob == pytest.approx(single.top.prob, abs=tolerance)
    assert model.predict([], "riders") == []


def test_unknown_line_is_refused(classifier):
    with pytest.raises(UnknownLineError, match="no head for line 'couriers'"):
        classifier.predict(["x"], "couriers")


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "onnx-int8"])
def test_every_backend_agrees_with_the_default(quick_bundle, classifier, backend):
    other = load_classifier(quick_bundle, backend=backend, threads=1, bundle=classifier.bundle)
    a = classifier.predict(TEXTS, "riders")
    b = other.predict(TEXTS, "riders")
    assert [p.top.path for p in a] == [p.top.path for p in b]
    assert np.allclose([p.top.prob for p in a], [p.top.prob for p in b], atol=0.1)


def test_onnx_export_parity_per_language_is_recorded(classifier):
    export = classifier.bundle.metrics["export"]
    for backend in ("onnx-fp32", "onnx-int8"):
        for locale in ("en", "ru"):
            figures = export[backend][locale]
            assert figures["top1_agreement"] >= (1.0 if backend == "onnx-fp32" else 0.9)
            assert figures["mean_score_cosine"] >= (0.9999 if backend == "onnx-fp32" else 0.98)


def test_onnx_serving_never_imports_torch(quick_bundle):
    code = (
        "import sys, json\n"
        "from models.runtime import load_classifier\n"
        f"c = load_classifier({str(quick_bundle)!r}, 'onnx-int8')\n"
        "p = c.predict(['promo code not applied'], 'riders')[0]\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'top': p.top.path}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["torch"] is False and result["top"].startswith("riders/")
