"""The cache, locks and rate counters: in-process, on a real Redis, and with Redis unreachable."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from service.cache import LocalStore, Store


def test_local_store_evicts_least_recently_used_and_expires():
    store = LocalStore(max_entries=2)
    store.set("a", "1", 60)
    store.set("b", "2", 60)
    store.get("a")
    store.set("c", "3", 60)
    assert store.get("b") is None and store.get("a") == "1"
    store.set("d", "4", 0.01)
    time.sleep(0.02)
    assert store.get("d") is None


def test_local_lock_is_exclusive_even_while_it_is_handed_over():
    # Many threads released at once: a lock dropped from the table while others wait on it
    # would let a newcomer in beside a waiter.
    store = LocalStore(10)
    inside, overlaps = [], []
    start = threading.Barrier(20)

    def work():
        start.wait()
        for _ in range(20):
            with store.lock("t", 30) as got:
                assert got
                overlaps.append(len(inside))
                inside.append(1)
                time.sleep(0.0005)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [0] * 400 and store._locks == {}


@pytest.mark.redis
def test_redis_store_round_trip_lock_and_counter(redis_url):
    store = Store(redis_url, 10)
    store.set_json("k", {"x": [1, "два"]}, 60)
    assert store.get_json("k") == {"x": [1, "два"]}
    with store.lock("lock:t", 1) as first:
        assert first
        other = Store(redis_url, 10)
        with other.lock("lock:t", 0.05) as second:
            assert second is False
    assert [store.hit("key") for _ in range(3)] == [1, 2, 3]
    assert store.redis_up


def test_unreachable_redis_falls_back_in_process():
    store = Store("redis://127.0.0.1:1/0", 10, retry_after_s=60)
    store.set_json("k", 1, 60)
    assert store.get_json("k") == 1
    with store.lock("t", 1) as got:
        assert got
    assert store.hit("key") == 1 and store.redis_up is False


@pytest.mark.redis
def test_a_held_redis_lock_outlives_its_lease_while_renewed(redis_url):
    store, other = Store(redis_url, 10, lease_s=0.3), Store(redis_url, 10, lease_s=0.3)
    with store.lock("lock:long", 1) as held:
        assert held
        time.sleep(1.0)  # three leases: only the renewals keep it
        with other.lock("lock:long", 0.05) as second:
            assert second is False
    with other.lock("lock:long", 0.05) as after:
        assert after


HOLD_AND_HANG = """
import sys, time
from service.cache import Store
with Store(sys.argv[1], 10).lock("lock:dead", 30) as held:
    print("held" if held else "missed", flush=True)
    time.sleep(120)
"""


@pytest.mark.redis
def test_a_killed_holders_lock_is_taken_over_within_one_lease(redis_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_HANG, redis_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        holder.send_signal(signal.SIGKILL)
        holder.wait(5)
        started = time.monotonic()
        with Store(redis_url, 10).lock("lock:dead", 30) as taken:
            waited = time.monotonic() - started
        assert taken and waited < 1.0, waited
    finally:
        holder.kill()
