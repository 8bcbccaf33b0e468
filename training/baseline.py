"""The TF-IDF baseline the encoder must beat: word 1-2-grams + character 2-5-grams, logistic
regression per line over the leaves (character n-grams give Russian a fair chance). The same
recipe as `benchmarks/baseline_tfidf.py` (dialogue turns before the text, min_df=2, C=3), so
the figures in a bundle's report match the corpus card's."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from models.tree import LabelTree
from training.data import Example
from training.metrics import topic_metrics


def tfidf_baseline(
    tree: LabelTree, train: list[Example], test: list[Example], k: int, bins: int, seed: int
) -> dict[str, Any]:
    """Return the baseline's topic metrics on `test`, overall and per language."""
    index = {leaf: i for i, leaf in enumerate(tree.leaves)}
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
                ),
            ),
        ]
    )
    model = make_pipeline(features, LogisticRegression(C=3.0, max_iter=3000, random_state=seed))
    model.fit([_with_turns(e) for e in train], [index[e.label] for e in train])
    classes = model.classes_
    probs = np.zeros((len(test), len(tree.leaves)))
    if test:
        probs[:, classes] = model.predict_proba([_with_turns(e) for e in test])
    labels = np.array([index[e.label] for e in test], dtype=np.int64)
    locales = np.array([e.locale for e in test])
    result = {"all": topic_metrics(tree, probs, labels, k, bins)}
    for locale in sorted(set(locales.tolist())):
        part = locales == locale
        result[locale] = topic_metrics(tree, probs[part], labels[part], k, bins)
    return result


def _with_turns(example: Example) -> str:
    """Return the earlier dialogue turns followed by the text."""
    return " ".join([*(example.dialogue or ()), example.text])
