"""The `autoreply` command line: one entry point for everything a person runs.

A serving install (`pip install .`, the API image) has no `training` package: it gets the
serving commands (serve, db, rules); a full install (`.[train]`) adds data, train, evaluate,
retrain and bundles.
"""

from __future__ import annotations

from importlib.util import find_spec

import typer

from cli.rules import rules_app
from cli.serve import db_app, serve

app = typer.Typer(
    name="autoreply",
    help="Customer-support autoreply: rules, data, training and the service.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(rules_app, name="rules")
app.add_typer(db_app, name="db")
app.command("serve")(serve)

if find_spec("training") is not None:
    from cli.bundles import bundles_app
    from cli.data import data_app
    from cli.evaluate import evaluate
    from cli.retrain import retrain
    from cli.train import EPILOG, train

    app.add_typer(data_app, name="data")
    app.add_typer(bundles_app, name="bundles")
    app.command("train", epilog=EPILOG)(train)
    app.command("evaluate")(evaluate)
    app.command("retrain")(retrain)
