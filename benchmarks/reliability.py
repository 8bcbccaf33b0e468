"""Reliability runs too long for CI: shedding throughput, 20,000 fuzz cases, a soak, 50 reloads.

Usage (PostgreSQL and Redis as for the tests: AUTOREPLY_TEST_POSTGRES_URL, _REDIS_URL):
  python benchmarks/reliability.py shed    --bundle var/bundles/current [--duration 20]
  python benchmarks/reliability.py fuzz    --bundle var/bundles/current [--examples 2000]
  python benchmarks/reliability.py soak    --bundle var/bundles/current [--duration 600]
  python benchmarks/reliability.py reloads --bundle var/bundles/current [--reloads 50]

Each starts `autoreply serve` as a process on a loopback port (the fault tests' harness,
tests/faults/harness.py), drives it, and prints one JSON object with every figure.
docs/reliability.md records the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fault tests' harness

from service.schemas import WORKED_EXAMPLE
from service.settings import DEV_API_KEY
from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.faults.harness import running_service, service_env
from tests.faults.test_fuzz import fuzz

Request = Callable[[int], tuple[str, dict[str, Any]]]


def ticket(i: int, prefix: str) -> dict[str, Any]:
    """Return the worked example as a fresh ticket; distinct words so the model runs each time."""
    text = f"{WORKED_EXAMPLE['text']} (order {i} {uuid.uuid4().hex[:6]})"
    return {**WORKED_EXAMPLE, "id": f"{prefix}-{i}", "customer_id": f"c-{i}", "text": text}


def mixed(prefix: str) -> Request:
    """Three autoreplies to one suggest, each a new ticket."""
    return lambda i: ("/v1/suggest" if i % 4 == 3 else "/v1/autoreply", ticket(i, prefix))


async def _client(port: int, request: Request, counter: Iterator[int], until: float, out: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < until:
        route, body = request(next(counter))
        payload = json.dumps(body).encode()
        head = (
            f"POST {route} HTTP/1.1\r\nHost: b\r\nX-API-Key: {DEV_API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        started = time.monotonic()
        writer.write(head.encode() + payload)
        status = int((await reader.readline()).split()[1])
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            length = int(value) if name.lower() == "content-length" else length
            close = close or (name.lower() == "connection" and "close" in value)
        await reader.readexactly(length)
        out.append((status, started, time.monotonic()))
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()


def drive(url: str, request: Request, concurrency: int, duration: float) -> list[tuple]:
    """Closed-loop load: `concurrency` keep-alive clients for `duration` s; (status, start, end)."""
    port, counter, out = int(url.rsplit(":", 1)[1]), iter(range(10**9)), []
    until = time.monotonic() + duration

    async def run() -> None:
        await asyncio.gather(
            *(_client(port, request, counter, until, out) for _ in range(concurrency))
        )

    asyncio.run(run())
    return out


def summary(results: list[tuple], duration: float) -> dict[str, Any]:
    """Return requests/s answered 200, shed (503) per second, other statuses, latency p50/p99."""
    ok = sorted(end - start for status, start, end in results if status == 200)
    q = statistics.quantiles(ok, n=100) if len(ok) > 1 else [0.0] * 99
    return {
        "requests": len(results),
        "not_ok": sum(1 for s, *_ in results if s != 200),
        "ok_per_s": round(len(ok) / duration, 1),
        "shed_per_s": round(sum(1 for s, *_ in results if s == 503) / duration, 1),
        "other": sorted({s for s, *_ in results} - {200, 503}),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
    }


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"autoreply_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def shed(args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """Requests/s unshed at concurrency 8, then past an in-flight limit of 8: at concurrency 32
    with and without the admission queue, and at 128 (past the queue too); probes sent meanwhile
    must all get 200."""
    figures: dict[str, Any] = {}
    runs = {
        "unshed_c8": ({}, 8),
        "limit8_queue_c32": ({"AUTOREPLY_MAX_INFLIGHT": "8"}, 32),
        "limit8_no_queue_c32": ({"AUTOREPLY_MAX_INFLIGHT": "8", "AUTOREPLY_MAX_QUEUED": "0"}, 32),
        "limit8_queue_c128": ({"AUTOREPLY_MAX_INFLIGHT": "8"}, 128),
    }
    for name, (extra, concurrency) in runs.items():
        env = service_env(
            args.bundle, f"sqlite:///{log.parent / (name + '.db')}", None,
            AUTOREPLY_CACHE_SIZE="0", **extra,
        )  # fmt: skip
        with running_service(env, log) as service:
            drive(service.url, mixed(f"w{name}"), concurrency, 3)  # warm up
            probes: list[int] = []
            with probing(service.url, probes):
                results = drive(service.url, mixed(name), concurrency, args.duration)
            figures[name] = summary(results, args.duration)
            figures[name]["probes_not_200"] = sum(1 for s in probes if s != 200)
            figures[name]["probes"] = len(probes)
    return figures


@contextmanager
def probing(url: str, statuses: list[int]) -> Iterator[None]:
    """Send /healthz and /readyz alternately, twice a second, while the `with` runs."""
    import threading

    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while not stop.wait(0.5):
                for path in ("/healthz", "/readyz"):
                    try:
                        statuses.append(client.get(path).status_code)
                    except httpx.HTTPError:
                        statuses.append(0)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def fuzz_run(args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """`--examples` cases per operation and mode (positive, negative) on PostgreSQL and Redis."""
    with (
        fresh_postgres() as url,
        running_service(service_env(args.bundle, url, REDIS_URL), log) as s,
    ):
        started = time.monotonic()
        cases = fuzz(s.url, args.examples)
        return {"cases": cases, "server_errors": 0, "seconds": round(time.monotonic() - started)}


def soak(args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """A steady mixed load for `--duration` s: errors, RSS at each minute, p99 of each minute."""
    with (
        fresh_postgres() as url,
        running_service(service_env(args.bundle, url, REDIS_URL), log) as s,
    ):
        drive(s.url, mixed("warm"), 4, 10)
        rss, minutes = [round(s.rss_mb(), 1)], []
        for minute in range(max(1, int(args.duration // 60))):
            results = drive(s.url, mixed(f"soak{minute}"), 4, 60)
            minutes.append(summary(results, 60))
            rss.append(round(s.rss_mb(), 1))
    return {
        "requests": sum(m["requests"] for m in minutes),
        "errors": sum(m["not_ok"] for m in minutes),
        "rss_mb": rss,
        "rss_growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 1),
        "p99_ms_by_minute": [m["p99_ms"] for m in minutes],
        "ok_per_s_by_minute": [m["ok_per_s"] for m in minutes],
    }


def reloads(args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """`--reloads` admin reloads of rules and model, with traffic between; RSS before and after."""
    with (
        fresh_postgres() as url,
        running_service(service_env(args.bundle, url, REDIS_URL), log) as s,
    ):
        drive(s.url, mixed("warm"), 2, 5)
        start, samples = round(s.rss_mb(), 1), []
        with httpx.Client(base_url=s.url, headers={"X-API-Key": DEV_API_KEY}, timeout=60) as c:
            for i in range(args.reloads):
                answer = c.post("/v1/admin/reload", json={"rules": True, "model": True})
                assert answer.status_code == 200, answer.text
                drive(s.url, mixed(f"r{i}"), 2, 1)
                samples.append(round(s.rss_mb(), 1))
    return {
        "rss_start_mb": start,
        "rss_peak_mb": max(samples),
        "rss_end_mb": samples[-1],
        "end_vs_start_pct": round(100 * (samples[-1] - start) / start, 1),
        "rss_every_10": samples[9::10],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", choices=["shed", "fuzz", "soak", "reloads"])
    parser.add_argument("--bundle", type=Path, default=Path("var/bundles/current"))
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--reloads", type=int, default=50)
    args = parser.parse_args()
    args.duration = args.duration or {"shed": 20.0, "soak": 600.0}.get(args.run, 0)
    runs = {"shed": shed, "fuzz": fuzz_run, "soak": soak, "reloads": reloads}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        figures = runs[args.run](args, Path(tmp) / "service.log")
    figures["wall_s"] = round(time.monotonic() - started)
    figures["load_average"] = os.getloadavg()
    print(json.dumps({args.run: figures}, indent=1))


if __name__ == "__main__":
    main()
