"""The `autoreply` command line: one entry point for everything a person runs."""

from __future__ import annotations

import typer

from cli.data import data_app
from cli.evaluate import evaluate
from cli.rules import rules_app
from cli.serve import db_app, serve
from cli.train import EPILOG, train

app = typer.Typer(
    name="autoreply",
    help="Customer-support autoreply: rules, data, training and the service.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(rules_app, name="rules")
app.add_typer(data_app, name="data")
app.add_typer(db_app, name="db")
app.command("serve")(serve)
app.command("train", epilog=EPILOG)(train)
app.command("evaluate")(evaluate)
