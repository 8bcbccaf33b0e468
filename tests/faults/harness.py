"""The service as a real process on a loopback port, and a load of tickets driven against it."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.settings import DEV_API_KEY
from tests.faults.proxy import free_port

KEY_HEADERS = {"X-API-Key": DEV_API_KEY}
START_TIMEOUT_S = 90


@dataclass
class ServiceProcess:
    """One `autoreply serve` process; its stdout and stderr go to `log`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, locks and connections left behind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def rss_mb(self) -> float:
        """Return the process's resident memory in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line) / 1024

    def logs(self) -> str:
        """Return everything the process has written so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def service_env(bundle: Path, database_url: str, redis_url: str | None, **extra: str) -> dict:
    """Return the environment of a test service: one inference lane, the dev key, no proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOREPLY_")}
    env.update(
        AUTOREPLY_ENVIRONMENT="test",
        AUTOREPLY_DATABASE_URL=database_url,
        AUTOREPLY_BUNDLE_DIR=str(bundle),
        AUTOREPLY_INFERENCE_LANES="1",
        AUTOREPLY_INFERENCE_THREADS="1",
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        **extra,
    )
    if redis_url:
        env["AUTOREPLY_REDIS_URL"] = redis_url
    return env


@contextmanager
def running_service(env: dict, log: Path) -> Iterator[ServiceProcess]:
    """Start `autoreply serve` on a free port, wait until /readyz says ready, stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    service = ServiceProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(service)
        yield service
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                service.kill()


def wait_ready(service: ServiceProcess) -> None:
    """Return once /readyz answers 200; fail with the log's tail if the process dies or hangs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise AssertionError(f"the service exited:\n{service.logs()[-3000:]}")
        try:
            if httpx.get(f"{service.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the service was not ready in {START_TIMEOUT_S} s:\n{service.logs()}")


@dataclass(frozen=True)
class Outcome:
    """One request of a load: what was sent, what came back (status 0: no HTTP answer), when."""

    route: str
    body: dict[str, Any]
    status: int
    answer: dict[str, Any] | None
    retry_after: str | None
    started: float
    ended: float


def send(client: httpx.Client, route: str, body: dict[str, Any]) -> Outcome:
    """POST one request and return its outcome; a transport error is status 0."""
    started = time.monotonic()
    try:
        response = client.post(route, json=body, headers=KEY_HEADERS)
    except httpx.HTTPError:
        return Outcome(route, body, 0, None, None, started, time.monotonic())
    try:
        answer = response.json()
    except ValueError:
        answer = None
    retry = response.headers.get("retry-after")
    return Outcome(route, body, response.status_code, answer, retry, started, time.monotonic())


def drive(
    url: str,
    request: Callable[[int], tuple[str, dict[str, Any]]],
    threads: int,
    stop: threading.Event,
) -> list[Outcome]:
    """Send `request(i)` for i = 0, 1, ... from `threads` clients until `stop`; return outcomes."""
    counter, outcomes = itertools.count(), []

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            while not stop.is_set():
                outcomes.append(send(client, *request(next(counter))))

    workers = [threading.Thread(target=client_loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


@contextmanager
def load(
    url: str, request: Callable[[int], tuple[str, dict[str, Any]]], threads: int = 4
) -> Iterator[list[Outcome]]:
    """Drive a load in the background for the body of the `with`; the list fills when it ends."""
    stop, outcomes = threading.Event(), []
    runner = threading.Thread(target=lambda: outcomes.extend(drive(url, request, threads, stop)))
    runner.start()
    try:
        yield outcomes
    finally:
        stop.set()
        runner.join()


def report(run: str, **figures: Any) -> None:
    """Print a run's figures as one line (`pytest tests/faults -s | grep FIGURES`)."""
    print("FIGURES", json.dumps({run: figures}))
