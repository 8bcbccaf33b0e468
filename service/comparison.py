"""Champion against challenger on live traffic, from the shadow decisions (`autoreply bundles
compare` and the console's operations page).

Each ticket counts once, by its latest scoring. Both sides are compared on whether every check
passed (`would_reply`, whatever the line's mode) and on the best template, so a line in shadow
mode or off compares as well as one that is on. Where an agent acted on the ticket, each model's
choice is held against the agent's, the way the console counts agreement: the agent sent the
model's best template without editing it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.db.shadow import comparison_rows

SAME, CHAMPION_ONLY, CHALLENGER_ONLY, TEMPLATE_DIFFERS = (
    "same_decision",
    "champion_only_replies",
    "challenger_only_replies",
    "template_disagreement",
)
OUTCOMES = (SAME, CHAMPION_ONLY, CHALLENGER_ONLY, TEMPLATE_DIFFERS)


@dataclass(frozen=True)
class AgentChoice:
    """What the agent did last on a ticket: a template sent (edited or not), or an escalation."""

    template: str | None
    edited: bool

    def sent_as_is(self, template: str | None) -> bool:
        """Return whether the agent sent exactly `template`, unedited."""
        return template is not None and template == self.template and not self.edited


@dataclass
class Agreement:
    """One model against the agents, on the tickets an agent acted on."""

    tickets: int = 0
    agreed: int = 0  # the agent sent the model's best template unedited
    replies: int = 0  # the model would have replied
    replies_agreed: int = 0  # ... and the agent sent that very reply unedited

    def add(self, template: str | None, would_reply: bool, agent: AgentChoice) -> None:
        """Count one ticket the agent acted on."""
        agreed = agent.sent_as_is(template)
        self.tickets += 1
        self.agreed += agreed
        self.replies += would_reply
        self.replies_agreed += would_reply and agreed

    def as_dict(self) -> dict[str, Any]:
        """Return the counts with their shares (None where nothing was counted)."""
        return {
            "tickets": self.tickets,
            "agreed": self.agreed,
            "agreement": _share(self.agreed, self.tickets),
            "replies": self.replies,
            "replies_agreed": self.replies_agreed,
            "reply_agreement": _share(self.replies_agreed, self.replies),
        }


@dataclass
class Comparison:
    """The figures of one challenger against the champions it was scored beside."""

    challenger: str
    since: datetime | None = None
    scorings: int = 0
    champions: Counter[str] = field(default_factory=Counter)  # version -> tickets
    outcomes: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)  # champion / challenger -> replies
    champion_agents: Agreement = field(default_factory=Agreement)
    challenger_agents: Agreement = field(default_factory=Agreement)

    @property
    def tickets(self) -> int:
        """Return the tickets scored (each once)."""
        return sum(self.champions.values())

    def as_dict(self) -> dict[str, Any]:
        """Return the figures as plain JSON values."""
        return {
            "challenger": self.challenger,
            "since": self.since.isoformat() if self.since else None,
            "scorings": self.scorings,
            "tickets": self.tickets,
            "champions": dict(self.champions),
            **{name: self.outcomes[name] for name in OUTCOMES},
            "replies": {
                "champion": self.replies["champion"],
                "challenger": self.replies["challenger"],
            },
            "agents": {
                "tickets": self.champion_agents.tickets,
                "champion": self.champion_agents.as_dict(),
                "challenger": self.challenger_agents.as_dict(),
            },
        }


def outcome(champion: str | None, champion_reply: bool, challenger: str | None, reply: bool) -> str:
    """Return how two decisions compare, each a best template and whether it would be sent."""
    if champion_reply and reply:
        return SAME if champion == challenger else TEMPLATE_DIFFERS
    if champion_reply:
        return CHAMPION_ONLY
    return CHALLENGER_ONLY if reply else SAME


def tally(
    challenger: str, rows: Iterable[Sequence[Any]], since: datetime | None = None
) -> Comparison:
    """Return the comparison from `service.db.shadow.comparison_rows` (oldest first)."""
    latest: dict[str, Sequence[Any]] = {}
    agents: dict[str, AgentChoice] = {}
    scorings: set[int] = set()
    for row in rows:
        row_id, ticket_id, *_, agent_template, edited, escalated = row
        scorings.add(row_id)
        latest[ticket_id] = row
        if agent_template is not None or escalated:
            agents[ticket_id] = AgentChoice(agent_template, bool(edited))
    result = Comparison(challenger, since, len(scorings))
    for ticket_id, row in latest.items():
        _, _, champion_version, champion_template, champion_reply, template, would_reply = row[:7]
        result.champions[champion_version] += 1
        result.outcomes[outcome(champion_template, champion_reply, template, would_reply)] += 1
        result.replies["champion"] += bool(champion_reply)
        result.replies["challenger"] += bool(would_reply)
        if ticket_id in agents:
            result.champion_agents.add(champion_template, champion_reply, agents[ticket_id])
            result.challenger_agents.add(template, would_reply, agents[ticket_id])
    return result


def compare_challenger(
    session: Session, *, challenger: str, since: datetime | None = None
) -> Comparison:
    """Return the comparison of one challenger's shadow decisions (since then, when given)."""
    return tally(challenger, comparison_rows(session, challenger=challenger, since=since), since)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
