"""Helpers shared by the CLI commands: JSON output, rulebook loading with readable errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rules.errors import RulebookError
from rules.loader import load_rulebook
from rules.rulebook import DEFAULT_ROOT, Rulebook

RulebookOpt = Annotated[
    Path,
    typer.Option(
        "--rulebook", envvar="AUTOREPLY_RULEBOOK", help="Rulebook directory.", show_default=True
    ),
]
DEFAULT_RULEBOOK = DEFAULT_ROOT


def print_json(data: Any) -> None:
    """Write `data` to stdout as indented JSON (UTF-8, non-ASCII kept readable)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` to stderr and return the Exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def open_rulebook(root: Path) -> Rulebook:
    """Load a rulebook or exit 1 with every problem listed as file:line:column: message."""
    try:
        return load_rulebook(root)
    except RulebookError as exc:
        raise fail(str(exc), code=1) from None
