"""Baseline: TF-IDF + logistic regression, scored on the corpus's held-out-family test split.

Usage: python benchmarks/baseline_tfidf.py [--corpus var/corpus] [--n 30000] [--seed 0] [--contrast]

Trains one classifier per support line on the train split (the text, after any earlier dialogue
turns), predicts the leaf topic of each valid and test ticket, and prints as JSON: leaf accuracy
per language and per line x language, macro-F1 per line, accuracy per guard kind. --contrast also
scores a random ticket-level split of the same tickets (test families seen in training), to show
how much of the score is memorising the generator's wording. A missing corpus is generated first.
If held-out leaf accuracy is above 0.95 for a language, the corpus is too easy.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from rules.loader import load_rulebook
from training.corpus.generate import CorpusConfig, write_corpus
from training.corpus.schema import LINES, TicketRecord, read_jsonl
from training.corpus.world import load_world


def model() -> Pipeline:
    """Return the baseline: word 1-2-grams and char 2-5-grams, logistic regression (C tuned on valid)."""
    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5), min_df=2)
    return make_pipeline(make_union(words, chars), LogisticRegression(C=3.0, max_iter=3000))


def text_of(record: TicketRecord) -> str:
    """Return what the classifier reads: earlier dialogue turns, then the latest message."""
    return "\n".join([*(record.dialogue or []), record.text])


def predict(train: Sequence[TicketRecord], score: Sequence[TicketRecord]) -> list[str]:
    """Fit one model per line on `train`; return a predicted leaf for each record of `score`."""
    out: dict[str, str] = {}
    for line in LINES:
        mine = [r for r in train if r.line == line]
        fitted = model().fit([text_of(r) for r in mine], [r.label for r in mine])
        targets = [r for r in score if r.line == line]
        out.update(
            zip((r.id for r in targets), fitted.predict([text_of(r) for r in targets]), strict=True)
        )
    return [out[r.id] for r in score]


def report(records: Sequence[TicketRecord], predicted: Sequence[str]) -> dict[str, Any]:
    """Return accuracy by language, line x language and guard, and macro-F1 by line."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for record, guess in zip(records, predicted, strict=True):
        ok = record.label == guess
        for key in (
            record.locale,
            f"{record.line}/{record.locale}",
            f"guard:{record.guard}",
            "all",
        ):
            hits[key].append(ok)
    accuracy = {k: round(sum(v) / len(v), 4) for k, v in sorted(hits.items())}
    macro_f1 = {}
    for line in LINES:
        idx = [i for i, r in enumerate(records) if r.line == line]
        macro_f1[line] = round(
            f1_score([records[i].label for i in idx], [predicted[i] for i in idx], average="macro"),
            4,
        )
    return {"tickets": len(records), "leaf_accuracy": accuracy, "macro_f1": macro_f1}


def load(corpus: Path, split: str) -> list[TicketRecord]:
    """Return one split of the corpus."""
    return list(read_jsonl(corpus / f"{split}.jsonl"))


def main() -> None:
    """Generate the corpus if needed, fit the baseline, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus"))
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--contrast", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "test.jsonl").is_file():
        write_corpus(
            args.corpus, CorpusConfig(n=args.n, seed=args.seed), load_world(load_rulebook())
        )
    train, valid, test = (load(args.corpus, s) for s in ("train", "valid", "test"))
    figures: dict[str, Any] = {
        "corpus": str(args.corpus),
        "train_tickets": len(train),
        "valid": report(valid, predict(train, valid)),
        "test_held_out_families": report(test, predict(train, test)),
    }
    if args.contrast:
        pool = [*train, *test]
        random.Random(0).shuffle(pool)
        cut = len(pool) - len(test)
        figures["random_split_same_size"] = report(pool[cut:], predict(pool[:cut], pool[cut:]))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
