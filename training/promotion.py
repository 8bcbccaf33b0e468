"""Promote, roll back, shadow and list registry bundles, with every step written to the history
table.

The pointer moves only after the history row is flushed, and the row is committed only after the
pointer moved: a failure in between leaves neither (the transaction rolls back).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from models.bundle import load_bundle
from models.registry import POINTER, SHADOW, Registry, RegistryError
from service.comparison import compare_challenger
from service.db.history import (
    PROMOTED,
    REGISTERED,
    ROLLED_BACK,
    SHADOW_ENDED,
    SHADOWED,
    BundleEvent,
    champion_chain,
    event_summary,
    list_events,
    record_event,
)
from service.db.shadow import latest_challenger


def bundle_facts(registry: Registry, version: str) -> dict[str, Any]:
    """Return the history fields a bundle carries itself: data fingerprint and a metrics summary."""
    bundle = load_bundle(registry.path(version), verify_hashes=False)
    summary = {k: bundle.metrics[k] for k in ("overall", "decisions") if k in bundle.metrics}
    return {"data_fingerprint": bundle.data_fingerprint, "metrics": summary}


def register(
    sessions: sessionmaker[Session], registry: Registry, bundle_dir: Any, *, actor: str, reason: str
) -> str:
    """Copy a bundle into the registry, record it, and return its version."""
    version = registry.add(bundle_dir)
    with sessions.begin() as session:
        record_event(
            session,
            event=BundleEvent(
                version, REGISTERED, actor, reason, **bundle_facts(registry, version)
            ),
        )
    return version


def promote(
    sessions: sessionmaker[Session],
    registry: Registry,
    version: str,
    *,
    actor: str,
    reason: str,
    gate: dict[str, Any] | None = None,
    pointer: str = POINTER,
) -> None:
    """Point `current` at `version`, or `shadow` (the challenger services score beside the
    champion, never sent) when `pointer` says so; record who did it and why."""
    event = PROMOTED if pointer == POINTER else SHADOWED
    facts = bundle_facts(registry, version)
    with sessions.begin() as session:
        record_event(session, event=BundleEvent(version, event, actor, reason, gate=gate, **facts))
        registry.point(version, pointer)


def end_shadow(
    sessions: sessionmaker[Session], registry: Registry, *, actor: str, reason: str
) -> str | None:
    """Remove the `shadow` pointer and record it; return the version it named (None: none)."""
    version = registry.shadow()
    if version is None:
        return None
    with sessions.begin() as session:
        record_event(session, event=BundleEvent(version, SHADOW_ENDED, actor, reason))
        registry.unpoint(SHADOW)
    return version


def compare(
    sessions: sessionmaker[Session],
    registry: Registry,
    *,
    challenger: str | None = None,
    since: datetime | None = None,
) -> dict[str, Any]:
    """Return champion against challenger on the tickets scored in shadow (`service.comparison`).

    The challenger is the one named, else the one `shadow` points to, else the latest scored.
    """
    with sessions() as session:
        version = challenger or registry.shadow() or latest_challenger(session)
        if version is None:
            raise RegistryError(
                "nothing was scored in shadow: `autoreply bundles shadow VERSION`, let the "
                "services see traffic (they follow the pointer with AUTOREPLY_BUNDLE_WATCH_S or "
                "on an admin reload), then compare"
            )
        return compare_challenger(session, challenger=version, since=since).as_dict()


def rollback(
    sessions: sessionmaker[Session], registry: Registry, *, actor: str, reason: str
) -> tuple[str, str]:
    """Restore the champion before the current one; return (from version, to version)."""
    with sessions.begin() as session:
        chain = champion_chain(session)
        now = registry.current()
        if len(chain) < 2 or chain[-1] != now:
            raise RegistryError(
                f"nothing to roll back to: the history's champions are {chain or 'none'} and "
                f"`current` names {now}; promote a version by name instead"
            )
        target = chain[-2]
        why = f"rolled back from {now}: {reason}"
        record_event(
            session,
            event=BundleEvent(target, ROLLED_BACK, actor, why, **bundle_facts(registry, target)),
        )
        registry.point(target)
    return now, target


def listing(sessions: sessionmaker[Session], registry: Registry) -> dict[str, Any]:
    """Return the registered versions (current and shadow marked) and each one's history."""
    current, shadowed = registry.current(), registry.shadow()
    with sessions() as session:
        events = [event_summary(row) for row in list_events(session)]
    return {
        "registry": str(registry.root),
        "current": current,
        "shadow": shadowed,
        "versions": [
            {
                "version": v,
                "current": v == current,
                "shadow": v == shadowed,
                "history": [e for e in events if e["version"] == v],
            }
            for v in registry.versions()
        ],
    }
