"""The agent console's queries: the hand-off queue by keyset, a ticket's record, the figures' rows.

Keyword-only functions over a session, like `service.db.repository`; no SQL lives in the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, cast, exists, select, tuple_
from sqlalchemy.orm import Session

from service.db.tables import Decision, Feedback, Ticket

HANDOFF = "handoff"  # shadow-mode decisions are hand-offs too: nothing is sent in shadow mode


@dataclass(frozen=True)
class QueueFilter:
    """What the agent narrowed the queue to; None (or "all") keeps every value."""

    line: str | None = None
    locale: str | None = None
    topic: str | None = None
    reason: str | None = None  # one of the hand-off reasons (checked by the caller)
    mode: str | None = None  # on | shadow | off
    status: str = "open"  # open: no agent acted yet | done | all


@dataclass(frozen=True)
class Cursor:
    """A position in the queue: the newest-first order is (created_at, id) descending."""

    created_at: datetime
    decision_id: str

    def encode(self) -> str:
        """Return the cursor as a URL parameter."""
        return f"{as_utc(self.created_at).isoformat()}~{self.decision_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """Return the cursor a URL parameter names, or None for none or a malformed one."""
        if not raw or "~" not in raw:
            return None
        stamp, decision_id = raw.rsplit("~", 1)
        try:
            return cls(as_utc(datetime.fromisoformat(stamp)), decision_id)
        except ValueError:
            return None


@dataclass(frozen=True)
class QueueRow:
    """One handed-off ticket as the queue lists it."""

    decision_id: str
    ticket_id: str
    created_at: datetime
    line: str
    locale: str
    topic: str | None
    mode: str
    reasons: list[str]
    text: str
    handled: bool

    @property
    def cursor(self) -> Cursor:
        """Return this row's position in the queue."""
        return Cursor(self.created_at, self.decision_id)


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as aware UTC (SQLite hands back naive UTC datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _acted() -> Any:
    """Return the condition "an agent already acted on this decision's ticket"."""
    return exists().where(Feedback.ticket_id == Decision.ticket_id)


def queue_query(filters: QueueFilter) -> Select[Any]:
    """Return the queue's query for these filters, before its keyset condition and order."""
    query = (
        select(
            Decision.id,
            Decision.ticket_id,
            Decision.created_at,
            Ticket.line,
            Ticket.locale,
            Decision.topic,
            Decision.mode,
            Decision.reasons,
            Ticket.text,
            _acted().label("handled"),
        )
        .join(Ticket, Ticket.id == Decision.ticket_id)
        .where(Decision.action == HANDOFF)
    )
    for column, value in (
        (Ticket.line, filters.line),
        (Ticket.locale, filters.locale),
        (Decision.topic, filters.topic),
        (Decision.mode, filters.mode),
    ):
        if value:
            query = query.where(column == value)
    if filters.reason:  # reasons are a JSON list of fixed words: its text holds "word" in quotes
        query = query.where(cast(Decision.reasons, String).like(f'%"{filters.reason}"%'))
    if filters.status == "open":
        query = query.where(~_acted())
    elif filters.status == "done":
        query = query.where(_acted())
    return query


def page_query(
    filters: QueueFilter, *, after: Cursor | None, before: Cursor | None, limit: int
) -> Select[Any]:
    """Return the query of one queue page: `limit` + 1 rows past the cursor, in key order."""
    query = queue_query(filters)
    key = tuple_(Decision.created_at, Decision.id)
    if before is not None:
        query = query.where(key > tuple_(before.created_at, before.decision_id))
        return query.order_by(Decision.created_at, Decision.id).limit(limit + 1)
    if after is not None:
        query = query.where(key < tuple_(after.created_at, after.decision_id))
    return query.order_by(Decision.created_at.desc(), Decision.id.desc()).limit(limit + 1)


def queue_page(
    session: Session,
    *,
    filters: QueueFilter,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 25,
) -> tuple[list[QueueRow], bool]:
    """Return up to `limit` hand-offs newest first, older than `after` or newer than `before`,
    and whether more lie beyond them in that direction.

    Keyset pagination: the position is a (created_at, id) pair an index is ordered by, so a page
    deep in 100k decisions costs what the first does.
    """
    query = page_query(filters, after=after, before=before, limit=limit)
    rows = [QueueRow(*row) for row in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return (rows[::-1] if before is not None else rows), more


def ticket_record(
    session: Session, *, decision_id: str
) -> tuple[Decision, Ticket, list[Feedback]] | None:
    """Return a decision with its ticket and the feedback on that ticket, oldest first."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        return None
    ticket = session.get(Ticket, decision.ticket_id)
    if ticket is None:
        return None
    feedback = session.scalars(
        select(Feedback)
        .where(Feedback.ticket_id == ticket.id)
        .order_by(Feedback.created_at, Feedback.id)
    ).all()
    return decision, ticket, list(feedback)


def decision_rows(session: Session, *, since: datetime) -> Sequence[Any]:
    """Return (line, topic, mode, action, reasons, created_at) of autoreply decisions since then."""
    query = (
        select(
            Ticket.line,
            Decision.topic,
            Decision.mode,
            Decision.action,
            Decision.reasons,
            Decision.created_at,
        )
        .join(Ticket, Ticket.id == Decision.ticket_id)
        .where(Decision.kind == "autoreply", Decision.created_at >= since)
    )
    return session.execute(query).all()


def feedback_rows(session: Session, *, since: datetime) -> Sequence[Any]:
    """Return (line, decision topic, decision template, agent template, edited, escalated,
    wrong reason) of the feedback given since then."""
    query = (
        select(
            Ticket.line,
            Decision.topic,
            Decision.template_id,
            Feedback.template_id,
            Feedback.edited,
            Feedback.escalated,
            Feedback.wrong_reason,
        )
        .join(Ticket, Ticket.id == Feedback.ticket_id)
        .outerjoin(Decision, Decision.id == Feedback.decision_id)
        .where(Feedback.created_at >= since)
    )
    return session.execute(query).all()


def recorded_tickets(
    session: Session, *, limit: int
) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """Return (decision id, ticket id, topic, text, facts) of the latest autoreply decisions."""
    query = (
        select(Decision.id, Decision.ticket_id, Decision.topic, Ticket.text, Ticket.facts)
        .join(Ticket, Ticket.id == Decision.ticket_id)
        .where(Decision.kind == "autoreply", Decision.topic.is_not(None))
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(limit)
    )
    return [(d, t, topic, text, dict(facts)) for d, t, topic, text, facts in session.execute(query)]


def agent_templates(session: Session, *, ticket_ids: Sequence[str]) -> dict[str, str]:
    """Return the template each ticket's latest feedback sent (tickets without one are absent)."""
    query = (
        select(Feedback.ticket_id, Feedback.template_id)
        .where(Feedback.ticket_id.in_(list(ticket_ids)), Feedback.template_id.is_not(None))
        .order_by(Feedback.created_at, Feedback.id)
    )
    return {ticket_id: template or "" for ticket_id, template in session.execute(query)}
