"""Fixtures shared by every test package."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rules.rulebook import DEFAULT_ROOT


@pytest.fixture
def book_copy(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that copies the shipped rulebook and applies (file, old, new) edits."""

    def make(*edits: tuple[str, str, str]) -> Path:
        root = tmp_path / "book"
        if not root.exists():
            shutil.copytree(DEFAULT_ROOT, root)
        for rel, old, new in edits:
            path = root / rel
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            if old:
                assert old in text, f"{old!r} not in {rel}"
                text = text.replace(old, new, 1)
            else:
                text += new
            path.write_text(text, encoding="utf-8")
        return root

    return make
