"""`autoreply data ...`: generate the synthetic ticket corpus the models train and are judged on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DEFAULT_RULEBOOK, RulebookOpt, fail, open_rulebook, print_json
from training.corpus.generate import CorpusConfig, write_corpus
from training.corpus.schema import CARD_FILE, SPLIT_FILES
from training.corpus.world import load_world

data_app = typer.Typer(
    help="Generate the training corpus, export agents' feedback as training data.",
    no_args_is_help=True,
)


@data_app.command("generate")
def generate_corpus(
    n: Annotated[int, typer.Option("--n", min=1, help="How many tickets to generate.")] = 30_000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same corpus.")
    ] = 0,
    out: Annotated[
        Path, typer.Option(help="Directory for train/valid/test.jsonl and card.json.")
    ] = Path("var/corpus"),
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
) -> None:
    """Write a corpus of N tickets split by held-out phrasing families; print a JSON summary."""
    book = open_rulebook(rulebook)
    try:
        world = load_world(book)
    except ValueError as exc:
        raise fail(str(exc), code=1) from None
    started = time.perf_counter()
    card = write_corpus(out, CorpusConfig(n=n, seed=seed), world)
    print_json(
        {
            "out": str(out),
            "files": [str(out / name) for name in (*SPLIT_FILES.values(), CARD_FILE)],
            "tickets": card["tickets"],
            "splits": card["splits"],
            "rulebook": card["rulebook"],
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


@data_app.command("export")
def export_feedback(
    out: Annotated[Path, typer.Option(help="JSONL file to write (corpus format).")] = Path(
        "var/feedback/train.jsonl"
    ),
    since: Annotated[
        str | None, typer.Option(help="Only feedback from this ISO date-time on.")
    ] = None,
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
) -> None:
    """Turn agents' feedback (AUTOREPLY_DATABASE_URL) into training JSONL; print a JSON summary."""
    from datetime import datetime

    from service.db.session import make_engine, make_session_factory
    from service.settings import Settings
    from training.feedback import export_to_file

    book = open_rulebook(rulebook)
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise fail(f"--since '{since}' is not an ISO 8601 date-time") from None
    settings = Settings()
    sessions = make_session_factory(make_engine(settings.database_url))
    report = export_to_file(sessions, book, out, start)
    print_json({"out": str(out), "written": report.written, "skipped": report.skipped})
