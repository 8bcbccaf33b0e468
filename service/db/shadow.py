"""The challenger's shadow decisions: recorded one per scored ticket, read back for comparison."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, insert, or_, select
from sqlalchemy.orm import Session

from service.db.repository import utcnow
from service.db.tables import Feedback, ShadowDecision


def add_shadow_decision(session: Session, *, record: dict[str, Any]) -> None:
    """Insert what the challenger would have decided on one ticket (the caller commits)."""
    table = cast(Table, ShadowDecision.__table__)
    session.execute(insert(table), {**record, "created_at": utcnow()})


def latest_challenger(session: Session) -> str | None:
    """Return the challenger scored most recently, or None when none ever was."""
    query = select(ShadowDecision.challenger_version).order_by(
        ShadowDecision.created_at.desc(), ShadowDecision.id.desc()
    )
    return session.scalars(query.limit(1)).first()


def comparison_rows(
    session: Session, *, challenger: str, since: datetime | None = None
) -> Sequence[Any]:
    """Return one challenger's shadow decisions, oldest first, each with every agent action on
    its ticket (a template sent or an escalation; none: NULLs):

    (row id, ticket id, champion version, champion template, champion would reply, challenger
    template, challenger would reply, agent template, edited, escalated)
    """
    acted = and_(
        Feedback.ticket_id == ShadowDecision.ticket_id,
        or_(Feedback.template_id.is_not(None), Feedback.escalated.is_(True)),
    )
    query = (
        select(
            ShadowDecision.id,
            ShadowDecision.ticket_id,
            ShadowDecision.champion_version,
            ShadowDecision.champion_template,
            ShadowDecision.champion_reply,
            ShadowDecision.template_id,
            ShadowDecision.would_reply,
            Feedback.template_id,
            Feedback.edited,
            Feedback.escalated,
        )
        .outerjoin(Feedback, acted)
        .where(ShadowDecision.challenger_version == challenger)
        .order_by(ShadowDecision.created_at, ShadowDecision.id, Feedback.created_at, Feedback.id)
    )
    if since is not None:
        query = query.where(ShadowDecision.created_at >= since)
    return session.execute(query).all()
