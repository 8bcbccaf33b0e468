"""`autoreply rules ...`: check, evaluate, test and backtest the rulebook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DEFAULT_RULEBOOK, RulebookOpt, fail, open_rulebook, print_json
from rules.backtest import backtest
from rules.errors import RulebookError
from rules.facts import FactValueError
from rules.loader import load_rulebook
from rules.ruletests import run_rule_tests

rules_app = typer.Typer(
    help="Check, evaluate, test and backtest the business rules.", no_args_is_help=True
)


@rules_app.command("check")
def check(rulebook: RulebookOpt = DEFAULT_RULEBOOK) -> None:
    """Load and cross-check the rulebook; print its version, or every problem (exit 1)."""
    try:
        book = load_rulebook(rulebook)
    except RulebookError as exc:
        print_json({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
        raise fail(str(exc), code=1) from None
    print_json(
        {
            "ok": True,
            "version": book.version,
            "lines": list(book.topics.lines),
            "topics": len(book.topics.leaves()),
            "templates": len(book.templates),
            "rules": len(book.rules),
            "tests": len(book.tests),
        }
    )


@rules_app.command("eval")
def evaluate(
    topic: Annotated[
        str, typer.Option(help="Topic path, e.g. riders/ride_cost/promo_not_applied.")
    ],
    facts: Annotated[
        str, typer.Option(help="Ride facts as a JSON object, or @FILE holding one.")
    ] = "{}",
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
) -> None:
    """Print which rule and template answer TOPIC for FACTS, with the trace, as JSON."""
    book = open_rulebook(rulebook)
    text = Path(facts[1:]).read_text(encoding="utf-8") if facts.startswith("@") else facts
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--facts is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise fail("--facts must be a JSON object of fact names to values")
    if book.topics.get(topic) is None:
        raise fail(f"unknown topic '{topic}'; `autoreply rules check` lists the rulebook's topics")
    try:
        checked = book.facts.validate(raw)
    except FactValueError as exc:
        raise fail(f"bad facts: {exc}") from None
    print_json({"rulebook": book.version, **book.evaluate(topic, checked).as_dict()})


@rules_app.command("test")
def test(rulebook: RulebookOpt = DEFAULT_RULEBOOK) -> None:
    """Run the rule tests written next to the rules; exit 1 if any fails."""
    book = open_rulebook(rulebook)
    outcomes = run_rule_tests(book)
    failed = [o for o in outcomes if not o.passed]
    print_json(
        {
            "rulebook": book.version,
            "passed": len(outcomes) - len(failed),
            "failed": len(failed),
            "failures": [o.as_dict() for o in failed],
        }
    )
    if failed or not outcomes:
        raise typer.Exit(1)


@rules_app.command("backtest")
def replay(
    tickets: Annotated[
        Path,
        typer.Argument(
            help="JSONL of past tickets: topic, facts, template.", exists=True, dir_okay=False
        ),
    ],
    against: Annotated[
        Path | None, typer.Option(help="Another rulebook directory to compare with.")
    ] = None,
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
) -> None:
    """Replay past tickets: per rule how often it fired and agreed with the agent, as JSON."""
    book = open_rulebook(rulebook)
    other = open_rulebook(against) if against is not None else None
    print_json(backtest(book, tickets, other).as_dict())
