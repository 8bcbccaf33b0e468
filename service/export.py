"""Turn stored feedback into training examples in the corpus format (`autoreply data export`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker

from rules.rulebook import Rulebook
from service.db import repository as repo
from service.db.tables import Decision, Feedback, Ticket


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

    def absorb(self, feedback: Feedback, decision: Decision | None) -> None:
        self.decision = decision or self.decision
        self.topic = feedback.topic or self.topic
        self.template = feedback.template_id or self.template
        self.edited = feedback.edited or self.edited
        self.csat = feedback.csat if feedback.csat is not None else self.csat


@dataclass
class ExportReport:
    """How many examples were written, and why others were left out."""

    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

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


def example(labels: _Labels, rulebook: Rulebook) -> dict[str, Any] | None:
    """Return one training example in the corpus format, or None when no topic is known."""
    topic = labels.topic or (labels.decision.topic if labels.decision else None)
    ticket = labels.ticket
    if topic is None:
        return None
    return {
        "id": ticket.id,
        "line": ticket.line,
        "locale": ticket.locale,
        "text": ticket.text,
        "dialogue": list(ticket.dialogue) or None,
        "topic": topic,
        "label": topic,
        "guard": _guard(rulebook, topic),
        "facts": dict(ticket.facts),
        "template": labels.template,
        "agent_action": _agent_action(labels),
        "csat": labels.csat,
        "family": "feedback",
        "split": "train",
    }


def _grouped(session: Session, since: datetime | None) -> Iterator[_Labels]:
    current: dict[str, _Labels] = {}
    for feedback, ticket, decision in repo.iter_feedback_examples(session, since=since):
        current.setdefault(ticket.id, _Labels(ticket)).absorb(feedback, decision)
    yield from current.values()


def export_feedback(
    sessions: sessionmaker[Session], rulebook: Rulebook, out: IO[str], since: datetime | None = None
) -> ExportReport:
    """Write one JSONL example per ticket with feedback; tickets without a known topic are skipped."""
    report = ExportReport()
    with sessions() as session:
        for labels in _grouped(session, since):
            row = example(labels, rulebook)
            if row is None:
                report.skip("no_topic")
                continue
            if rulebook.topics.get(row["topic"]) is None:
                report.skip("topic_not_in_rulebook")
                continue
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            report.written += 1
    return report


def export_to_file(
    sessions: sessionmaker[Session], rulebook: Rulebook, path: Path, since: datetime | None = None
) -> ExportReport:
    """Export feedback to `path` (created with its parent directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        return export_feedback(sessions, rulebook, out, since)
