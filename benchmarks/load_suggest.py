"""Load benchmark: /v1/suggest on 127.0.0.1 against the bare classifier on the same texts.

Usage:
  python benchmarks/load_suggest.py --bundle var/bundles/current --corpus var/corpus [--duration 20]

1. Bare model: single-text latency p50/p99 and texts/s one at a time and in batches of 32 (texts
   grouped by line and length), in this process, before the service starts and after it stops
   (the ratios use the mean of the two).
2. The service (`autoreply serve`, SQLite, prediction cache off so every request runs the model)
   is started in a subprocess; wrk drives /v1/suggest at concurrency 1, 8 and 32 with the same
   tickets (each request a different ticket, cycling). Prints JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from models.runtime import load_classifier

KEY = "dev-key-change-me"
LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/suggest", {["Content-Type"] = "application/json", ["X-API-Key"] = "%s"},
                    bodies[(i %% #bodies) + 1])
end
"""


def load_tickets(corpus: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """Return `n` test-split tickets (both languages, both lines), shuffled with `seed`."""
    rows = [
        json.loads(line)
        for line in (corpus / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    random.Random(seed).shuffle(rows)
    return [
        {
            "id": f"L-{i}",
            "line": r["line"],
            "locale": r["locale"],
            "customer_id": f"c-{i % 97}",
            "text": r["text"],
            "dialogue": r.get("dialogue") or [],
            "facts": r.get("facts") or {},
        }
        for i, r in enumerate(rows[:n])
    ]


def bare_model(bundle: Path, backend: str, tickets: list[dict[str, Any]]) -> dict[str, float]:
    """Return the bare classifier's latency and best throughput on the tickets' texts."""
    classifier = load_classifier(bundle, backend=backend)
    for t in tickets[:20]:
        classifier.predict([t["text"]], t["line"])
    latencies = []
    started = time.perf_counter()
    for t in tickets:
        t0 = time.perf_counter()
        classifier.predict([t["text"]], t["line"], dialogues=[t["dialogue"] or None])
        latencies.append(time.perf_counter() - t0)
    single_rate = len(tickets) / (time.perf_counter() - started)
    started = time.perf_counter()
    for line in sorted({t["line"] for t in tickets}):
        ordered = sorted((t for t in tickets if t["line"] == line), key=lambda t: len(t["text"]))
        for i in range(0, len(ordered), 32):
            chunk = ordered[i : i + 32]
            classifier.predict(
                [t["text"] for t in chunk], line, dialogues=[t["dialogue"] or None for t in chunk]
            )
    batch_rate = len(tickets) / (time.perf_counter() - started)
    latencies.sort()
    return {
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2),
        "texts_per_s_single": round(single_rate, 1),
        "texts_per_s_batch32": round(batch_rate, 1),
        "best_texts_per_s": round(max(single_rate, batch_rate), 1),
    }


def wait_ready(url: str, timeout_s: float = 120) -> None:
    """Poll /readyz until the service is ready."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310 (local URL)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service did not become ready")


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path, connections: int, duration: int) -> dict[str, float]:
    """Run wrk and return requests/s, p50/p99 latency and the count of non-2xx answers."""
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, flags=re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": round(_ms(percentiles["50"]), 2),
        "p99_ms": round(_ms(percentiles["99"]), 2),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    """Measure the bare model, start the service, load it with wrk, print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, default=Path("var/bundles/current"))
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus"))
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--max-inflight", type=int, default=64)
    parser.add_argument(
        "--database-url", default="", help="Default: a fresh SQLite file (the embedded setup)."
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    tickets = load_tickets(args.corpus, args.tickets, seed=7)
    before = bare_model(args.bundle, args.backend, tickets)
    figures: dict[str, Any] = {"backend": args.backend, "tickets": len(tickets)}
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "bodies.jsonl"
        bodies.write_text(
            "\n".join(json.dumps(t, ensure_ascii=False) for t in tickets) + "\n", encoding="utf-8"
        )
        script = Path(tmp) / "suggest.lua"
        script.write_text(LUA % (bodies, KEY), encoding="utf-8")
        env = {
            **os.environ,
            "AUTOREPLY_BUNDLE_DIR": str(args.bundle),
            "AUTOREPLY_BACKEND": args.backend,
            "AUTOREPLY_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/load.db",
            "AUTOREPLY_CACHE_SIZE": "0",
            "AUTOREPLY_RATE_LIMIT_PER_MINUTE": "10000000",
            "AUTOREPLY_MAX_INFLIGHT": str(args.max_inflight),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(args.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{args.port}"
            wait_ready(url)
            run_wrk(url, script, 1, 3)  # warm-up
            figures["service"] = {
                f"c{c}": run_wrk(url, script, c, args.duration) for c in (1, 8, 32)
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    # This machine's speed drifts by +-20% over minutes (a shared VM): the bare model is measured
    # before and after the service, and the ratios use the mean of the two.
    after = bare_model(args.bundle, args.backend, tickets)
    bare = {key: round((before[key] + after[key]) / 2, 2) for key in before}
    figures["bare_model"] = {"before": before, "after": after, "mean": bare}
    service = figures["service"]
    figures["ratios"] = {
        "c1_p50_over_bare_p50": round(service["c1"]["p50_ms"] / bare["p50_ms"], 2),
        "c8_rps_over_bare_best": round(
            service["c8"]["requests_per_s"] / bare["best_texts_per_s"], 2
        ),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
