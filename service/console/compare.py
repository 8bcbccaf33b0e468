"""The rulebook comparison: recorded tickets replayed through the serving rulebook and another one,
with the existing backtest (`rules.backtest`), showing which decisions would change."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules.backtest import PastTicket, backtest_tickets
from rules.loader import load_rulebook
from service.db import console as queries
from service.reload import check_reload_dirs
from service.state import AppState

RECORDED = 2000  # the latest recorded tickets replayed: enough to see a change, quick to run
EXAMPLES = 20
FACTS_FILE = "facts.yaml"  # what marks a directory as a rulebook


@dataclass(frozen=True)
class Comparison:
    """What another rulebook would decide differently on recorded tickets."""

    directory: str
    serving: str  # the serving rulebook's version
    other: str
    replayed: int
    changed: int
    transitions: list[tuple[str, str, int]]  # ("rule -> template" before, after, how many)
    examples: list[dict[str, Any]]  # ticket, topic, text, before, after, agent's template
    skipped: int


def rulebook_dirs(roots: list[Path]) -> list[str]:
    """Return the rulebook directories (holding facts.yaml) at most two levels under the roots."""
    found: set[str] = set()
    for root in roots:
        for pattern in (FACTS_FILE, f"*/{FACTS_FILE}", f"*/*/{FACTS_FILE}"):
            found.update(str(path.parent) for path in root.glob(pattern))
    return sorted(found)


def _outcome(decision: dict[str, Any]) -> str:
    if decision.get("error"):
        return f"refused: {decision['error']}"
    if decision.get("rule") is None:
        return "no rule: hand off"
    return f"{decision['rule']} → {decision['template']}"


def compare_rulebook(state: AppState, directory: str) -> Comparison:
    """Replay the latest recorded tickets through the serving rulebook and `directory`'s.

    Raises Forbidden for a directory outside AUTOREPLY_RELOAD_ROOTS and RulebookError for a
    rulebook that does not load.
    """
    check_reload_dirs(state, directory)
    other = load_rulebook(Path(directory))
    serving = state.rulebooks.current
    with state.sessions() as session:
        recorded = queries.recorded_tickets(session, limit=RECORDED)
        sent = queries.agent_templates(session, ticket_ids=[row[1] for row in recorded])
    shown = {ticket_id: (decision_id, text) for decision_id, ticket_id, _t, text, _f in recorded}
    items = [
        PastTicket(ticket_id, topic, facts, sent.get(ticket_id))
        for _decision_id, ticket_id, topic, _text, facts in recorded
    ]
    report = backtest_tickets(serving, items, other)
    moves = Counter((_outcome(c["before"]), _outcome(c["after"])) for c in report.changes)
    return Comparison(
        directory=directory,
        serving=serving.version,
        other=other.version,
        replayed=report.tickets,
        changed=len(report.changes),
        transitions=[(before, after, n) for (before, after), n in moves.most_common()],
        examples=[
            {
                **change,
                "decision_id": shown[change["ticket"]][0],
                "text": shown[change["ticket"]][1],
                "before": _outcome(change["before"]),
                "after": _outcome(change["after"]),
            }
            for change in report.changes[:EXAMPLES]
        ],
        skipped=len(report.skipped),
    )
