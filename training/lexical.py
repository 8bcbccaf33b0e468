"""Train the lexical head of one line and fit its weight in the fused distribution.

The head is the TF-IDF baseline's recipe (word 1-2-grams + character 2-5-grams, min_df 2,
sublinear tf, logistic regression with C=3: `lexical_c` in the config) over hashed features
(`models.lexical`), so that serving needs arrays, not a vocabulary. Its weight `alpha` and the pool's temperature are chosen
on validation by log-likelihood, so calibration stays honest and a useless head gets alpha 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from models.lexical import SCRIPTS, LexicalHead, bucket_counts, pool, scripts

MIN_DF = 2
C = 3.0  # the default of the `lexical_c` config argument (training.args)
ALPHAS = tuple(round(0.1 * i, 1) for i in range(31))  # 0.0 .. 3.0
TEMPERATURES = tuple(round(0.5 + 0.05 * i, 2) for i in range(51))  # 0.5 .. 3.0
MIN_SCRIPT_SUPPORT = 50  # fewer validation texts in a script: it takes the weight fitted on all
NO_POOL = (0.0,) * len(SCRIPTS), (1.0,) * len(SCRIPTS)


def fit_lexical(
    texts: Sequence[str], labels: np.ndarray, n_classes: int, seed: int, c: float = C
) -> LexicalHead | None:
    """Return a lexical head over `n_classes` leaves (alpha 0 until `fit_fusion`), or None when
    the training texts have fewer than two classes."""
    if len(set(labels.tolist())) < 2:
        return None
    counts = [bucket_counts(t) for t in texts]
    df: dict[int, int] = {}
    for blocks in counts:
        for block in blocks:
            for key in block:
                df[key] = df.get(key, 0) + 1
    columns = np.array(sorted(k for k, v in df.items() if v >= MIN_DF), dtype=np.int64)
    n = len(texts)
    idf = np.log((1 + n) / (1 + np.array([df[k] for k in columns], dtype=np.float64))) + 1
    empty = LexicalHead(columns, idf.astype(np.float32), np.zeros((len(columns), n_classes),
                        np.float16), np.zeros(n_classes, np.float32), *NO_POOL)  # fmt: skip
    model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    model.fit(design_matrix(empty, texts), labels)
    weights = np.zeros((len(columns), n_classes), dtype=np.float32)
    bias = np.full(n_classes, -30.0, dtype=np.float32)  # a leaf never seen in training
    if len(model.classes_) == 2:  # sklearn keeps one weight vector for a binary problem
        coef = np.vstack([-model.coef_[0], model.coef_[0]]) / 2
        intercept = np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    else:
        coef, intercept = model.coef_, model.intercept_
    weights[:, model.classes_] = coef.T
    bias[model.classes_] = intercept
    return replace(empty, weights=weights.astype(np.float16), bias=bias)


def design_matrix(head: LexicalHead, texts: Sequence[str]) -> sp.csr_matrix:
    """Return the [texts, columns] sparse TF-IDF matrix the head's weights apply to."""
    rows = head.features(list(texts))
    pointer = np.cumsum([0, *(len(r) for r, _ in rows)])
    indices = np.concatenate([r for r, _ in rows]) if rows else np.zeros(0, np.int64)
    values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((values, indices, pointer), shape=(len(rows), len(head.columns)))


def fit_fusion(
    head: LexicalHead, encoder_probs: np.ndarray, texts: Sequence[str], labels: np.ndarray
) -> tuple[LexicalHead, dict[str, Any]]:
    """Return the head with, per script, the (alpha, temperature) that minimise validation NLL,
    and the validation figures of the encoder alone, the head alone and the pool."""
    enc = np.log(np.maximum(encoder_probs, 1e-12))
    lex = head.log_probs(list(texts))
    kinds = scripts(list(texts))
    everywhere = _best_pool(enc, lex, labels)
    chosen = [
        _best_pool(enc[kinds == k], lex[kinds == k], labels[kinds == k])
        if (kinds == k).sum() >= MIN_SCRIPT_SUPPORT
        else everywhere
        for k in range(len(SCRIPTS))
    ]
    fitted = replace(
        head, alpha=tuple(a for a, _ in chosen), temperature=tuple(t for _, t in chosen)
    )
    fused = fitted.pooled(encoder_probs, lex, kinds)
    figures: dict[str, Any] = {}
    for k, name in enumerate(SCRIPTS):
        rows = kinds == k
        if rows.any():
            figures[name] = {
                "n": int(rows.sum()),
                "alpha": fitted.alpha[k],
                "temperature": fitted.temperature[k],
                "valid_accuracy_encoder": _accuracy(encoder_probs[rows], labels[rows]),
                "valid_accuracy_lexical": _accuracy(lex[rows], labels[rows]),
                "valid_accuracy_fused": _accuracy(fused[rows], labels[rows]),
                "valid_nll_encoder": _nll(encoder_probs[rows], labels[rows]),
                "valid_nll_fused": _nll(fused[rows], labels[rows]),
            }
    return fitted, figures


def _best_pool(enc: np.ndarray, lex: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Return the (alpha, temperature) of the grid with the lowest NLL of the labels."""
    best = (np.inf, 0.0, 1.0)
    for alpha in ALPHAS:
        for temperature in TEMPERATURES if alpha else (1.0,):  # alpha 0: the encoder as it is
            nll = _nll(pool(enc, lex, alpha, temperature), labels)
            if nll < best[0] - 1e-9:
                best = (nll, alpha, temperature)
    return best[1], best[2]


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((scores.argmax(axis=1) == labels).mean())


def _nll(probs: np.ndarray, labels: np.ndarray) -> float:
    return -float(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12)).mean())
