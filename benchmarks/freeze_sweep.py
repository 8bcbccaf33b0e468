"""Accuracy against wall time of the CPU fine-tune, for several counts of frozen bottom layers.

    python benchmarks/freeze_sweep.py --config training/configs/corpus.json --layers 6,5,4,3 \
        --out var/bundles/sweep [--set epochs=3 ...]

Trains one bundle per N with `autoreply train --config CONFIG --set freeze_layers=N` (N = 6 is
the frozen encoder, heads only, through the same path), then prints one row per run from the
bundle it wrote: wall time, test leaf accuracy per language, the TF-IDF baseline trained beside
it, the guard's accuracy, and the decisions replayed on test (coverage, agreement, unsafe).
`--summarize-only` prints the rows of bundles already written.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def baseline_by_locale(metrics: dict[str, Any]) -> dict[str, float]:
    """Return the TF-IDF baseline's leaf accuracy per language, pooled over lines by size."""
    hits: dict[str, float] = {}
    counts: dict[str, int] = {}
    for line in metrics.get("baseline", {}).values():
        for locale, figures in line.items():
            n = int(figures.get("n", 0))
            hits[locale] = hits.get(locale, 0.0) + figures["leaf_accuracy"] * n
            counts[locale] = counts.get(locale, 0) + n
    return {loc: hits[loc] / counts[loc] for loc in hits if counts[loc]}


def row(bundle: Path, wall: float | None) -> dict[str, Any]:
    """Return one sweep row from a written bundle."""
    metrics = json.loads((bundle / "metrics.json").read_text())
    decisions_file = bundle / "report" / "decisions.json"
    decisions = json.loads(decisions_file.read_text()) if decisions_file.is_file() else {}
    overall = decisions.get("overall", {})
    return {
        "bundle": str(bundle),
        "wall_s": wall if wall is not None else metrics["training"]["seconds"],
        "accuracy": {k: round(v["leaf_accuracy"], 4) for k, v in metrics["overall"].items()},
        "tfidf": {k: round(v, 4) for k, v in baseline_by_locale(metrics).items()},
        "guard_test": metrics.get("guard", {}).get("test", {}).get("all"),
        "coverage": overall.get("coverage"),
        "agreement": overall.get("agreement"),
        "unsafe": overall.get("unsafe"),
        "replies": overall.get("replies"),
        "guard_recall": decisions.get("guard_recall"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--layers", default="6,5,4,3")
    parser.add_argument("--out", type=Path, default=Path("var/bundles/sweep"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--summarize-only", action="store_true")
    args = parser.parse_args()
    for n in [int(x) for x in args.layers.split(",")]:
        bundle = args.out / f"freeze{n}"
        wall = None
        if not args.summarize_only:
            command = [
                sys.executable, "-m", "cli", "train", "--config", str(args.config),
                "--out", str(bundle), "--set", f"freeze_layers={n}", "--set", "progress=false",
            ]  # fmt: skip
            for pair in args.set:
                command += ["--set", pair]
            started = time.time()
            subprocess.run(command, check=True)
            wall = round(time.time() - started, 1)
        print(json.dumps({"freeze_layers": n, **row(bundle, wall)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
