"""Turn stored feedback into training examples in the corpus format (`autoreply data export`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from rules.rulebook import Rulebook
from service.db import repository as repo
from service.db.tables import Decision, Feedback, Ticket
from training.corpus.schema import TicketRecord, problems_of


@dataclass
class _Labels:
    """What the feedback rows of one ticket say, latest value of each field winning."""

    ticket: Ticket
    decision: Decision | None = None
    topic: str | None = None
    template: str | None = None
    edited: bool = False
    csat: int | None = None
    agents: set[str] = field(default_factory=set)
    topic_disputed: bool = False  # an agent said the topic was wrong and named no better one

    def absorb(self, feedback: Feedback, decision: Decision | None) -> None:
        self.decision = decision or self.decision
        self.topic = feedback.topic or self.topic
        self.topic_disputed = self.topic is None and (
            self.topic_disputed or feedback.wrong_reason == "wrong_topic"
        )
        self.template = feedback.template_id or self.template
        self.edited = feedback.edited or self.edited
        self.csat = feedback.csat if feedback.csat is not None else self.csat


@dataclass
class ExportReport:
    """How many examples were written, and why others were left out."""

    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "<ticket>: what", for refused records

    def skip(self, reason: str) -> None:
        """Count one ticket left out for `reason`."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _agent_action(labels: _Labels) -> str:
    if labels.template is None:
        return "escalated"
    if labels.edited:
        return "edited"
    chosen = labels.decision.template_id if labels.decision else None
    return "sent" if chosen in (None, labels.template) else "other_template"


def _guard(rulebook: Rulebook, topic: str) -> str:
    node = rulebook.topics.get(topic)
    return getattr(node, "guard", None) or (
        "actionable" if node is None or node.actionable else "unclear"
    )


def example(labels: _Labels, rulebook: Rulebook) -> TicketRecord | None:
    """Return one training example in the corpus format, or None when no topic is known."""
    topic = labels.topic or (labels.decision.topic if labels.decision else None)
    ticket = labels.ticket
    if topic is None:
        return None
    return TicketRecord(
        id=ticket.id,
        line=ticket.line,
        locale=ticket.locale,
        text=ticket.text,
        dialogue=list(ticket.dialogue) or None,
        topic=topic,
        label=topic,
        guard=_guard(rulebook, topic),
        facts=dict(ticket.facts),
        template=labels.template,
        agent_action=_agent_action(labels),
        csat=labels.csat,
        family="feedback",
        split="train",
    )


def _grouped(session: Session, since: datetime | None) -> Iterator[_Labels]:
    current: dict[str, _Labels] = {}
    for feedback, ticket, decision in repo.iter_feedback_examples(session, since=since):
        current.setdefault(ticket.id, _Labels(ticket)).absorb(feedback, decision)
    for labels in current.values():
        # Feedback that names no decision refers to the latest one the service took on the ticket.
        labels.decision = labels.decision or repo.latest_decision(
            session, ticket_id=labels.ticket.id
        )
        yield labels


def export_feedback(
    sessions: sessionmaker[Session], rulebook: Rulebook, out: IO[str], since: datetime | None = None
) -> ExportReport:
    """Write one JSONL example per ticket with feedback, valid against the corpus contract.

    Tickets without a known topic, or whose record the contract refuses (a topic or template the
    current rulebook no longer has, a line the corpus does not cover), are counted as skipped.
    """
    report = ExportReport()
    with sessions() as session:
        for labels in _grouped(session, since):
            record = example(labels, rulebook)
            if labels.topic_disputed:  # the decision's topic would be a label an agent refuted
                report.skip("topic_disputed")
            elif record is None:
                report.skip("no_topic")
            elif problems := problems_of(record, rulebook):
                report.skip("not_valid_for_the_rulebook")
                report.problems += problems
            else:
                out.write(record.to_json() + "\n")
                report.written += 1
    return report


def export_to_file(
    sessions: sessionmaker[Session], rulebook: Rulebook, path: Path, since: datetime | None = None
) -> ExportReport:
    """Export feedback to `path` (created with its parent directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        return export_feedback(sessions, rulebook, out, since)
