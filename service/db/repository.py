"""Every query the service runs, as keyword-only functions over a session (no SQL in routes)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db.tables import Base, Decision, Feedback, PromoCode, PromoQuota, Reply, Ticket

# No 0/O, 1/I/L: codes are read aloud and typed by hand. 13 symbols of 31 -> ~64.4 bits, past
# the 64 that make guessing a live code hopeless however many are issued.
PROMO_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PROMO_LENGTH = 13


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _insert_ignoring_duplicates(
    session: Session, table: type[Base], values: dict[str, Any] | list[dict[str, Any]]
) -> None:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    # Values as parameters, not .values(): one statement shape, compiled once and cached.
    session.execute(module.insert(_table(table)).on_conflict_do_nothing(), values)


def save_ticket(session: Session, *, ticket: dict[str, Any]) -> None:
    """Store the ticket unless a ticket with this id is already stored (the first version wins)."""
    _insert_ignoring_duplicates(session, Ticket, {**ticket, "created_at": utcnow()})


# Built once, on the table (Core, not the ORM): every autoreply looks twice (before and after its
# lock), and building an ORM query and loading the whole row cost more than the lookup.
_DECISIONS = _table(Decision)
_AUTOREPLY_RESPONSE = select(_DECISIONS.c.response).where(
    _DECISIONS.c.autoreply_ticket_id == bindparam("ticket_id")
)


def get_autoreply_response(session: Session, *, ticket_id: str) -> dict[str, Any] | None:
    """Return the stored answer of the autoreply decision already taken for this ticket, if any."""
    response = session.execute(_AUTOREPLY_RESPONSE, {"ticket_id": ticket_id}).scalar()
    return cast("dict[str, Any] | None", response)


def get_decision(session: Session, *, decision_id: str) -> Decision | None:
    """Return one decision by id."""
    return session.get(Decision, decision_id)


def latest_decision(session: Session, *, ticket_id: str) -> Decision | None:
    """Return the most recent decision on a ticket (autoreply or suggest)."""
    query = (
        select(Decision).where(Decision.ticket_id == ticket_id).order_by(Decision.created_at.desc())
    )
    return session.scalars(query.limit(1)).first()


def add_decision(session: Session, *, record: dict[str, Any]) -> None:
    """Insert one decision record at once, so a duplicate autoreply fails here.

    A Core insert: the ORM's unit of work cost more than the statement on every request.
    """
    session.execute(insert(_table(Decision)), {**record, "created_at": utcnow()})


def add_reply(
    session: Session, *, decision_id: str, ticket_id: str, template_id: str, locale: str, text: str
) -> Reply:
    """Insert the reply sent for a ticket (unique per ticket and per decision)."""
    reply = Reply(
        id=new_id(),
        decision_id=decision_id,
        ticket_id=ticket_id,
        template_id=template_id,
        locale=locale,
        text=text,
        created_at=utcnow(),
    )
    session.add(reply)
    session.flush()
    return reply


def add_suggest_records(
    session: Session, *, tickets: list[dict[str, Any]], decisions: list[dict[str, Any]]
) -> None:
    """Insert a batch of suggestions: their tickets (the first version of each wins), then their
    decision rows, each with the time it was made. Two statements, however long the batch."""
    _insert_ignoring_duplicates(session, Ticket, tickets)
    session.execute(insert(_table(Decision)), decisions)


def new_id() -> str:
    """Return a fresh random id for a row."""
    return secrets.token_hex(16)


def new_promo_code() -> str:
    """Return a cryptographically random, unguessable promo code."""
    return "".join(secrets.choice(PROMO_ALPHABET) for _ in range(PROMO_LENGTH))


@dataclass(frozen=True)
class PromoRequest:
    """What a reply's action asks for: a code of `value` in `currency`, valid `days_valid` days."""

    ticket_id: str
    customer_id: str
    value: int
    currency: str
    days_valid: int


def window_start(now: datetime, window_days: int) -> datetime:
    """Return the start of the fixed quota window that `now` falls in."""
    epoch = datetime(2020, 1, 1, tzinfo=UTC)
    windows = (now - epoch) // timedelta(days=window_days)
    return epoch + windows * timedelta(days=window_days)


def issue_promo_code(
    session: Session, *, request: PromoRequest, cap: int, window_days: int
) -> PromoCode | None:
    """Issue one code inside the caller's transaction; return None when the customer's cap is reached.

    The cap is enforced by the database: a conditional UPDATE bumps the customer's counter for
    the current window only while it is under the cap, so concurrent tickets cannot exceed it.
    The unique ticket_id on promo_codes makes a second code for the same ticket impossible.
    """
    now = utcnow()
    start = window_start(now, window_days)
    _insert_ignoring_duplicates(
        session,
        PromoQuota,
        {"customer_id": request.customer_id, "window_start": start, "issued": 0},
    )
    bumped = session.execute(
        update(PromoQuota)
        .where(
            PromoQuota.customer_id == request.customer_id,
            PromoQuota.window_start == start,
            PromoQuota.issued < cap,
        )
        .values(issued=PromoQuota.issued + 1)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        return None
    code = PromoCode(
        code=new_promo_code(),
        ticket_id=request.ticket_id,
        customer_id=request.customer_id,
        value=request.value,
        currency=request.currency,
        expires_at=now + timedelta(days=request.days_valid),
        created_at=now,
    )
    session.add(code)
    session.flush()
    return code


def add_feedback(session: Session, *, values: dict[str, Any]) -> Feedback:
    """Insert one feedback row (the agent's choice, an edit, a corrected topic, the CSAT)."""
    feedback = Feedback(id=new_id(), **values, created_at=utcnow())
    session.add(feedback)
    session.flush()
    return feedback


def get_feedback_by_key(session: Session, *, idempotency_key: str) -> Feedback | None:
    """Return the feedback row stored under an idempotency key, if any."""
    query = select(Feedback).where(Feedback.idempotency_key == idempotency_key)
    return session.scalars(query).first()


def get_ticket(session: Session, *, ticket_id: str) -> Ticket | None:
    """Return one stored ticket."""
    return session.get(Ticket, ticket_id)


def iter_feedback_examples(
    session: Session, *, since: datetime | None = None
) -> Iterator[tuple[Feedback, Ticket, Decision | None]]:
    """Yield each feedback row with its ticket and decision, oldest first (the export's input)."""
    query = (
        select(Feedback, Ticket, Decision)
        .join(Ticket, Feedback.ticket_id == Ticket.id)
        .outerjoin(Decision, Feedback.decision_id == Decision.id)
        .order_by(Feedback.created_at, Feedback.id)
    )
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    for feedback, ticket, decision in session.execute(query):  # noqa: UP028 (typed unpacking)
        yield feedback, ticket, decision


def count_rows(session: Session) -> dict[str, int]:
    """Return the number of rows in each table (for readiness checks and tests)."""
    tables: list[type[Base]] = [Ticket, Decision, Reply, PromoCode, Feedback]
    return {
        t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables
    }
