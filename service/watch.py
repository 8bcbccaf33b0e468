"""Following the registry's pointers: reload the model when the version `current` names changes,
and the challenger when the version `shadow` names does (or drop it when that pointer goes).

Off unless AUTOREPLY_BUNDLE_WATCH_S is set: each check is one `realpath` of each directory, and a
change goes through the same refusing, atomic swap as `POST /v1/admin/reload`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from service.errors import ReloadRefused
from service.reload import reload_versions
from service.shadow import challenger_target, refresh_challenger
from service.state import AppState

log = logging.getLogger("autoreply")
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


async def watch_pointer(watch: PointerWatch, interval_s: float) -> None:
    """Check the pointers every `interval_s` seconds, off the event loop, until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(watch.check)
        await asyncio.to_thread(watch.check_challenger)


def pointer_lifespan(state: AppState) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return the app's lifespan: the pointer watch runs beside it when the setting asks, and the
    shadow scorings still pending at shutdown get a moment to be recorded."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interval = state.settings.bundle_watch_s
        task = (
            asyncio.create_task(watch_pointer(PointerWatch(state), interval))
            if interval > 0
            else None
        )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(state.shadow.close, SHADOW_DRAIN_S)

    return lifespan
