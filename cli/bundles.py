"""`autoreply bundles ...`: carry a model bundle home from a lent GPU machine (pack, unpack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import fail, print_json

bundles_app = typer.Typer(
    help="Model bundles: pack one on a lent GPU machine, unpack it here.", no_args_is_help=True
)


@bundles_app.command("pack")
def pack(
    bundle_dir: Annotated[
        Path, typer.Argument(help="The bundle to pack.", exists=True, file_okay=False)
    ],
    out: Annotated[Path, typer.Option(help="Empty folder for the pack (the machine's $OUT).")],
    part_mib: Annotated[
        float, typer.Option(help="Largest weight part, in MiB (at most 16).")
    ] = 15.0,
) -> None:
    """Write fp16 weight parts, one archive of the small files and pack.json; print pack.json.

    Refused when the pack would exceed what a lent machine returns (8 files, 16 MiB each, 64 MiB).
    """
    from models.bundle import BundleError
    from training.pack import PackError, pack_bundle

    try:
        print_json(pack_bundle(bundle_dir, out, part_mib))
    except (BundleError, PackError) as exc:
        raise fail(f"autoreply bundles pack: {exc}") from None


@bundles_app.command("unpack")
def unpack(
    pack_dir: Annotated[
        Path, typer.Argument(help="The folder `bundles pack` wrote.", exists=True, file_okay=False)
    ],
    out: Annotated[Path, typer.Option(help="Bundle directory to write (replaced atomically).")],
) -> None:
    """Verify every part, restore fp32 weights, export ONNX + int8 here, check parity, publish."""
    from models.bundle import MANIFEST, BundleError, load_bundle
    from training.pack import PackError, unpack_bundle

    try:
        bundle = load_bundle(unpack_bundle(pack_dir, out))
    except (BundleError, PackError) as exc:
        raise fail(f"autoreply bundles unpack: {exc}") from None
    print_json(
        {
            "bundle": str(bundle.path),
            "version": bundle.version,
            "restored": json.loads((bundle.path / MANIFEST).read_text())["restored"],
            "export": bundle.metrics["export"],
        }
    )
