"""Load benchmark: /v1/suggest on 127.0.0.1 against the bare classifier on the same texts.

Usage:
  python benchmarks/load_suggest.py --bundle var/bundles/current --corpus var/corpus \\
      [--workers 1,2] [--variant 'one-session:AUTOREPLY_INFERENCE_LANES=1'] \\
      [--duration 20] [--rss-requests 10000]

1. Bare model: single-text latency p50/p99 and texts/s one at a time and in batches of 32 (texts
   grouped by line and length), onnx-int8 on every core, in this process, before the services
   start and after they stop (the ratios use the mean of the two).
2. Each service configuration in turn (one per worker count in `--workers`: 1 is one process
   with its inference lanes, N is N worker processes; then each `--variant NAME:K=V,...`) is
   started with `autoreply serve` (SQLite, prediction cache off so every request runs the
   model, rate limit off); wrk drives /v1/suggest at concurrency 1, 8 and 32 with the same
   tickets (each request a different ticket, cycling), then at 8 until the service has answered
   `--rss-requests` requests, and the resident memory of its processes is read (RSS and PSS,
   each process and summed). Settings not given are the service's defaults (queue-time
   shedding on); `--env K=V` passes more to every configuration.

Prints JSON: every figure, the machine's load average before and after, the ratios and which
target each configuration meets (c1 p50 <= 1.5x bare p50; c8 answered/s >= 0.80 of the bare
best texts/s; c32 p99 <= 300 ms with every 503 carrying Retry-After; RSS <= 180 MB). p50/p99 are
wrk's, over every answer (503s included).
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
local threads = {}
statuses = {}
retry_after = 0
setup = function(thread) threads[#threads + 1] = thread end
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/suggest", {["Content-Type"] = "application/json", ["X-API-Key"] = "%s"},
                    bodies[(i %% #bodies) + 1])
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and (headers["Retry-After"] or headers["retry-after"]) then
    retry_after = retry_after + 1
  end
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("STATUS %%d %%d\\n", status, count))
    end
    io.write(string.format("RETRY_AFTER %%d\\n", thread:get("retry_after")))
  end
end
"""
TARGETS = {"c1_ratio_max": 1.5, "c8_ratio_min": 0.80, "c32_p99_ms_max": 300, "rss_mb_max": 180}


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


def wait_ready(url: str, timeout_s: float = 180) -> None:
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


def run_wrk(url: str, script: Path, connections: int, duration: float) -> dict[str, Any]:
    """Run wrk; return requests/s, p50/p99 latency, answers by status and 503s with Retry-After."""
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
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
    statuses: dict[str, int] = {}
    for status, count in re.findall(r"^STATUS (\d+) (\d+)", out, flags=re.M):
        statuses[status] = statuses.get(status, 0) + int(count)
    value, unit = re.search(r"requests in ([\d.]+)(ms|s|m)\b", out).groups()  # type: ignore[union-attr]
    seconds = float(value) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "ok_per_s": round(statuses.get("200", 0) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(_ms(percentiles["50"]), 2),
        "p99_ms": round(_ms(percentiles["99"]), 2),
        "statuses": statuses,
        "shed_with_retry_after": sum(
            int(n) for n in re.findall(r"^RETRY_AFTER (\d+)", out, flags=re.M)
        ),
    }


def process_tree(pid: int) -> list[int]:
    """Return `pid` and every process descended from it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def memory_mb(pid: int) -> dict[str, Any]:
    """Return the RSS and PSS of the service's processes (each, and summed), in MB."""
    each = []
    for member in process_tree(pid):
        try:
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", rollup, flags=re.M))
        each.append(
            {
                "pid": member,
                "rss_mb": round(int(fields["Rss"]) / 1024, 1),
                "pss_mb": round(int(fields["Pss"]) / 1024, 1),
            }
        )
    return {
        "rss_mb": round(sum(p["rss_mb"] for p in each), 1),
        "pss_mb": round(sum(p["pss_mb"] for p in each), 1),
        "processes": each,
    }


def answered(url: str) -> int:
    """Return how many /v1/suggest requests the service has answered (from /metrics)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:  # noqa: S310 (local URL)
        text = answer.read().decode()
    counts = re.findall(
        r'^autoreply_http_requests_total\{[^}]*route="/v1/suggest"[^}]*\} (\S+)', text, flags=re.M
    )
    return int(sum(float(c) for c in counts))


def variants(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """Return the service configurations to measure: one per worker count, then each --variant."""
    out = {f"workers={w}": {"AUTOREPLY_WORKERS": str(w)} for w in args.workers}
    for variant in args.variant:
        name, _, settings = variant.partition(":")
        out[name] = dict(kv.split("=", 1) for kv in settings.split(",") if kv)
    return out


def measure_service(
    args: argparse.Namespace, script: Path, tmp: Path, name: str, settings: dict[str, str]
) -> dict[str, Any]:
    """Start the service with `settings`, load it, read its memory, stop it."""
    env = {
        **os.environ,
        "AUTOREPLY_BUNDLE_DIR": str(args.bundle),
        "AUTOREPLY_BACKEND": args.backend,
        "AUTOREPLY_DATABASE_URL": args.database_url
        or f"sqlite:///{tmp}/load-{len(os.listdir(tmp))}.db",
        "AUTOREPLY_CACHE_SIZE": "0",
        "AUTOREPLY_RATE_LIMIT_PER_MINUTE": "10000000",
        **dict(kv.split("=", 1) for kv in args.env),
        **settings,
    }
    command = [sys.executable, "-m", "cli", "serve", "--port", str(args.port)]
    log_path = tmp / f"{name}.log"  # kept so an unexpected status can be explained
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(url)
        run_wrk(url, script, 1, 3)  # warm-up
        figures: dict[str, Any] = {
            f"c{c}": run_wrk(url, script, c, args.duration) for c in args.concurrency
        }
        done = answered(url)
        if done < args.rss_requests:  # more load at 8 until the service has answered enough
            rate = max(figures.get("c8", {}).get("ok_per_s", 50.0), 10.0)
            run_wrk(url, script, 8, (args.rss_requests - done) / rate + 1)
        figures["memory"] = {"after_requests": answered(url), **memory_mb(server.pid)}
        unexpected = [
            status
            for run in figures.values()
            for status in run.get("statuses", {})
            if status not in ("200", "503")
        ]
        if unexpected:  # what the service logged about them (errors are logged without content)
            figures["service_log_tail"] = log_path.read_text(errors="replace").splitlines()[-40:]
        return {"settings": settings, **figures}
    finally:
        server.terminate()
        server.wait(timeout=60)


def verdicts(service: dict[str, Any], bare: dict[str, float]) -> dict[str, Any]:
    """Return the ratios to the bare model and whether each target is met."""
    out: dict[str, Any] = {}
    if "c1" in service:
        out["c1_p50_over_bare_p50"] = round(service["c1"]["p50_ms"] / bare["p50_ms"], 2)
        out["c1_met"] = out["c1_p50_over_bare_p50"] <= TARGETS["c1_ratio_max"]
    if "c8" in service:
        out["c8_ok_per_s_over_bare_best"] = round(
            service["c8"]["ok_per_s"] / bare["best_texts_per_s"], 2
        )
        out["c8_met"] = out["c8_ok_per_s_over_bare_best"] >= TARGETS["c8_ratio_min"]
    if "c32" in service:
        c32 = service["c32"]
        shed = int(c32["statuses"].get("503", 0))
        out["c32_met"] = (
            c32["p99_ms"] <= TARGETS["c32_p99_ms_max"] and shed == c32["shed_with_retry_after"]
        )
    out["rss_met"] = service["memory"]["rss_mb"] <= TARGETS["rss_mb_max"]
    return out


def bundle_parser(doc: str | None) -> argparse.ArgumentParser:
    """Return a benchmark's argument parser with its --bundle and --corpus (the tickets)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, default=Path("var/bundles/current"))
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus"))
    return parser


def main() -> None:
    """Measure the bare model, then each service configuration with wrk; print the figures."""
    parser = bundle_parser(__doc__)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 8, 32]
    )
    parser.add_argument(
        "--workers",
        type=lambda s: [int(w) for w in s.split(",") if w],
        default=[1, 2],
        help="Worker counts to compare, one service each (default: 1,2; '' for none).",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="One more service to measure with these settings, e.g. "
        "'one-session:AUTOREPLY_INFERENCE_LANES=1' (repeatable).",
    )
    parser.add_argument(
        "--rss-requests",
        type=int,
        default=10_000,
        help="Requests answered before the memory is read.",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="More settings for every service, e.g. AUTOREPLY_QUEUE_TARGET_MS=0.",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--database-url", default="", help="Default: a fresh SQLite file (the embedded setup)."
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    tickets = load_tickets(args.corpus, args.tickets, seed=7)
    before = bare_model(args.bundle, args.backend, tickets)
    figures: dict[str, Any] = {
        "backend": args.backend,
        "tickets": len(tickets),
        "load_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        bodies = Path(tmp) / "bodies.jsonl"
        bodies.write_text(
            "\n".join(json.dumps(t, ensure_ascii=False) for t in tickets) + "\n", encoding="utf-8"
        )
        script = Path(tmp) / "suggest.lua"
        script.write_text(LUA % (bodies, KEY), encoding="utf-8")
        services = {
            name: measure_service(args, script, Path(tmp), name, settings)
            for name, settings in variants(args).items()
        }
    # This machine's speed drifts by +-20% over minutes (a shared VM): the bare model is measured
    # before and after the services, and the ratios use the mean of the two.
    after = bare_model(args.bundle, args.backend, tickets)
    bare = {key: round((before[key] + after[key]) / 2, 2) for key in before}
    figures["bare_model"] = {"before": before, "after": after, "mean": bare}
    figures["services"] = {
        name: {**s, "verdicts": verdicts(s, bare)} for name, s in services.items()
    }
    figures["load_after"] = os.getloadavg()
    figures["targets"] = TARGETS
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
