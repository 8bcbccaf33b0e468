"""Admission: shed load by how long requests queue (CoDel's test), behind a hard cap on the count.

Two queues hold a request back. The door (`Admission`, on the event loop) caps the requests in
flight and those waiting for a slot: a bound on memory, wide enough never to bind in normal load.
The inference lanes (`Lanes`, in the request's thread) are where an overloaded instance really
queues: every ticket waits there for the model. `QueueDelay` watches the waits at the lanes: when
no request has waited less than `target_s` for a whole `interval_s`, the queue is standing (more
work arrives than the model can serve) and the instance is overloaded. Then a newcomer that would
wait past the target is shed at the door, and a request already queued gives up its turn after
`target_s`, both with 503 and `Retry-After`; the first request that waits less than the target
ends it. The latency an
admitted request sees stays near target + interval + its own service time, whatever the load,
and a burst shorter than the interval queues instead of being refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

Clock = Callable[[], float]


class Shed(StrEnum):
    """Why a request was refused with 503 (the `reason` label of `autoreply_shed_total`)."""

    CAPACITY = "capacity"  # past the in-flight and queued caps, after the queue wait
    QUEUE_DELAY = "queue_delay"  # at the door: the lanes' queue stands, it would wait too long
    LANE_WAIT = "lane_wait"  # queued for a lane longer than the instance's patience


class QueueDelay:
    """CoDel's test over the waits for an inference lane: is there a standing queue now?

    Pure: the waits and the clock come in as values, nothing is shed here.
    """

    def __init__(
        self, target_s: float, interval_s: float, patience_s: float, clock: Clock = time.monotonic
    ) -> None:
        self.target_s, self.interval_s, self.patience_s = target_s, interval_s, patience_s
        self.clock = clock
        self._above_since: float | None = None  # first wait over the target since the last under it
        self._last_wait_at = float("-inf")

    @property
    def enabled(self) -> bool:
        """Whether queue-time shedding is on (a target of 0 turns it off)."""
        return self.target_s > 0

    def observe(self, waited_s: float) -> None:
        """Record that a request got its lane after waiting `waited_s` seconds."""
        now = self.clock()
        self._last_wait_at = now
        if waited_s < self.target_s:
            self._above_since = None
        elif self._above_since is None:
            self._above_since = now

    def overloaded(self) -> bool:
        """Return whether every wait for a whole interval was over the target, and recently.

        With no wait recorded for an interval (every request shed, or none arrived) the queue
        has drained: the instance is not overloaded, so it can never stay shut.
        """
        if not self.enabled or self._above_since is None:
            return False
        now = self.clock()
        standing = now - self._above_since >= self.interval_s
        return standing and now - self._last_wait_at < self.interval_s

    def patience(self) -> float:
        """Return how long a request may wait for a lane: the target while overloaded."""
        return self.target_s if self.overloaded() else self.patience_s


class Lanes:
    """At most `lanes` inferences at once (more only thrash), handed over in arrival order; the
    waits feed `QueueDelay`.

    First come, first served: with a plain semaphore a newcomer could take a lane just freed
    before the waiters woke, its short wait read as "no standing queue" while others had waited
    long, and the queue was never cut.
    """

    HELD_WEIGHT = 0.1  # of the latest inference in the running mean of how long a lane is held

    def __init__(self, lanes: int, delay: QueueDelay) -> None:
        self.delay = delay
        self.lanes = lanes
        self.held_s = 0.0  # running mean of an inference's time on its lane
        self._free = lanes
        self._waiters: deque[threading.Event] = deque()
        self._mutex = threading.Lock()
        # A waiter looks again this often: once the queue stands, it gives up after the target
        # even if it started waiting before.
        self._look_s = delay.target_s if delay.enabled else delay.patience_s

    def acquire(self) -> float | None:
        """Take a lane and return how long that took, or None when the wait ran out of patience."""
        started = time.perf_counter()
        with self._mutex:
            turn = None if self._free and not self._waiters else threading.Event()
            if turn is None:
                self._free -= 1
            else:
                self._waiters.append(turn)
        if turn is not None and not self._await(turn, started):
            return None
        waited = time.perf_counter() - started
        self.delay.observe(waited)
        return waited

    def _await(self, turn: threading.Event, started: float) -> bool:
        """Wait for the lane handed to `turn`; False when it gave up first (and was observed)."""
        while not turn.wait(self._look_s):
            waited = time.perf_counter() - started
            if waited < self.delay.patience():
                continue
            with self._mutex:
                if turn.is_set():  # handed a lane as it gave up: take it
                    return True
                self._waiters.remove(turn)
            self.delay.observe(waited)
            return False
        return True

    def expected_wait(self) -> float:
        """Return how long a request arriving now would wait for a lane, from the queue ahead of
        it and the mean time a lane is held (0 while a lane is free)."""
        if self._free:
            return 0.0
        return (len(self._waiters) + 1) * self.held_s / self.lanes

    def refusing(self) -> bool:
        """Whether a newcomer is shed at the door: the queue stands over the target, and this
        newcomer would wait past the target too. The others queue, so the lanes never idle."""
        return self.delay.overloaded() and self.expected_wait() > self.delay.target_s

    def release(self, held_s: float) -> None:
        """Hand the lane to the longest waiter, or free it; it was held `held_s` seconds."""
        with self._mutex:
            self.held_s += self.HELD_WEIGHT * (held_s - self.held_s)
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._free += 1


class Admission:
    """Serving slots at the door: up to `limit` requests at once; the next `queued` wait up to
    `wait_s` for a slot handed over in arrival order, and are shed only then. Requests past those
    are shed after the same wait, without a chance of a slot.

    Waiting is what keeps throughput when shedding: clients refused at once retry at once, and
    answering that storm takes the cores the admitted requests need. A waiting request costs a
    sleeping coroutine, nothing more.
    """

    def __init__(self, limit: int, queued: int, wait_s: float) -> None:
        self.limit, self.queued, self.wait_s = limit, queued, wait_s
        self.inflight = 0
        self._waiters: deque[asyncio.Future[bool]] = deque()

    async def enter(self) -> bool:
        """Take a slot and return True, or return False when the request is to be shed."""
        if self.inflight < self.limit and not self._waiters:
            self.inflight += 1
            return True
        if len(self._waiters) >= self.queued:
            await asyncio.sleep(self.wait_s)
            return False
        slot = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        timer = asyncio.get_running_loop().call_later(self.wait_s, _settle, slot, False)
        try:
            admitted = await slot
        except asyncio.CancelledError:  # the client left; a slot handed over meanwhile passes on
            if slot.done() and not slot.cancelled() and slot.result():
                self.leave()
            raise
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(slot)
        return admitted

    def leave(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(True)
                return
        self.inflight -= 1


def _settle(slot: asyncio.Future[bool], admitted: bool) -> None:
    if not slot.done():
        slot.set_result(admitted)
