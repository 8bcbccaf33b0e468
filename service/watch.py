"""Reloads a worker follows without being asked over HTTP.

- The registry's pointers: reload the model when the version `current` names changes, and the
  challenger when the version `shadow` names does (or drop it when that pointer goes). Off
  unless AUTOREPLY_BUNDLE_WATCH_S is set: each check is one `realpath` of each directory, and a
  change goes through the same refusing, atomic swap as `POST /v1/admin/reload`.
- With worker processes, the admin reloads another worker announced (`service.reload`),
  checked every `FOLLOW_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from service.errors import ReloadRefused
from service.reload import announced_reload, reload_versions
from service.shadow import challenger_target, refresh_challenger
from service.state import AppState

log = logging.getLogger("autoreply")
FOLLOW_S = 1.0
SHADOW_DRAIN_S = 5.0  # at shutdown: shadow scorings still queued past this are dropped


class PointerWatch:
    """Remembers where the bundle and challenger directories led last time and reloads when one
    leads elsewhere."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.seen = os.path.realpath(state.settings.bundle_dir)
        self.challenger_seen = challenger_target(state.settings)

    def check(self) -> str | None:
        """Reload the model if the pointer moved; return the new model version (None: no swap).

        A refused bundle is logged once and the old model keeps serving.
        """
        target = os.path.realpath(self.state.settings.bundle_dir)
        if target == self.seen:
            return None
        self.seen = target
        challenger = challenger_target(self.state.settings)  # the reload follows it too
        try:
            versions = reload_versions(
                self.state, rules=False, model=True, rulebook_dir=None, bundle_dir=None
            )
        except ReloadRefused as exc:
            log.warning("bundle pointer moved to %s; %s", target, exc.message)
            return None
        log.info("bundle pointer moved to %s; now serving %s", target, versions["model_version"])
        self.challenger_seen = challenger
        return str(versions["model_version"])

    def check_challenger(self) -> str | None:
        """Reload the challenger if its pointer moved, or drop it if the pointer went; return the
        challenger's version after a move (None: no move, or no challenger now)."""
        target = challenger_target(self.state.settings)
        if target == self.challenger_seen:
            return None
        self.challenger_seen = target
        state = self.state
        version = refresh_challenger(
            state.challenger, state.settings, state.rulebooks.current.topics
        )
        state.publish_versions()
        return version


@asynccontextmanager
async def running_every(interval_s: float, check: Callable[[], object]) -> AsyncIterator[None]:
    """Run `check` every `interval_s` seconds, off the event loop, beside the body of the `with`."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await asyncio.to_thread(check)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def watching_pointer(state: AppState) -> AsyncIterator[None]:
    """Run the pointer watch (model and challenger) beside the app when the setting asks."""
    interval = state.settings.bundle_watch_s
    if interval <= 0:
        yield
        return
    watch = PointerWatch(state)

    def check() -> None:
        watch.check()
        watch.check_challenger()

    async with running_every(interval, check):
        yield


def follow_reloads(state: AppState) -> None:
    """Make the last reload another worker announced, if this worker has not made it yet."""
    run_dir = state.settings.run_dir
    announced = announced_reload(run_dir) if run_dir is not None else None
    if announced is None or announced[0] <= state.reload_generation:
        return
    generation, request = announced
    state.reload_generation = generation
    try:
        versions = reload_versions(state, **request)
    except ReloadRefused as exc:  # refused here though another worker took it: say so, keep serving
        log.error("an announced reload was refused in this worker: %s", exc.message)
        return
    log.info("followed another worker's reload; now serving %s", versions)


@asynccontextmanager
async def following_reloads(state: AppState) -> AsyncIterator[None]:
    """Follow the other workers' reloads beside the app, from its start (no-op in one process)."""
    if state.settings.run_dir is None:
        yield
        return
    await asyncio.to_thread(follow_reloads, state)
    async with running_every(FOLLOW_S, partial(follow_reloads, state)):
        yield
