"""The classifier on a real quick bundle (MiniLM): predictions, backends, no torch for ONNX."""

import json
import subprocess
import sys

import numpy as np
import pytest

from models.backends import OnnxBackend
from models.bundle import check_against_topics
from models.prediction import GUARD_CLASSES
from models.runtime import UnknownLineError, load_classifier
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
        assert len(probs) >= 3 and probs == sorted(probs, reverse=True)
        for c in p.candidates:
            assert c.path.startswith("riders/") and c.levels[-1].path == c.path
            assert c.levels[-1].prob == pytest.approx(c.prob)
            assert all(
                a.prob >= b.prob - 1e-9 for a, b in zip(c.levels, c.levels[1:], strict=False)
            )
        assert set(p.guard) == set(GUARD_CLASSES) and sum(p.guard.values()) == pytest.approx(1.0)
        assert p.model_version == classifier.version and p.tokens > 2
    assert predictions[0].top.path == "riders/ride_cost/promo_not_applied"
    assert classifier.bundle.spec.transliterate  # the default: Cyrillic fed as Latin letters


@pytest.fixture(scope="module")
def reference(quick_bundle, classifier):
    return load_classifier(quick_bundle, backend="torch-fp32", bundle=classifier.bundle)


@pytest.mark.parametrize("backend", ["onnx-fp32", "onnx-int8"])
def test_order_and_batching_barely_change_results(quick_bundle, classifier, backend):
    # int8 quantizes activations with one range per batch, so batch-mates move it slightly
    model = load_classifier(quick_bundle, backend=backend, bundle=classifier.bundle)
    tolerance = 1e-4 if backend.endswith("fp32") else 0.05
    many = model.predict(TEXTS * 15, "riders")  # more than one batch of 32
    for i, text in enumerate(TEXTS):
        single = model.predict([text], "riders")[0]
        assert many[i].top.prob == pytest.approx(single.top.prob, abs=tolerance)
    assert model.predict([], "riders") == []


def test_onnx_fp32_reproduces_torch_fp32(quick_bundle, classifier, reference):
    onnx = load_classifier(quick_bundle, backend="onnx-fp32", bundle=classifier.bundle)
    for a, b in zip(onnx.predict(TEXTS, "riders"), reference.predict(TEXTS, "riders"), strict=True):
        assert a.top.path == b.top.path and a.top.prob == pytest.approx(b.top.prob, abs=1e-3)


@pytest.mark.parametrize("backend", ["onnx-int8", "torch-int8"])
def test_int8_backends_stay_close_to_fp32(quick_bundle, classifier, reference, backend):
    model = load_classifier(quick_bundle, backend=backend, threads=1, bundle=classifier.bundle)
    # The fp32 choice stays among the top three; onnx-int8 also stays close on confident texts
    # (torch's x86 engine quantizes activations to 7 bits and drifts more on short texts).
    # Accuracy deltas on real data: benchmarks/inference.py.
    pairs = zip(
        model.predict(TEXTS, "riders", k=3), reference.predict(TEXTS, "riders"), strict=True
    )
    for a, b in pairs:
        probs = {c.path: c.prob for c in a.candidates}
        assert b.top.path in probs
        if b.top.prob > 0.9 and backend == "onnx-int8":
            assert probs[b.top.path] == pytest.approx(b.top.prob, abs=0.1)


def test_unknown_line_is_refused(classifier):
    with pytest.raises(UnknownLineError, match="no head for line 'couriers'"):
        classifier.predict(["x"], "couriers")


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


def test_lanes_run_overlapping_calls_side_by_side_with_the_same_results(quick_bundle, classifier):
    from concurrent.futures import ThreadPoolExecutor

    model = load_classifier(quick_bundle, lanes=2, bundle=classifier.bundle)
    scorer = model.backend
    assert isinstance(scorer, OnnxBackend)
    alone = [model.predict([text], "riders")[0].top for text in TEXTS]
    assert scorer._busy_until == 0.0  # one call at a time: always the wide session

    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda t: model.predict([t], "riders")[0].top, TEXTS * 20))
    assert scorer._busy_until > 0.0  # calls overlapped: the single-threaded session ran
    assert scorer._running == 0  # every call given back
    assert scorer.narrow is not scorer.session  # one single-threaded session for every lane
    for a, b in zip(alone * 20, together, strict=True):
        assert a.path == b.path and a.prob == pytest.approx(b.prob, abs=0.05)


def test_the_lexical_head_joins_the_encoder_as_its_fitted_pool_says(classifier):
    from models.lexical import lexical_file, pool
    from models.runtime import lexical_text

    assert set(classifier.lexical) == set(classifier.lines)  # trained beside it, per line
    assert all(classifier.bundle.file(lexical_file(line)).is_file() for line in classifier.lines)
    head = classifier.lexical["riders"]
    fitted = classifier.bundle.metrics["lines"]["riders"]["lexical"]["cyrillic"]
    assert (head.alpha[1], head.temperature[1]) == (fitted["alpha"], fitted["temperature"])
    text, dialogue = TEXTS[1], ["ранее"]
    batch = classifier.encoder.encode([text], [dialogue])
    scores, _ = classifier.backend.run(batch, "riders")
    alone = classifier.leaf_probs(scores, "riders")  # no texts: the encoder's own distribution
    fused = pool(np.log(alone), head.log_probs([lexical_text(text, dialogue)]), head.alpha[1],
                 head.temperature[1]) if head.alpha[1] else alone  # fmt: skip
    [prediction] = classifier.predict([text], "riders", k=3, dialogues=[dialogue])
    leaves = classifier.bundle.spec.trees["riders"].leaves
    for c in prediction.candidates:
        assert c.prob == pytest.approx(fused[0, leaves.index(c.path)], abs=1e-6)
