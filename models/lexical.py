"""The lexical head: word and character n-grams through a linear layer, one per support line.

It reads what the encoder's English word pieces read badly: Russian morphology and the exact
spelling of a phrase. Features are TF-IDF weighted the way the baseline's vectorizers weigh them
(word 1-2-grams and character 2-5-grams inside word boundaries, sublinear term frequency, smooth
idf, each block L2-normalised), but hashed (CRC-32) instead of kept in a vocabulary, so the
serving process holds only arrays: the kept buckets, their idf and their weights. Training
(`training.lexical`) and serving compute features with the same function here.

The head's log-probabilities join the encoder's, weighted (`LexicalHead.fuse`): a log-linear
pool fitted on validation, so where the lexical head adds nothing its weight goes to zero. The
weight is fitted per script (`SCRIPTS`: Latin or Cyrillic text), because the encoder reads English
well and Russian badly: the pool leans on the n-grams where the word pieces fail.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

BUCKET_BITS = 22
WORD = re.compile(r"(?u)\b\w\w+\b")
SPACES = re.compile(r"\s+")
CHAR_SIZES = (2, 3, 4, 5)
SCRIPTS = ("latin", "cyrillic")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def lexical_file(line: str) -> str:
    """Return the bundle-relative path of one line's lexical head."""
    return f"lexical/{line}.npz"


def ngrams(text: str) -> tuple[list[str], list[str]]:
    """Return (word 1-2-grams, character 2-5-grams within word boundaries) of a text."""
    text = text.lower()
    words = WORD.findall(text)
    word_grams = [*words, *(f"{a} {b}" for a, b in pairwise(words))]
    char_grams: list[str] = []
    for token in SPACES.sub(" ", text).split():
        padded = f" {token} "
        size = len(padded)
        for n in CHAR_SIZES:
            if size < n:
                break
            char_grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return word_grams, char_grams


def script(text: str) -> int:
    """Return the index in `SCRIPTS` of a text's script: Cyrillic when over 30% of its letters."""
    letters = sum(1 for c in text if c.isalpha())
    return int(letters > 0 and len(_CYRILLIC.findall(text)) / letters > 0.3)


def scripts(texts: list[str]) -> np.ndarray:
    """Return each text's `script` as an int64 array."""
    return np.array([script(t) for t in texts], dtype=np.int64)


def bucket_counts(text: str) -> tuple[Counter[int], Counter[int]]:
    """Return the hashed n-gram counts of a text, per block (word, char)."""
    mask = (1 << BUCKET_BITS) - 1
    words, chars = ngrams(text)
    return (
        Counter(zlib.crc32(g.encode()) & mask for g in words),
        Counter((zlib.crc32(g.encode()) & mask) | (1 << BUCKET_BITS) for g in chars),
    )


@dataclass(frozen=True)
class LexicalHead:
    """One line's lexical classifier over the leaves, and its fusion weight."""

    columns: np.ndarray  # sorted int64 bucket ids kept (word buckets, then char buckets)
    idf: np.ndarray  # float32 per column
    weights: np.ndarray  # float16 [columns, leaves]
    bias: np.ndarray  # float32 [leaves]
    alpha: tuple[float, ...]  # per script: weight of the lexical log-probabilities in the pool
    temperature: tuple[float, ...]  # per script: of the fused log-linear pool

    def features(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return, per text, (row indices into `columns`, TF-IDF values, each block L2-normed)."""
        out = []
        for text in texts:
            rows: list[np.ndarray] = []
            values: list[np.ndarray] = []
            for counts in bucket_counts(text):
                if not counts:
                    continue
                keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
                at = np.searchsorted(self.columns, keys)
                at[at >= len(self.columns)] = 0
                kept = self.columns[at] == keys
                if not kept.any():
                    continue
                at = at[kept]
                v = (1.0 + np.log(tf[kept])) * self.idf[at]
                rows.append(at)
                values.append(v / np.linalg.norm(v))
            if rows:
                out.append((np.concatenate(rows), np.concatenate(values)))
            else:
                out.append((np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)))
        return out

    def log_probs(self, texts: list[str]) -> np.ndarray:
        """Return [texts, leaves] log-probabilities of the lexical classifier alone."""
        logits = np.tile(self.bias.astype(np.float64), (len(texts), 1))
        for i, (rows, values) in enumerate(self.features(texts)):
            if len(rows):
                logits[i] += values.astype(np.float64) @ self.weights[rows].astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def fuse(self, encoder_probs: np.ndarray, texts: list[str]) -> np.ndarray:
        """Return the fused [texts, leaves] probabilities, softmax((log p_enc + a log p_lex) / t)
        with each text's script's a and t (a = 0: the encoder's, untouched)."""
        kinds = scripts(texts)
        read = np.flatnonzero([self.alpha[k] != 0.0 for k in kinds.tolist()])
        lexical = np.zeros_like(encoder_probs)  # rows of an unpooled script are never read
        if len(read):
            lexical[read] = self.log_probs([texts[i] for i in read])
        return self.pooled(encoder_probs, lexical, kinds)

    def pooled(
        self, encoder_probs: np.ndarray, lexical_log: np.ndarray, kinds: np.ndarray
    ) -> np.ndarray:
        """Return `fuse`'s result from the lexical log-probabilities and scripts already known."""
        fused = encoder_probs.copy()
        for k in np.unique(kinds).tolist():
            if self.alpha[k] != 0.0:
                rows = kinds == k
                fused[rows] = pool(
                    np.log(np.maximum(encoder_probs[rows], 1e-12)),
                    lexical_log[rows],
                    self.alpha[k],
                    self.temperature[k],
                )
        return fused

    def save(self, path: Path) -> None:
        """Write the head as one .npz file."""
        np.savez(
            path,
            columns=self.columns,
            idf=self.idf,
            weights=self.weights,
            bias=self.bias,
            alpha=np.array(self.alpha, dtype=np.float64),
            temperature=np.array(self.temperature, dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path) -> LexicalHead:
        """Read a head written by `save`."""
        with np.load(path) as f:
            return cls(
                columns=f["columns"],
                idf=f["idf"],
                weights=f["weights"],
                bias=f["bias"],
                alpha=tuple(float(a) for a in f["alpha"]),
                temperature=tuple(float(t) for t in f["temperature"]),
            )


def pool(
    encoder_log: np.ndarray, lexical_log: np.ndarray, alpha: float, temperature: float
) -> np.ndarray:
    """Return softmax((encoder_log + alpha * lexical_log) / temperature) row by row."""
    z = (encoder_log + alpha * lexical_log) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
