"""The bundle history table: each bundle's registration, promotion, rejection, roll-back, and the
times it was scored in shadow beside the champion."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.repository import utcnow
from service.db.tables import BundleHistory

REGISTERED, PROMOTED, REJECTED, ROLLED_BACK = "registered", "promoted", "rejected", "rolled_back"
SHADOWED, SHADOW_ENDED = "shadowed", "shadow_ended"
# Events after which the version named is the one serving.
SERVING_EVENTS = (PROMOTED, ROLLED_BACK)


@dataclass(frozen=True)
class BundleEvent:
    """What to record about one bundle event (the row's id and time are added on insert)."""

    version: str
    event: str
    actor: str
    reason: str
    data_fingerprint: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] | None = None
    data_cutoff: datetime | None = None


def record_event(session: Session, *, event: BundleEvent) -> BundleHistory:
    """Insert one history row (the caller commits) and return it."""
    row = BundleHistory(
        version=event.version,
        event=event.event,
        actor=event.actor,
        reason=event.reason,
        data_fingerprint=event.data_fingerprint,
        metrics=event.metrics,
        gate=event.gate,
        data_cutoff=event.data_cutoff,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def list_events(session: Session, *, version: str | None = None) -> list[BundleHistory]:
    """Return the history, oldest first (one version's only, when given)."""
    query = select(BundleHistory).order_by(BundleHistory.id)
    if version is not None:
        query = query.where(BundleHistory.version == version)
    return list(session.scalars(query))


def champion_chain(session: Session) -> list[str]:
    """Return the versions that served in turn, a roll-back undoing the promotion before it.

    The last entry serves now; the one before it is what `bundles rollback` restores.
    """
    chain: list[str] = []
    for row in list_events(session):
        if row.event == PROMOTED:
            chain.append(row.version)
        elif row.event == ROLLED_BACK and chain:
            chain.pop()
    return chain


def data_cutoff(session: Session, *, version: str) -> datetime | None:
    """Return the latest feedback time `version` was trained with (None: no feedback known)."""
    cutoffs = [row.data_cutoff for row in list_events(session, version=version) if row.data_cutoff]
    return max(cutoffs) if cutoffs else None


def event_summary(row: BundleHistory) -> dict[str, Any]:
    """Return one history row as plain JSON values."""
    return {
        "id": row.id,
        "version": row.version,
        "event": row.event,
        "actor": row.actor,
        "reason": row.reason,
        "at": row.created_at.isoformat(),
        "data_cutoff": row.data_cutoff.isoformat() if row.data_cutoff else None,
        "data_sha256": row.data_fingerprint.get("sha256"),
        "metrics": row.metrics,
        "gate": row.gate,
    }
