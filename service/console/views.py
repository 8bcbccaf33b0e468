"""The ticket page's content, shaped from the stored ticket, decision and feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.rulebook import Rulebook
from service.console.words import WRONG_WORDS, RuleWhy, explain_trace, reason_words
from service.db.console import as_utc
from service.db.tables import Decision, Feedback, Ticket


@dataclass(frozen=True)
class Level:
    """One node on a suggestion's topic path with the model's probability for it."""

    path: str
    title: str
    prob: float


@dataclass(frozen=True)
class SuggestionView:
    """One proposed reply: its text, topic path with probabilities, template probability, why."""

    n: int
    template_id: str
    title: str
    text: str
    template_prob: float
    levels: tuple[Level, ...]
    why: tuple[RuleWhy, ...]


@dataclass(frozen=True)
class FactRow:
    """One ride fact as the table shows it."""

    name: str
    value: str
    description: str


@dataclass(frozen=True)
class TicketView:
    """Everything the ticket page shows."""

    decision: Decision
    ticket: Ticket
    facts: tuple[FactRow, ...]
    reasons: tuple[tuple[str, str], ...]  # (code, words)
    suggestions: tuple[SuggestionView, ...]
    templates: tuple[tuple[str, str], ...]  # (id, title) of the line's templates
    topics: tuple[tuple[str, str], ...]  # (path, title) of the line's leaves
    history: tuple[str, ...]  # what agents already did, in words

    @property
    def created_at(self) -> datetime:
        """Return when the decision was taken, as aware UTC."""
        return as_utc(self.decision.created_at)


def title_of(rulebook: Rulebook, path: str | None, locale: str) -> str:
    """Return a topic's title in the ticket's language (English, else the path, if none)."""
    node = rulebook.topics.get(path) if path else None
    if node is None:
        return path or "no topic"
    return node.title.get(locale) or node.title.get("en") or path or ""


def fact_rows(rulebook: Rulebook, facts: dict[str, Any]) -> tuple[FactRow, ...]:
    """Return the ticket's facts in the rulebook's order, unknown ones last, values in words."""
    specs = rulebook.facts.specs
    order = {name: i for i, name in enumerate(specs)}
    names = sorted(facts, key=lambda name: (order.get(name, len(order)), name))
    return tuple(
        FactRow(
            name,
            _value_words(facts[name]),
            specs[name].description if name in specs else "(not in this rulebook)",
        )
        for name in names
    )


def _value_words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(none)" if value is None else str(value)


def suggestion_views(rulebook: Rulebook, response: dict[str, Any], locale: str) -> tuple[
    SuggestionView, ...
]:  # fmt: skip
    """Return the replies recorded with the decision, each with its levels and its why."""
    descriptions = {rule.id: rule.description for rule in rulebook.rules}
    return tuple(
        SuggestionView(
            n=n,
            template_id=s["template_id"],
            title=s["title"],
            text=s["text"],
            template_prob=s["template_prob"],
            levels=tuple(
                Level(lv["path"], title_of(rulebook, lv["path"], locale), lv["prob"])
                for lv in s["topic"]["levels"]
            ),
            why=tuple(explain_trace(s.get("trace", []), descriptions)),
        )
        for n, s in enumerate(response.get("suggestions", [])[:3], start=1)
    )


def feedback_words(row: Feedback) -> str:
    """Return what one feedback row says an agent did."""
    if row.escalated:
        done = "escalated"
    elif row.template_id:
        done = f"{'edited and sent' if row.edited else 'sent'} {row.template_id}"
    else:
        done = "left a note"
    if row.wrong_reason:
        wrong = row.wrong_template_id or "the top suggestion"
        done += f"; marked {wrong} wrong: {WRONG_WORDS.get(row.wrong_reason, row.wrong_reason)}"
    stamp = as_utc(row.created_at).strftime("%Y-%m-%d %H:%M UTC")
    return f"{stamp}: {row.agent_id or 'an agent'} {done}"


def ticket_view(
    rulebook: Rulebook, decision: Decision, ticket: Ticket, feedback: list[Feedback]
) -> TicketView:
    """Return the ticket page's content for a decision and its ticket."""
    line = ticket.line
    return TicketView(
        decision=decision,
        ticket=ticket,
        facts=fact_rows(rulebook, dict(ticket.facts)),
        reasons=tuple((r, reason_words(r)) for r in decision.reasons),
        suggestions=suggestion_views(rulebook, decision.response, ticket.locale),
        templates=tuple(
            (t.id, t.title) for t in rulebook.templates.values() if t.id.startswith(f"{line}.")
        ),
        topics=tuple(
            (leaf.path, title_of(rulebook, leaf.path, ticket.locale))
            for leaf in (rulebook.topics.leaves(line) if line in rulebook.topics.lines else [])
        ),
        history=tuple(feedback_words(row) for row in feedback),
    )
