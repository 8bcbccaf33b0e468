"""The bundle registry on disk: versions are immutable once written, `current` moves atomically."""

from __future__ import annotations

import os
import stat

import pytest

from models.bundle import load_bundle
from models.registry import Registry, RegistryError
from tests.models.helpers import bundle_variant, tiny_bundle

pytestmark = pytest.mark.slow
WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    base = tiny_bundle(tmp_path_factory.mktemp("tiny"))
    variants = tmp_path_factory.mktemp("variants")
    return [bundle_variant(base, variants / f"v{i}", t) for i, t in enumerate((0.5, 0.9))]


def test_a_version_is_published_read_only_and_never_replaced(bundles, tmp_path):
    registry = Registry(tmp_path / "reg")
    version = registry.add(bundles[0])
    path = registry.path(version)
    assert load_bundle(path).version == version == path.name
    assert not any(p.stat().st_mode & WRITE_BITS for p in (path, *path.rglob("*")))
    assert registry.add(bundles[0]) == version  # the same bundle again: nothing rewritten
    assert registry.versions() == [version] and registry.current() is None
    assert not list(registry.work.iterdir())  # nothing half-written left aside


def test_the_pointer_is_a_symlink_replaced_in_one_rename(bundles, tmp_path):
    registry = Registry(tmp_path / "reg")
    first, second = (registry.add(b) for b in bundles)
    registry.point(first)
    assert registry.current() == first and load_bundle(registry.pointer).version == first
    registry.point(second)
    assert os.readlink(registry.pointer) == second
    assert load_bundle(registry.pointer).version == second
    assert sorted(p.name for p in registry.root.iterdir()) == sorted(
        [".work", "current", first, second]
    )  # no temporary link left behind


def test_unknown_versions_and_a_directory_in_place_of_the_pointer_are_refused(bundles, tmp_path):
    registry = Registry(tmp_path / "reg")
    with pytest.raises(RegistryError, match="no bundle 'nope'"):
        registry.point("nope")
    with pytest.raises(RegistryError, match="not a bundle version"):
        registry.path("../elsewhere")
    version = registry.add(bundles[0])
    (registry.root / "current").mkdir()
    with pytest.raises(RegistryError, match="bundles add"):
        registry.point(version)
