"""Prediction cache, per-ticket locks and rate limits: Redis when configured and up, else in-process.

The in-process cache keeps the objects themselves; only Redis needs them as JSON.

If Redis goes down the service keeps answering: each call falls back to the in-process store and
Redis is retried after a short pause; `redis_up` tells /readyz and the metrics.

A Redis lock is a short lease that a thread renews while the lock is held: a holder that dies
(kill -9, a lost host) frees its tickets within one lease instead of blocking retries.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    import redis

T = TypeVar("T")
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"


class LocalStore:
    """An in-process LRU cache with TTLs, named locks and per-minute counters."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._locks: dict[str, list[Any]] = {}  # name -> [lock, holders and waiters]
        self._counters: dict[str, tuple[int, int]] = {}
        self._mutex = threading.Lock()

    def get(self, key: str) -> Any:
        """Return the cached value, or None when absent or expired."""
        with self._mutex:
            item = self._data.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            self._data.move_to_end(key)
            return item[1]

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        """Cache `value` for `ttl_s` seconds, evicting the least recently used beyond the cap."""
        if self.max_entries == 0:
            return
        with self._mutex:
            self._data[key] = (time.monotonic() + ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    @contextmanager
    def lock(self, name: str, timeout_s: float) -> Iterator[bool]:
        """Hold the named lock; yield False if it could not be taken within `timeout_s`.

        Each name's lock is reference-counted, so it is dropped only once nobody holds or waits
        for it; dropping it earlier would let a newcomer take a fresh lock beside a waiter.
        """
        with self._mutex:
            entry = self._locks.setdefault(name, [threading.Lock(), 0])
            entry[1] += 1
        lock: threading.Lock = entry[0]
        acquired = lock.acquire(timeout=timeout_s)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
            with self._mutex:
                entry[1] -= 1
                if entry[1] == 0:
                    self._locks.pop(name, None)

    def hit(self, key: str, minute: int) -> int:
        """Count one request for `key` in this minute and return the count."""
        with self._mutex:
            seen_minute, count = self._counters.get(key, (minute, 0))
            count = count + 1 if seen_minute == minute else 1
            self._counters[key] = (minute, count)
            return count


class Store:
    """Redis-backed when configured and reachable; the in-process store otherwise."""

    def __init__(
        self,
        redis_url: str | None,
        max_entries: int,
        retry_after_s: float = 5.0,
        lease_s: float = 0.75,
    ) -> None:
        self.local = LocalStore(max_entries)
        self.retry_after_s = retry_after_s
        self.lease_s = lease_s
        self._down_until = 0.0
        # The client library only where Redis is configured: it is 7 MB of a serving process.
        lib = _redis_library() if redis_url else None
        self.errors: tuple[type[Exception], ...] = (lib.RedisError,) if lib else ()
        self.client: redis.Redis | None = (
            lib.Redis.from_url(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25)
            if lib and redis_url
            else None
        )

    @property
    def configured(self) -> bool:
        """Whether a Redis URL was given."""
        return self.client is not None

    @property
    def redis_up(self) -> bool:
        """Whether Redis answers a PING now (False when not configured)."""
        if self.client is None:
            return False
        try:
            return bool(self.client.ping())
        except self.errors:
            return False

    def _redis(self) -> redis.Redis | None:
        if self.client is None or time.monotonic() < self._down_until:
            return None
        return self.client

    def _mark_down(self) -> None:
        self._down_until = time.monotonic() + self.retry_after_s

    @property
    def caching(self) -> bool:
        """Whether anything set is kept (Redis, or an in-process cache with room)."""
        return self.client is not None or self.local.max_entries > 0

    def get(self, key: str, decode: Callable[[Any], T]) -> T | None:
        """Return the value cached under `key`: decoded from Redis' JSON, or the object kept here."""
        client = self._redis()
        if client is not None:
            try:
                raw = client.get(key)
                return None if raw is None else decode(json.loads(raw))
            except self.errors:
                self._mark_down()
        return cast("T | None", self.local.get(key))

    def set(self, key: str, value: T, ttl_s: float, encode: Callable[[T], Any]) -> None:
        """Cache `value` under `key` for `ttl_s` seconds: as JSON of `encode(value)` in Redis,
        as the object itself in process."""
        client = self._redis()
        if client is not None:
            try:
                client.set(key, json.dumps(encode(value), ensure_ascii=False), px=int(ttl_s * 1000))
                return
            except self.errors:
                self._mark_down()
        self.local.set(key, value, ttl_s)

    def get_json(self, key: str) -> Any:
        """Return the JSON value cached under `key`, or None."""
        return self.get(key, _same)

    def set_json(self, key: str, value: Any, ttl_s: float) -> None:
        """Cache the JSON value `value` under `key` for `ttl_s` seconds."""
        self.set(key, value, ttl_s, _same)

    @contextmanager
    def lock(self, name: str, wait_s: float) -> Iterator[bool]:
        """Hold a lock named `name` across processes (Redis) or in this process (fallback).

        Yield False when it could not be taken within `wait_s`. On Redis the lock is a lease of
        `lease_s`, renewed while held, so a dead holder's lock lapses within one lease.
        """
        client = self._redis()
        if client is None:
            with self.local.lock(name, wait_s) as acquired:
                yield acquired
            return
        token = uuid.uuid4().hex
        try:
            acquired = self._acquire(client, name, token, wait_s)
        except self.errors:
            self._mark_down()
            with self.local.lock(name, wait_s) as acquired:
                yield acquired
            return
        lease = _Lease(client, name, token, self.lease_s, self.errors) if acquired else None
        try:
            yield acquired
        finally:
            if lease is not None:
                lease.end()
                try:
                    client.eval(_RELEASE, 1, name, token)
                except self.errors:
                    self._mark_down()

    def _acquire(self, client: redis.Redis, name: str, token: str, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while True:
            if client.set(name, token, nx=True, px=int(self.lease_s * 1000)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def hit(self, key: str) -> int:
        """Count one request for `key` in the current minute and return the count."""
        minute = int(time.time() // 60)
        client = self._redis()
        if client is not None:
            try:
                name = f"rate:{key}:{minute}"
                pipe = client.pipeline()
                pipe.incr(name)
                pipe.expire(name, 120)
                return int(pipe.execute()[0])
            except self.errors:
                self._mark_down()
        return self.local.hit(key, minute)


def _redis_library() -> ModuleType:
    import redis

    return redis


def _same(value: Any) -> Any:
    return value


class _Lease:
    """Renews a held Redis lock every third of its lease, until ended or found lost."""

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        token: str,
        lease_s: float,
        errors: tuple[type[Exception], ...],
    ) -> None:
        self.errors = errors
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, args=(client, name, token, lease_s), daemon=True
        )
        self._thread.start()

    def _renew(self, client: redis.Redis, name: str, token: str, lease_s: float) -> None:
        while not self._ended.wait(lease_s / 3):
            try:
                if not client.eval(_RENEW, 1, name, token, int(lease_s * 1000)):
                    return  # lost (Redis restarted, or a stall past the lease): the database settles
            except self.errors:
                return

    def end(self) -> None:
        """Stop renewing (the caller then releases the lock)."""
        self._ended.set()
        self._thread.join()
