"""Following the registry's `current` pointer: reload the model when the version it names changes.

Off unless AUTOREPLY_BUNDLE_WATCH_S is set: each check is one `realpath` of the bundle directory,
and a change goes through the same refusing, atomic swap as `POST /v1/admin/reload`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.errors import ReloadRefused
from service.reload import reload_versions
from service.state import AppState

log = logging.getLogger("autoreply")


class PointerWatch:
    """Remembers where the bundle directory led last time and reloads when it leads elsewhere."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.seen = os.path.realpath(state.settings.bundle_dir)

    def check(self) -> str | None:
        """Reload the model if the pointer moved; return the new model version (None: no swap).

        A refused bundle is logged once and the old model keeps serving.
        """
        target = os.path.realpath(self.state.settings.bundle_dir)
        if target == self.seen:
            return None
        self.seen = target
        try:
            versions = reload_versions(
                self.state, rules=False, model=True, rulebook_dir=None, bundle_dir=None
            )
        except ReloadRefused as exc:
            log.warning("bundle pointer moved to %s; %s", target, exc.message)
            return None
        log.info("bundle pointer moved to %s; now serving %s", target, versions["model_version"])
        return str(versions["model_version"])


async def watch_pointer(watch: PointerWatch, interval_s: float) -> None:
    """Check the pointer every `interval_s` seconds, off the event loop, until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(watch.check)


@asynccontextmanager
async def watching_pointer(state: AppState) -> AsyncIterator[None]:
    """Run the pointer watch beside the app when the setting asks for it."""
    interval = state.settings.bundle_watch_s
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(watch_pointer(PointerWatch(state), interval))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
