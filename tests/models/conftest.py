"""Fixtures of tests/models."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.helpers import quick_bundle as build_quick_bundle


@pytest.fixture(scope="session")
def quick_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the session's quick bundle (real MiniLM, synthetic corpus)."""
    return build_quick_bundle(tmp_path_factory.mktemp("quick"))
