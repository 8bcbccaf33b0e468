"""The bundle registry on disk: immutable `<root>/<version>/` directories and a `current` pointer.

    <root>/<version>/     one bundle, written aside and renamed into place, then made read-only
    <root>/current        a symlink to `<version>`, replaced atomically (rename over the old one)
    <root>/shadow         the same for the challenger the service scores in shadow (optional)
    <root>/data/<version>/  the training data a retrain merged for that version (optional)
    <root>/.work/         what a retrain writes before publishing; never read as a bundle

The service serves `<root>/current` (AUTOREPLY_BUNDLE_DIR) and scores `<root>/shadow` beside it
without sending anything: a reload, or the pointer watch, follows each symlink to the version it
names now. No torch and no database here; the history of
promotions lives in the database (`service/db/history.py`).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from models.bundle import MANIFEST, load_bundle

POINTER = "current"
SHADOW = "shadow"
DATA_DIR = "data"
WORK_DIR = ".work"
RESERVED = (POINTER, SHADOW, DATA_DIR)


class RegistryError(ValueError):
    """A registry operation was refused; the message says why and what to do."""


class Registry:
    """One registry directory: its versions, which one is current, and the atomic swap."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        """Return the path the service serves (`<root>/current`)."""
        return self.root / POINTER

    @property
    def work(self) -> Path:
        """Return the scratch directory a retrain writes into before publishing."""
        return self.root / WORK_DIR

    def path(self, version: str) -> Path:
        """Return the directory of `version`, or raise RegistryError when it is not registered."""
        if version in RESERVED or "/" in version or version.startswith("."):
            raise RegistryError(f"'{version}' is not a bundle version")
        found = self.root / version
        if not (found / MANIFEST).is_file():
            raise RegistryError(f"no bundle '{version}' in {self.root} (see `bundles list`)")
        return found

    def versions(self) -> list[str]:
        """Return the registered versions, oldest first (by the manifest's created_at)."""
        if not self.root.is_dir():
            return []
        found = [
            d for d in self.root.iterdir()
            if d.is_dir() and not d.is_symlink() and not d.name.startswith(".")
            and d.name not in RESERVED and (d / MANIFEST).is_file()
        ]  # fmt: skip
        return [d.name for d in sorted(found, key=lambda d: (_created_at(d), d.name))]

    def current(self) -> str | None:
        """Return the version `current` points to (None: no pointer yet)."""
        return self.pointed(POINTER)

    def shadow(self) -> str | None:
        """Return the version `shadow` points to: the challenger scored in shadow (None: none)."""
        return self.pointed(SHADOW)

    def pointed(self, name: str) -> str | None:
        """Return the version the pointer `name` names (None: no such pointer)."""
        link = self.root / name
        if link.is_symlink():
            return Path(os.readlink(link)).name
        if link.exists():
            raise RegistryError(
                f"{link} is a directory, not the registry's pointer: register it with "
                f"`autoreply bundles add {link}`, move it away, then promote its version"
            )
        return None

    def add(self, bundle_dir: Path, *, move: bool = False) -> str:
        """Validate a bundle, publish it as `<root>/<version>/` (read-only); return its version.

        The copy (or the move, on the same filesystem) goes to a hidden directory first and is
        renamed into place, so a killed run never leaves a half bundle under a version's name.
        Registering the same version again is a no-op; its files are never replaced.
        """
        version = load_bundle(bundle_dir).version
        target = self.root / version
        if (target / MANIFEST).is_file():
            return version
        self.work.mkdir(parents=True, exist_ok=True)
        aside = self.work / f"{version}.incoming-{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        if move:
            bundle_dir.rename(aside)
        else:
            shutil.copytree(bundle_dir, aside, symlinks=False)
        load_bundle(aside)  # the copy, hashes included, before anyone can see it
        _make_read_only(aside)
        aside.rename(target)
        return version

    def point(self, version: str, name: str = POINTER) -> None:
        """Make the pointer `name` (`current` unless told) name `version`: a new symlink renamed
        over the old one (atomic)."""
        self.path(version)
        self.pointed(name)  # refuses a real directory where the pointer belongs
        fresh = self.root / f".{name}.{os.getpid()}"
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(version, target_is_directory=True)
        fresh.replace(self.root / name)

    def unpoint(self, name: str) -> str | None:
        """Remove the pointer `name` (never `current`); return the version it named."""
        if name == POINTER:
            raise RegistryError("`current` is never removed: promote another version instead")
        version = self.pointed(name)
        (self.root / name).unlink(missing_ok=True)
        return version


def _created_at(directory: Path) -> str:
    try:
        return str(json.loads((directory / MANIFEST).read_text())["created_at"])
    except (OSError, ValueError, KeyError):
        return ""


def _make_read_only(root: Path) -> None:
    """Drop every write bit under `root` (files, then directories, the root last)."""
    keep = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.chmod(path.stat().st_mode & keep)
    root.chmod(root.stat().st_mode & keep)
