"""Database tables: tickets, decisions, replies, promo codes (with a per-customer quota), feedback,
the bundle history and the challenger's shadow decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Ticket(Base):
    """A ticket as the ticket system sent it (text kept to become a training example)."""

    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    line: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    text: Mapped[str] = mapped_column(Text)
    dialogue: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Decision(Base):
    """One decision (suggest or autoreply), with everything needed to explain it later."""

    __tablename__ = "decisions"
    # At most one autoreply decision per ticket: retries and concurrent calls converge on it.
    __table_args__ = (
        UniqueConstraint("autoreply_ticket_id", name="uq_decisions_autoreply_ticket"),
        # The agent console's queue walks hand-offs newest first, by keyset, with or without a
        # topic filter: each index hands back rows in page order, so a page never sorts.
        Index("ix_decisions_queue", "action", "created_at", "id"),
        Index("ix_decisions_topic_queue", "topic", "action", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # suggest | autoreply
    autoreply_ticket_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # reply | handoff | suggest
    mode: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(256))
    confidence: Mapped[float | None] = mapped_column(Float)  # the anchor leaf's probability
    template_prob: Mapped[float | None] = mapped_column(Float)  # the best template's
    threshold: Mapped[float | None] = mapped_column(Float)  # the threshold it was held to
    threshold_source: Mapped[str | None] = mapped_column(String(16))  # own | parent | line
    rule_id: Mapped[str | None] = mapped_column(String(128))
    template_id: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    trace: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The exact answer given (suggestions included), so a retried autoreply returns the same bytes.
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Reply(Base):
    """The reply sent automatically for a ticket (never two per ticket)."""

    __tablename__ = "replies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), unique=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), unique=True)
    template_id: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class PromoCode(Base):
    """A promo code issued by a reply: unguessable, at most one per ticket."""

    __tablename__ = "promo_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(128), index=True)
    value: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class PromoQuota(Base):
    """Codes issued per customer per window; the cap is enforced by a conditional UPDATE."""

    __tablename__ = "promo_quota"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)


class Feedback(Base):
    """The agent's choice and the customer's CSAT for a ticket: the next training run's labels."""

    __tablename__ = "feedback"
    # One row per idempotency key: a form submitted twice (a double click, a retry) records once.
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_feedback_idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"))
    template_id: Mapped[str | None] = mapped_column(String(128))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    final_text: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(256))
    csat: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[str | None] = mapped_column(String(128))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    wrong_template_id: Mapped[str | None] = mapped_column(String(128))
    wrong_reason: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class BundleHistory(Base):
    """One event in a model bundle's life in the registry: registered, promoted, rejected, rolled
    back; with the data it was trained on, its figures, the gate's verdict, who and why."""

    __tablename__ = "bundle_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(128), index=True)
    event: Mapped[str] = mapped_column(String(32))
    data_fingerprint: Mapped[dict[str, Any]]
    data_cutoff: Mapped[datetime | None]
    metrics: Mapped[dict[str, Any]]
    gate: Mapped[dict[str, Any] | None]
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ShadowDecision(Base):
    """What a challenger bundle would have decided on a ticket the champion decided: never sent,
    kept beside the champion's own verdict so the two compare without replaying anything."""

    __tablename__ = "shadow_decisions"
    # `autoreply bundles compare` and the console read one challenger's rows over a window.
    __table_args__ = (Index("ix_shadow_decisions_challenger", "challenger_version", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # the champion's decision: suggest | autoreply
    mode: Mapped[str] = mapped_column(String(16))
    rulebook_version: Mapped[str] = mapped_column(String(64))
    champion_version: Mapped[str] = mapped_column(String(64))
    champion_template: Mapped[str | None] = mapped_column(String(128))  # its best template
    champion_reply: Mapped[bool] = mapped_column(Boolean)  # every check passed (mode aside)
    challenger_version: Mapped[str] = mapped_column(String(64))
    # The challenger's decision, in the columns `decisions` uses for the champion's.
    action: Mapped[str] = mapped_column(String(16))  # reply | handoff, under the line's mode
    would_reply: Mapped[bool] = mapped_column(Boolean)
    topic: Mapped[str | None] = mapped_column(String(256))
    confidence: Mapped[float | None] = mapped_column(Float)
    template_prob: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    threshold_source: Mapped[str | None] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(128))
    template_id: Mapped[str | None] = mapped_column(String(128))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
