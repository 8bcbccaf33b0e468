"""Two worker processes behind one port: both answer, /metrics on either sums both, and an admin
reload made by one is made by the other."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import worked_ticket
from tests.faults.harness import KEY_HEADERS, running_service, service_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def suggest(url: str, i: int) -> int:
    """POST one suggest on a connection of its own (so either worker may take it)."""
    body = worked_ticket(f"W-{i}", customer=i)
    return httpx.post(f"{url}/v1/suggest", json=body, headers=KEY_HEADERS, timeout=30).status_code


def answered(metrics: str) -> float:
    """Return the suggest requests answered 200, as /metrics says."""
    pattern = r'^autoreply_http_requests_total\{[^}]*route="/v1/suggest"[^}]*status="200"\} (\S+)'
    return sum(float(v) for v in re.findall(pattern, metrics, flags=re.M))


def pids_counting(directory: Path) -> set[str]:
    """Return the pids of the workers that have written a counter file."""
    return {f.stem.split("_")[-1] for f in directory.glob("*/metrics/counter_*.db")}


def rulebook_versions(metrics: str) -> dict[str, float]:
    """Return each rulebook version /metrics lists, with its value (1: some worker serves it)."""
    pattern = r'^autoreply_rulebook_info\{version="([^"]+)"\} (\S+)'
    return {v: float(x) for v, x in re.findall(pattern, metrics, flags=re.M)}


def test_two_workers_answer_aggregate_metrics_and_follow_each_others_reloads(
    bundle, book_copy, tmp_path
):
    metrics_root = tmp_path / "metrics"
    env = service_env(
        bundle,
        f"sqlite:///{tmp_path / 'workers.db'}",
        None,
        AUTOREPLY_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_root),
        AUTOREPLY_RELOAD_ROOTS=json.dumps([str(tmp_path)]),
    )
    with running_service(env, tmp_path / "service.log") as service:
        sent, statuses = 0, []
        with ThreadPoolExecutor(8) as pool:
            while len(pids_counting(metrics_root)) < 2 and sent < 400:  # until both have answered
                statuses += pool.map(lambda i: suggest(service.url, i), range(sent, sent + 8))
                sent += 8
        assert statuses == [200] * sent
        assert len(pids_counting(metrics_root)) == 2, "one worker took every request"
        for _ in range(6):  # each scrape may reach either worker: each sums both
            scrape = httpx.get(f"{service.url}/metrics", timeout=10)
            assert scrape.status_code == 200 and answered(scrape.text) == sent
            assert re.search(r"^autoreply_model_info\{.*\} 1\.0$", scrape.text, flags=re.M)
            assert re.search(r"^autoreply_inflight_requests 0\.0$", scrape.text, flags=re.M)
        root = book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_rating < 4.6"))
        body = {"rules": True, "model": False, "rulebook_dir": str(root)}
        reload = httpx.post(f"{service.url}/v1/admin/reload", json=body, headers=KEY_HEADERS)
        new = reload.json()["rulebook_version"]
        deadline = time.monotonic() + 10
        while True:  # both workers serve the new rulebook: every scrape says only it is served
            scrapes = [
                rulebook_versions(httpx.get(f"{service.url}/metrics").text) for _ in range(4)
            ]
            if all({v for v, x in s.items() if x == 1.0} == {new} for s in scrapes):
                break
            assert time.monotonic() < deadline, scrapes
            time.sleep(0.2)
        logs = service.logs()
    assert "AUTOREPLY_REDIS_URL is unset with 2 workers" in logs
    assert list(metrics_root.iterdir()) == []  # the start's fresh directory is gone
