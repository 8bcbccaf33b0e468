"""Two processes on one PostgreSQL without Redis, each ticket sent to both at once: one decision."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.faults.conftest import recorded, worked_ticket
from tests.faults.harness import Outcome, report, running_service, send, service_env

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.slow]
# Three tickets per customer and a cap of one: the race's losers meet the cap and hand off.
TICKETS = [worked_ticket(f"R-{i}", customer=i % 6) for i in range(18)]


def both_at_once(urls: list[str], ticket: dict) -> list[Outcome]:
    """Send one ticket to every process at the same instant."""
    start = threading.Barrier(len(urls))

    def one(url: str) -> Outcome:
        with httpx.Client(base_url=url, timeout=30) as client:
            start.wait()
            return send(client, "/v1/autoreply", ticket)

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(one, urls))


def test_two_processes_without_redis_agree_on_every_ticket(bundle, postgres_url, tmp_path):
    env = service_env(bundle, postgres_url, None, AUTOREPLY_PROMO_CAP="1")
    with (
        running_service(env, tmp_path / "a.log") as a,
        running_service(env, tmp_path / "b.log") as b,
    ):
        pairs = [both_at_once([a.url, b.url], ticket) for ticket in TICKETS]

    errors = [o.answer for pair in pairs for o in pair if o.status != 200]
    assert not errors, errors
    assert all(one.answer == other.answer for one, other in pairs)
    codes = recorded(postgres_url)["codes"]
    assert len(codes) == 6 and max(Counter(c for _, c, _ in codes).values()) == 1
    report("two_processes_without_redis", tickets=len(pairs), requests=2 * len(pairs), errors=0)
