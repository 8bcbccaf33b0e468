"""`autoreply train`: fine-tune (or, with --quick, train heads only) and write a model bundle."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, print_json
from training.args import ConfigError, config_help

EPILOG = (
    "The config is one flat JSON object; any key below can also be set with --set KEY=VALUE. "
    "Several processes: torchrun --nproc_per_node N -m training --config FILE.\n\n"
    + config_help().replace("\n", "\n\n")
)


def train(
    config: Annotated[
        Path | None,
        typer.Option(help="Flat JSON config (keys listed below).", exists=True, dir_okay=False),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Frozen encoder, heads only: minutes on a CPU.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Bundle directory (overrides output_dir).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override one config key: KEY=VALUE (JSON value).", show_default=False
        ),
    ] = None,
) -> None:
    """Train a topic model and write its bundle (weights, ONNX, thresholds, report)."""
    from models.bundle import BundleError, load_bundle
    from models.encoder import EncoderNotFoundError
    from training.args import load_config
    from training.data import DataError
    from training.main import cli_overrides, run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = load_config(config, cli_overrides(quick, out, set_ or []))
        if not settings.data.data_dir:
            raise ConfigError("no data_dir: give it in the config or with --set data_dir=DIR")
        bundle = load_bundle(run(settings))
    except (ConfigError, DataError, EncoderNotFoundError, BundleError, ValueError) as exc:
        raise fail(f"autoreply train: {exc}") from None
    print_json(
        {
            "bundle": str(bundle.path),
            "version": bundle.version,
            "lines": list(bundle.lines),
            "overall": bundle.metrics.get("overall", {}),
            "report": str(bundle.path / "report" / "report.md"),
        }
    )
