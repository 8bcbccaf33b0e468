"""Queue-time shedding (CoDel's test) on a fake clock, and the lanes that feed it."""

from __future__ import annotations

import threading
import time

import pytest

from service.admission import Lanes, QueueDelay
from tests.service.conftest import headers
from tests.service.test_api import ticket

TARGET, INTERVAL, PATIENCE = 0.05, 0.1, 1.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def delay() -> tuple[QueueDelay, FakeClock]:
    clock = FakeClock()
    return QueueDelay(TARGET, INTERVAL, PATIENCE, clock), clock


def waits(queue: QueueDelay, clock: FakeClock, waited: float, n: int, every: float) -> None:
    for _ in range(n):
        clock.advance(every)
        queue.observe(waited)


def test_a_queue_standing_over_the_target_for_an_interval_overloads():
    queue, clock = delay()
    waits(queue, clock, 0.08, 3, 0.02)  # over the target, but for less than an interval
    assert not queue.overloaded() and queue.patience() == PATIENCE
    waits(queue, clock, 0.08, 4, 0.02)
    assert queue.overloaded() and queue.patience() == TARGET


def test_one_wait_under_the_target_ends_it():
    queue, clock = delay()
    waits(queue, clock, 0.2, 10, 0.02)
    assert queue.overloaded()
    queue.observe(0.01)
    assert not queue.overloaded()
    waits(queue, clock, 0.2, 4, 0.02)  # a fresh interval must pass again
    assert not queue.overloaded()


def test_a_burst_shorter_than_the_interval_queues_instead_of_shedding():
    queue, clock = delay()
    for waited in (0.3, 0.25, 0.2, 0.1, 0.04, 0.3, 0.3):
        clock.advance(0.015)
        queue.observe(waited)
        assert not queue.overloaded()


def test_with_no_wait_recorded_for_an_interval_it_opens_again():
    queue, clock = delay()
    waits(queue, clock, 0.2, 10, 0.02)
    assert queue.overloaded()
    clock.advance(INTERVAL + 0.01)  # everything was shed, or nothing arrived: the queue has drained
    assert not queue.overloaded()


def test_a_target_of_zero_turns_it_off():
    clock = FakeClock()
    queue = QueueDelay(0, INTERVAL, PATIENCE, clock)
    waits(queue, clock, 5.0, 20, 0.02)
    assert not queue.enabled and not queue.overloaded() and queue.patience() == PATIENCE


def test_lanes_report_waits_and_give_up_after_the_patience():
    queue = QueueDelay(TARGET, INTERVAL, 0.2)
    lanes = Lanes(1, queue)
    assert lanes.acquire() is not None  # free: no wait
    started = time.monotonic()
    assert lanes.acquire() is None  # the only lane is held: gives up after 0.2 s
    assert 0.2 <= time.monotonic() - started < 2
    timer = threading.Timer(0.1, lanes.release, args=(0.1,))
    timer.start()
    waited = lanes.acquire()
    timer.join()
    assert waited is not None and 0.05 <= waited < 2


def test_through_the_app_a_standing_queue_is_shed_with_retry_after_and_probes_are_not(
    make_client, monkeypatch
):
    client = make_client(
        inference_lanes=1, queue_target_ms=20, queue_interval_ms=50, queue_wait_s=5
    )
    real_predict = client.classifier.predict

    def slow_predict(*args, **kwargs):
        time.sleep(0.1)  # one lane, 100 ms a ticket: twelve at once make a standing queue
        return real_predict(*args, **kwargs)

    monkeypatch.setattr(client.classifier, "predict", slow_predict)
    answers: list = []

    def send(i: int) -> None:
        answers.append(client.post("/v1/suggest", json=ticket(id=f"T-{i}"), headers=headers()))

    burst = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    started = time.monotonic()
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join(10)
    served = [a for a in answers if a.status_code == 200]
    shed = [a for a in answers if a.status_code == 503]
    assert served and shed and len(served) + len(shed) == 12
    assert all(a.json()["error"] == "overloaded" and a.headers["Retry-After"] == "1" for a in shed)
    assert time.monotonic() - started < 1.0  # not twelve tickets in a row: the queue was cut
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert client.get(probe).status_code == 200, probe
    assert 'autoreply_shed_total{reason="lane_wait"}' in client.get("/metrics").text
    time.sleep(0.1)  # an interval without a standing queue: open again
    assert (
        client.post("/v1/suggest", json=ticket(id="T-after"), headers=headers()).status_code == 200
    )


def test_a_newcomer_is_refused_only_if_the_queue_stands_and_it_would_wait_past_the_target():
    clock = FakeClock()
    lanes = Lanes(2, QueueDelay(TARGET, INTERVAL, 5.0, clock))
    assert lanes.expected_wait() == 0.0  # a lane is free
    for _ in range(2):
        assert lanes.acquire() is not None
    for _ in range(30):
        lanes.release(0.02)  # inferences of 20 ms
        assert lanes.acquire() is not None
    assert lanes.expected_wait() == pytest.approx(0.01, rel=0.05)  # next in line: half of 20 ms
    waits(lanes.delay, clock, 0.08, 8, 0.02)  # a queue standing over the target
    assert lanes.delay.overloaded() and not lanes.refusing()  # but this newcomer would not wait
    lanes._waiters.extend(threading.Event() for _ in range(9))  # nine ahead: 100 ms to wait
    assert lanes.refusing()


def test_lanes_are_handed_over_in_arrival_order():
    lanes = Lanes(1, QueueDelay(TARGET, INTERVAL, 5.0))
    assert lanes.acquire() is not None
    order: list[int] = []

    def wait_turn(i: int) -> None:
        assert lanes.acquire() is not None
        order.append(i)
        lanes.release(0.01)

    waiting = []
    for i in range(5):
        waiting.append(threading.Thread(target=wait_turn, args=(i,)))
        waiting[-1].start()
        time.sleep(0.02)  # each one queued behind the one before
    lanes.release(0.01)
    for thread in waiting:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_the_door_refuses_for_the_lanes_only_what_would_queue_for_them(client, monkeypatch):
    lanes = client.app.state.autoreply.lanes
    monkeypatch.setattr(lanes, "refusing", lambda: True)
    refused = client.post("/v1/suggest", json=ticket(id="T-1"), headers=headers())
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    feedback = {"ticket_id": "T-none", "csat": 5}
    assert client.post("/v1/feedback", json=feedback, headers=headers()).status_code == 404
    assert 'autoreply_shed_total{reason="queue_delay"} 1.0' in client.get("/metrics").text
