"""Training the lexical head and fitting its weight in the pool on validation."""

import numpy as np

from models.lexical import pool
from training.lexical import fit_fusion, fit_lexical

TEXTS = {
    0: ["водитель хамил", "водителя грубый", "хамство водителя", "грубил водитель в машине"],
    1: ["вернуть деньги", "деньги не вернули", "возврат денег", "верните деньги за поездку"],
    2: ["промокод не сработал", "промокода нет", "не применился промокод", "промокод"],
}


def data():
    texts = [t for label in TEXTS for t in TEXTS[label]]
    labels = np.array([label for label in TEXTS for _ in TEXTS[label]])
    return texts, labels


def test_the_head_learns_russian_words_in_their_other_forms():
    texts, labels = data()
    head = fit_lexical(texts, labels, n_classes=4, seed=0)
    assert head is not None and head.alpha == (0.0, 0.0)  # no weight in the pool until it is fitted
    guess = head.log_probs(["водителю хамить нельзя", "где мои деньги", "промокоды"]).argmax(1)
    assert guess.tolist() == [0, 1, 2]
    assert head.bias[3] < -10  # a leaf with no training text stays improbable


def test_a_smaller_c_regularises_the_head_more():
    texts, labels = data()
    loose, tight = (fit_lexical(texts, labels, 3, seed=0, c=c) for c in (10.0, 0.1))
    assert loose is not None and tight is not None
    norm = [float(np.abs(h.weights.astype(np.float32)).sum()) for h in (loose, tight)]
    assert norm[1] < norm[0] / 5
    assert tight.log_probs(["вернуть деньги"])[0].argmax() == 1  # still right, less sure


def test_two_classes_and_one_class():
    texts, labels = data()
    two = labels < 2
    head = fit_lexical([t for t, k in zip(texts, two, strict=True) if k], labels[two], 3, 0)
    assert head is not None
    assert head.log_probs(["вернуть деньги"])[0].argmax() == 1
    assert fit_lexical(["один", "два"], np.array([1, 1]), 3, 0) is None


def test_fusion_weighs_an_informative_head_and_ignores_a_useless_one():
    texts, labels = data()
    head = fit_lexical(texts, labels, 3, seed=0)
    blind = np.full((len(texts), 3), 1 / 3)  # an encoder that knows nothing
    fitted, figures = fit_fusion(head, blind, texts, labels)
    russian = figures["cyrillic"]  # 12 texts: too few for their own weight, the joint one
    assert fitted.alpha[1] > 0 and russian["valid_accuracy_fused"] == 1.0
    assert russian["valid_nll_fused"] < russian["valid_nll_encoder"]
    assert "latin" not in figures
    sure = np.eye(3)[labels] * 0.97 + 0.01  # a confident, correct encoder
    shuffled = fit_lexical(texts, np.roll(labels, 4), 3, seed=0)  # a head trained on wrong labels
    fitted, figures = fit_fusion(shuffled, sure, texts, labels)
    assert fitted.alpha[1] <= 0.2 and figures["cyrillic"]["valid_accuracy_fused"] == 1.0
    assert np.allclose(pool(np.log(sure), np.zeros_like(sure), 0.0, 1.0), sure)
