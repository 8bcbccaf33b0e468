"""Benchmark: the topic classifier per CPU backend and language, end to end (tokenize -> scores ->
calibrated Prediction).

Usage: python benchmarks/inference.py --bundle DIR [--data DIR] [--threads 2] [--backends ...]
       [--single 200] [--batches 8] [--json OUT]
Per backend and language it prints single-text latency p50/p99, texts/s at batch 32, top-1 leaf
accuracy on the data's test split and its change against torch-fp32, word pieces per word and the
truncation rate. The machine's load average is printed too: figures taken while other work runs
are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import load_bundle
from models.runtime import BACKENDS, TopicClassifier, load_classifier
from training.args import DataArguments
from training.data import Example, read_examples

BATCH = 32
WARMUP = 20


def test_examples(bundle_dir: Path, data_dir: Path | None) -> list[Example]:
    """Return the test split the bundle was evaluated on (or the one in `data_dir`)."""
    bundle = load_bundle(bundle_dir, verify_hashes=False)
    config = bundle.training.get("config", {})
    root = data_dir or Path(config.get("data_dir", ""))
    args = DataArguments(data_dir=str(root), text_field=config.get("text_field", "text"),
                         label_field=config.get("label_field", "label"))  # fmt: skip
    line = config.get("default_line") or bundle.lines[0]
    path = root / "test.jsonl" if (root / "test.jsonl").is_file() else root / "valid.jsonl"
    return [e for e in read_examples(path, args, line) if e.line in bundle.lines]


def latency_ms(model: TopicClassifier, group: list[Example], n: int) -> tuple[float, float]:
    """Return p50 and p99 of single-text predict() in milliseconds."""
    for example in group[:WARMUP]:
        model.predict([example.text], example.line)
    times = []
    for i in range(n):
        example = group[i % len(group)]
        start = time.perf_counter()
        model.predict([example.text], example.line, dialogues=[example.dialogue])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def throughput(model: TopicClassifier, group: list[Example], batches: int) -> float:
    """Return texts per second when predicting batches of 32."""
    texts = [group[i % len(group)] for i in range(BATCH * batches)]
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        chunk = texts[i : i + BATCH]
        model.predict([e.text for e in chunk], chunk[0].line, dialogues=[e.dialogue for e in chunk])
    return len(texts) / (time.perf_counter() - start)


def accuracy(model: TopicClassifier, group: list[Example]) -> tuple[float, float, float]:
    """Return (top-1 leaf accuracy, mean pieces fed, share truncated) over the group."""
    hits, tokens, cut = 0, [], 0
    for line in sorted({e.line for e in group}):
        rows = [e for e in group if e.line == line]
        predictions = model.predict(
            [e.text for e in rows], line, dialogues=[e.dialogue for e in rows]
        )
        hits += sum(p.top.path == e.label for p, e in zip(predictions, rows, strict=True))
        tokens += [p.tokens for p in predictions]
        cut += sum(p.truncated for p in predictions)
    return hits / len(group), statistics.mean(tokens), cut / len(group)


def pieces_per_word(model: TopicClassifier, group: list[Example]) -> float:
    """Return word pieces per whitespace word of the raw texts (before truncation)."""
    pieces = model.encoder.pieces([e.text for e in group])
    return sum(len(p) for p in pieces) / max(sum(len(e.text.split()) for e in group), 1)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Measure every backend on every language; return one row per (backend, language)."""
    examples = test_examples(args.bundle, args.data)
    groups = {
        loc: [e for e in examples if e.locale == loc]
        for loc in sorted({e.locale for e in examples})
    }
    rows = []
    for backend in args.backends:
        model = load_classifier(args.bundle, backend=backend, threads=args.threads)
        for locale, group in groups.items():
            p50, p99 = latency_ms(model, group, args.single)
            acc, tokens, truncated = accuracy(model, group)
            rows.append({
                "backend": backend, "lang": locale, "n": len(group), "p50_ms": p50, "p99_ms": p99,
                "texts_per_s_b32": throughput(model, group, args.batches), "leaf_accuracy": acc,
                "mean_tokens": tokens, "pieces_per_word": pieces_per_word(model, group),
                "truncated": truncated,
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    reference = {r["lang"]: r["leaf_accuracy"] for r in rows if r["backend"] == "torch-fp32"}
    for row in rows:
        if row["lang"] in reference:
            row["accuracy_change_vs_fp32"] = row["leaf_accuracy"] - reference[row["lang"]]
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """Return the rows as the Markdown table docs/benchmarks.md records."""
    out = [
        "| backend | lang | p50 ms | p99 ms | texts/s @32 | leaf acc | vs fp32 (pts) | pieces/word | mean pieces | truncated |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        change = r.get("accuracy_change_vs_fp32")
        out.append(
            f"| {r['backend']} | {r['lang']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['texts_per_s_b32']:.0f} "
            f"| {100 * r['leaf_accuracy']:.1f} | {'' if change is None else f'{100 * change:+.1f}'} "
            f"| {r['pieces_per_word']:.2f} | {r['mean_tokens']:.1f} | {100 * r['truncated']:.1f}% |"
        )
    return "\n".join(out)


def main() -> None:
    """Parse the arguments, run, print the table (and write JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--data", type=Path, help="Folder with test.jsonl (default: the bundle's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--backends", nargs="+", default=["torch-fp32", *[b for b in BACKENDS if b != "torch-fp32"]]
    )
    parser.add_argument("--single", type=int, default=200, help="Single-text predictions timed")
    parser.add_argument("--batches", type=int, default=8, help="Batches of 32 timed")
    parser.add_argument("--json", type=Path, help="Also write the rows here")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    rows = run(args)
    print(f"load average after: {os.getloadavg()}")
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
