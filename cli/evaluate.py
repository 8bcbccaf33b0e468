"""`autoreply evaluate`: replay a JSONL split through a bundle and the service's decision code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import DEFAULT_RULEBOOK, RulebookOpt, fail, open_rulebook, print_json


def evaluate(
    data: Annotated[
        Path,
        typer.Argument(
            help="JSONL in the corpus format (text, line, locale, label, facts, guard, template, "
            "agent_action; dialogue optional).",
            exists=True,
            dir_okay=False,
        ),
    ],
    bundle: Annotated[
        Path,
        typer.Option(
            envvar="AUTOREPLY_BUNDLE_DIR", help="Model bundle directory.", file_okay=False
        ),
    ] = Path("var/bundles/current"),
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
    no_rules: Annotated[
        bool,
        typer.Option(
            "--no-rules", help="Decide per leaf (data without a rulebook, e.g. public intent sets)."
        ),
    ] = False,
    backend: Annotated[str, typer.Option(help="Serving backend to replay on.")] = "onnx-int8",
    out: Annotated[
        Path | None,
        typer.Option(help="Also write decisions.json and the coverage-agreement PNG here."),
    ] = None,
    delta: Annotated[
        float, typer.Option(help="The error bound holds with probability 1 - delta.")
    ] = 0.1,
    full: Annotated[
        bool, typer.Option("--full", help="Print every group (per topic too), not the summary.")
    ] = False,
) -> None:
    """Replay tickets through the bundle and the decision code the service runs; print JSON.

    Coverage, agreement with the agent's template, unsafe and wrong replies, hand-off reasons,
    per line, locale and topic, and the coverage-agreement curve over the threshold.
    """
    from models.bundle import BundleError
    from training.args import DataArguments
    from training.data import DataError, default_line_name, read_examples
    from training.decisions import evaluate_bundle

    book = None if no_rules else open_rulebook(rulebook)
    try:
        examples = read_examples(data, DataArguments(), default_line_name(data.parent))
        report = evaluate_bundle(bundle, examples, book, backend=backend, out_dir=out, delta=delta)
    except (BundleError, DataError, ValueError) as exc:
        raise fail(f"autoreply evaluate: {exc}") from None
    if full:
        print_json(report)
        return
    keep = ("bundle", "backend", "rulebook", "skipped_unknown_line", "overall", "by_line_locale",
            "threshold_sources", "guard_recall", "answerable_outcomes", "unsafe_examples")  # fmt: skip
    print_json({k: report[k] for k in keep} | ({"written_to": str(out)} if out else {}))
