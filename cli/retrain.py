"""`autoreply retrain`: the offline loop in one command, safe to run from cron or a CronJob."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.bundles import DEFAULT_REGISTRY, RegistryOpt
from cli.common import DEFAULT_RULEBOOK, RulebookOpt, fail, open_rulebook, print_json

BUSY_EXIT = 75  # EX_TEMPFAIL: another run holds the lock; try later


def retrain(
    config: Annotated[
        Path,
        typer.Option(
            help="Training config (training/configs/*.json).", exists=True, dir_okay=False
        ),
    ],
    registry: RegistryOpt = DEFAULT_REGISTRY,
    gate: Annotated[
        Path, typer.Option(help="Promotion gate config.", exists=True, dir_okay=False)
    ] = Path("training/configs/gate.json"),
    rulebook: RulebookOpt = DEFAULT_RULEBOOK,
    holdout: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of the newest feedback held out.")
    ] = 0.2,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override one training config key: KEY=VALUE.", show_default=False
        ),
    ] = None,
    actor: Annotated[str, typer.Option(help="Who or what runs it (recorded).")] = "retrain",
    force: Annotated[
        bool, typer.Option("--force", help="Train even without new feedback.")
    ] = False,
    shadow: Annotated[
        bool,
        typer.Option(
            "--shadow",
            help="A challenger that passes the gate goes to `shadow` (scored beside the champion "
            "on live traffic, see `bundles compare`), not `current`.",
        ),
    ] = False,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            help="Train the challenger under torchrun with this many processes (one per GPU, or "
            "CPU processes with gloo); 1: in this process.",
        ),
    ] = 1,
) -> None:
    """Export feedback since the champion's cut-off, train a challenger, evaluate both, gate,
    promote (or shadow) or reject with the reasons; print what happened as JSON.

    Exit 0 whether promoted or rejected (a normal outcome); 75 when another run holds the lock;
    2 when the job cannot run (no champion, bad config).
    """
    from models.bundle import BundleError
    from models.registry import Registry, RegistryError
    from service.db.migrate import upgrade
    from service.db.session import make_engine, make_session_factory
    from service.settings import Settings
    from training.args import ConfigError
    from training.data import DataError
    from training.gate import GateError, load_gate
    from training.joblock import LockHeld
    from training.retrain import RetrainJob
    from training.retrain import retrain as run_retrain

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    url = Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        job = RetrainJob(
            config=config, registry=Registry(registry), gate=load_gate(gate),
            rulebook=open_rulebook(rulebook), rulebook_dir=rulebook, overrides=set_ or [],
            holdout=holdout, actor=actor, force=force, shadow=shadow, processes=processes,
        )  # fmt: skip
        print_json(run_retrain(job, make_session_factory(engine)))
    except LockHeld as exc:
        raise fail(f"autoreply retrain: {exc}", code=BUSY_EXIT) from None
    except (BundleError, RegistryError, ConfigError, DataError, GateError, ValueError) as exc:
        raise fail(f"autoreply retrain: {exc}") from None
    finally:
        engine.dispose()
