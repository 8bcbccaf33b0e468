"""Feature variants of the lexical head, pooled with a bundle's encoder as training pools them.

    python benchmarks/lexical_variants.py --bundle var/bundles/current --corpus var/corpus \
        [--variants plain,stems,char6]

The encoder's probabilities come from the bundle (int8, lexical head off); for each variant every
line's lexical head is trained on the training texts (`training.lexical.fit_lexical`), its pool
fitted on validation (`fit_fusion`), and the pooled leaf accuracy printed per split and language.
Variants: `plain` (the head as it is), `stems` (plus Russian word stems and stem bigrams from a
suffix-stripping stemmer), `char6` (plus character 6-grams). An experiment, not the product: the
variants live here only.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np

import models.lexical as lexical
from models.runtime import lexical_text, load_classifier
from training.args import DataArguments
from training.data import read_examples
from training.lexical import fit_fusion, fit_lexical

Grams = tuple[list[str], list[str]]
PLAIN = lexical.ngrams
ENDING_TEXT = (
    "ами ями ого его ому ему ыми ими ться тся ешь ишь ете ите ила ило или ала али ало яла ели ая "
    "яя ое ее ые ие ой ей ий ый ом ем ам ям ах ях ую юю ть ет ит ут ют ат ят ся сь ла ли ло ов ев "
    "а я о е ы и у ю ь й"
)
ENDINGS = sorted(ENDING_TEXT.split(), key=len, reverse=True)
CYRILLIC_WORD = re.compile("^[а-яё]+$")


def stem(word: str) -> str:
    """Return a Cyrillic word without its longest known ending (at least 3 letters kept)."""
    if len(word) > 4 and CYRILLIC_WORD.match(word):
        for ending in ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                return word[: -len(ending)]
    return word


def with_stems(text: str) -> Grams:
    words, chars = PLAIN(text)
    found = lexical.WORD.findall(text.lower())
    stems = [stem(w) for w in found]
    extra = [f"~{s}" for s, w in zip(stems, found, strict=True) if s != w]
    extra += [f"~{a} {b}" for a, b in pairwise(stems)]
    return [*words, *extra], chars


def with_char6(text: str) -> Grams:
    words, chars = PLAIN(text)
    extra = []
    for token in lexical.SPACES.sub(" ", text.lower()).split():
        padded = f" {token} "
        extra += [padded[i : i + 6] for i in range(len(padded) - 5)]
    return words, chars + extra


VARIANTS: dict[str, Callable[[str], Grams]] = {
    "plain": PLAIN,
    "stems": with_stems,
    "char6": with_char6,
}
Split = tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None, int]


def splits(bundle: Path, corpus: Path) -> dict[tuple[str, str], Split]:
    """Return per (split, line): lexical texts, leaf indices, locales, encoder probabilities and
    the line's number of leaves."""
    classifier = load_classifier(bundle, "onnx-int8")
    out: dict[tuple[str, str], Split] = {}
    for split in ("train", "valid", "test"):
        rows = read_examples(corpus / f"{split}.jsonl", DataArguments(), "corpus")
        for line in classifier.lines:
            index = {leaf: i for i, leaf in enumerate(classifier.bundle.spec.trees[line].leaves)}
            kept = [e for e in rows if e.line == line and e.label in index]
            probs = None
            if split != "train":
                parts = []
                for start in range(0, len(kept), 32):
                    chunk = kept[start : start + 32]
                    batch = classifier.encoder.encode(
                        [e.text for e in chunk], [e.dialogue for e in chunk]
                    )
                    scores, _ = classifier.backend.run(batch, line)
                    parts.append(classifier.leaf_probs(scores, line, None))
                probs = np.vstack(parts)
            out[(split, line)] = (
                [lexical_text(e.text, e.dialogue) for e in kept],
                np.array([index[e.label] for e in kept], dtype=np.int64),
                np.array([e.locale for e in kept], dtype=object),
                probs,
                len(index),
            )
    return out


def pooled_accuracy(data: dict[tuple[str, str], Split], seed: int) -> dict[str, dict[str, float]]:
    """Return pooled leaf accuracy per split and locale with `lexical.ngrams` as it is now."""
    right: dict[str, dict[str, list[int]]] = {}
    for line in sorted({line for _, line in data}):
        texts, labels, _, _, leaves = data[("train", line)]
        head = fit_lexical(texts, labels, leaves, seed)
        if head is None:
            continue
        v_texts, v_labels, _, v_probs, _ = data[("valid", line)]
        assert v_probs is not None
        head, _ = fit_fusion(head, v_probs, v_texts, v_labels)
        for split in ("valid", "test"):
            s_texts, s_labels, s_locales, s_probs, _ = data[(split, line)]
            assert s_probs is not None
            hits = head.fuse(s_probs, s_texts).argmax(axis=1) == s_labels
            for locale in sorted(set(s_locales.tolist())):
                tally = right.setdefault(split, {}).setdefault(locale, [0, 0])
                tally[0] += int(hits[s_locales == locale].sum())
                tally[1] += int((s_locales == locale).sum())
    return {
        split: {loc: round(a / n, 4) for loc, (a, n) in by_locale.items()}
        for split, by_locale in right.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=Path("var/bundles/current"))
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus"))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    data = splits(args.bundle, args.corpus)
    for name in args.variants.split(","):
        lexical.ngrams = VARIANTS[name]  # type: ignore[assignment]
        try:
            print(json.dumps({name: pooled_accuracy(data, args.seed)}), flush=True)
        finally:
            lexical.ngrams = PLAIN


if __name__ == "__main__":
    main()
