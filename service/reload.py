"""Swapping in a new rulebook and/or model bundle, atomically, refusing anything broken.

With worker processes, an admin reload reaches one of them: it reloads, then announces the
request in the start's run directory (`reload.json`), and every other worker, watching that
file (`service.watch`), makes the same reload within a second; a worker started later (one
restarted after a crash) makes it on start.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from rules.errors import RulebookError
from rules.loader import load_rulebook
from rules.topics import TopicTree
from service.errors import Forbidden, ReloadRefused
from service.shadow import refresh_challenger
from service.state import AppState


def reload_versions(
    state: AppState, *, rules: bool, model: bool, rulebook_dir: str | None, bundle_dir: str | None
) -> dict[str, Any]:
    """Swap in a new rulebook and/or model; anything broken is refused and the old ones keep serving.

    Both are loaded and checked against each other (the model's topics must be the rulebook's)
    before either is swapped in.
    """
    check_reload_dirs(state, rulebook_dir, bundle_dir)
    rulebook = state.rulebooks.current
    if rules:
        try:
            rulebook = load_rulebook(Path(rulebook_dir) if rulebook_dir else state.rulebooks.root)
        except RulebookError as exc:
            raise ReloadRefused(
                "the new rulebook was refused; the old one keeps serving",
                details=[p.as_dict() for p in exc.problems],
            ) from None
    new_model = state.models.current
    try:
        if model:
            new_model = state.models.load(rulebook.topics, Path(bundle_dir) if bundle_dir else None)
        elif new_model is not None:
            new_model.check_topics(rulebook.topics)
    except Exception as exc:  # any bundle problem: refuse, keep what serves now
        raise ReloadRefused(f"refused, the old versions keep serving: {exc}") from None
    state.rulebooks.install(rulebook)
    if model and new_model is not None:
        state.models.install(new_model, Path(bundle_dir) if bundle_dir else None)
    challenger = follow_challenger(state, rulebook.topics, reload=model)
    state.publish_versions()
    return {
        "rulebook_version": rulebook.version,
        "model_version": new_model.classifier.version if new_model else None,
        "challenger_version": challenger,
    }


def follow_challenger(state: AppState, topics: TopicTree, *, reload: bool) -> str | None:
    """Reload the challenger from where the settings name it (`reload`), or keep it while it fits
    the rulebook's topics; return its version. A challenger never makes a reload fail."""
    if reload:
        return refresh_challenger(state.challenger, state.settings, topics)
    challenger = state.challenger.current
    if challenger is None:
        return None
    try:
        challenger.check_topics(topics)
    except Exception as exc:  # any misfit: the challenger goes, the reload goes on
        state.challenger.clear(f"{type(exc).__name__}: {exc}")
        return None
    return challenger.classifier.version


RELOAD_FILE = "reload.json"


def reload_everywhere(
    state: AppState, *, rules: bool, model: bool, rulebook_dir: str | None, bundle_dir: str | None
) -> dict[str, Any]:
    """Reload here as `reload_versions` does; with worker processes, announce it to the others."""
    request: dict[str, Any] = {
        "rules": rules,
        "model": model,
        "rulebook_dir": rulebook_dir,
        "bundle_dir": bundle_dir,
    }
    versions = reload_versions(state, **request)
    if state.settings.run_dir is not None:
        state.reload_generation = announce_reload(state.settings.run_dir, request)
    return versions


def announce_reload(run_dir: Path, request: dict[str, Any]) -> int:
    """Write the reload request for the other workers (atomically); return its generation."""
    generation = time.time_ns()
    temporary = run_dir / f".{RELOAD_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps({"generation": generation, "request": request}))
    os.replace(temporary, run_dir / RELOAD_FILE)
    return generation


def announced_reload(run_dir: Path) -> tuple[int, dict[str, Any]] | None:
    """Return the last reload announced in the run directory (generation, request), if any."""
    try:
        announced = json.loads((run_dir / RELOAD_FILE).read_text())
    except FileNotFoundError:
        return None
    return int(announced["generation"]), dict(announced["request"])


def check_reload_dirs(state: AppState, *requested: str | None) -> None:
    """Refuse a directory outside AUTOREPLY_RELOAD_ROOTS (any other server path): reloads and the
    console's rulebook comparison read only there."""
    roots = [root.resolve() for root in state.settings.reload_roots]
    for directory in filter(None, requested):
        if not any(Path(directory).resolve().is_relative_to(root) for root in roots):
            raise Forbidden(
                f"reload reads only under {[str(r) for r in roots]} (AUTOREPLY_RELOAD_ROOTS)"
            )
