"""`autoreply bundles ...`: the registry (add, list, promote, rollback), a challenger scored in
shadow beside the champion (shadow, compare), and carrying a bundle home from a lent GPU machine
(pack, unpack)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import fail, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from models.registry import Registry

bundles_app = typer.Typer(
    help="Model bundles: the registry the service serves from; pack one on a lent GPU machine, "
    "unpack it here.",
    no_args_is_help=True,
)
RegistryOpt = Annotated[
    Path,
    typer.Option(
        "--registry", envvar="AUTOREPLY_REGISTRY", help="Registry directory (holds `current`)."
    ),
]
DEFAULT_REGISTRY = Path("var/bundles")
ActorOpt = Annotated[str, typer.Option(help="Who or what acts (recorded in the history).")]
DEFAULT_ACTOR = "cli"


def with_registry(
    registry: Path, command: str, act: Callable[[sessionmaker[Session], Registry], Any]
) -> Any:
    """Run `act` on the registry and AUTOREPLY_DATABASE_URL (migrated); refusals exit 2."""
    from models.bundle import BundleError
    from models.registry import Registry, RegistryError
    from service.db.migrate import upgrade
    from service.db.session import make_engine, make_session_factory
    from service.settings import Settings

    url = Settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        return act(make_session_factory(engine), Registry(registry))
    except (BundleError, RegistryError) as exc:
        raise fail(f"autoreply bundles {command}: {exc}") from None
    finally:
        engine.dispose()


@bundles_app.command("list")
def list_bundles(registry: RegistryOpt = DEFAULT_REGISTRY) -> None:
    """Print the registered versions, which one is current, and each one's history."""
    from training.promotion import listing

    print_json(with_registry(registry, "list", listing))


@bundles_app.command("add")
def add(
    bundle_dir: Annotated[
        Path, typer.Argument(help="A bundle to register.", exists=True, file_okay=False)
    ],
    registry: RegistryOpt = DEFAULT_REGISTRY,
    actor: ActorOpt = DEFAULT_ACTOR,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "registered by hand",
) -> None:
    """Copy a bundle into the registry as `<registry>/<version>/`, read-only; print its version."""
    from training.promotion import register

    version = with_registry(
        registry, "add", lambda s, r: register(s, r, bundle_dir, actor=actor, reason=reason)
    )
    print_json({"version": version, "path": str(registry / version)})


@bundles_app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="A registered version (see `bundles list`).")],
    registry: RegistryOpt = DEFAULT_REGISTRY,
    actor: ActorOpt = DEFAULT_ACTOR,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "promoted by hand",
) -> None:
    """Point `current` at VERSION (atomically) and record it; services follow on reload/watch."""
    from training.promotion import promote as promote_version

    with_registry(
        registry,
        "promote",
        lambda s, r: promote_version(s, r, version, actor=actor, reason=reason),
    )
    print_json({"current": version})


@bundles_app.command("rollback")
def rollback(
    registry: RegistryOpt = DEFAULT_REGISTRY,
    actor: ActorOpt = DEFAULT_ACTOR,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "rolled back by hand",
) -> None:
    """Point `current` back at the champion before the current one, and record it."""
    from training.promotion import rollback as roll_back

    old, new = with_registry(
        registry, "rollback", lambda s, r: roll_back(s, r, actor=actor, reason=reason)
    )
    print_json({"from": old, "current": new})


@bundles_app.command("shadow")
def shadow(
    version: Annotated[
        str | None, typer.Argument(help="A registered version to score in shadow.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop scoring a challenger.")] = False,
    registry: RegistryOpt = DEFAULT_REGISTRY,
    actor: ActorOpt = DEFAULT_ACTOR,
    reason: Annotated[str, typer.Option(help="Why (recorded).")] = "shadow set by hand",
) -> None:
    """Point `shadow` at VERSION, scored beside the champion and never sent; `--off` removes it.

    Services follow the pointer like `current` (AUTOREPLY_BUNDLE_WATCH_S, or an admin reload).
    """
    from models.registry import SHADOW
    from training.promotion import end_shadow
    from training.promotion import promote as point

    if (version is None) != off:
        raise fail("autoreply bundles shadow: give a VERSION, or --off")

    def act(sessions: sessionmaker[Session], found: Registry) -> dict[str, str | None]:
        if version is None:
            return {
                "shadow": None,
                "ended": end_shadow(sessions, found, actor=actor, reason=reason),
            }
        point(sessions, found, version, actor=actor, reason=reason, pointer=SHADOW)
        return {"shadow": version}

    print_json(with_registry(registry, "shadow", act))


@bundles_app.command("compare")
def compare(
    since: Annotated[
        datetime | None,
        typer.Option(help="Only tickets scored since then (UTC unless it says otherwise)."),
    ] = None,
    challenger: Annotated[
        str | None,
        typer.Option(help="The challenger's version; default: `shadow`'s, else the latest scored."),
    ] = None,
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Print champion against challenger on the tickets scored in shadow, as JSON.

    Tickets scored, decided the same, replies only one would send, both replying with different
    templates, and each model's agreement with the agents on the tickets they acted on.
    """
    from training.promotion import compare as compare_shadow

    start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    print_json(
        with_registry(
            registry,
            "compare",
            lambda s, r: compare_shadow(s, r, challenger=challenger, since=start),
        )
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
