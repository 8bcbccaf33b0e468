"""The serving process's current rulebook, swapped atomically; a broken new version is refused."""

from __future__ import annotations

import threading
from pathlib import Path

from rules.loader import load_rulebook
from rules.rulebook import Rulebook


class RulebookHolder:
    """Holds the rulebook in use. Readers take `current` once per ticket and keep that object."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._current = load_rulebook(root)

    @property
    def current(self) -> Rulebook:
        """Return the rulebook in use (a plain attribute read: atomic under the GIL)."""
        return self._current

    def install(self, rulebook: Rulebook) -> None:
        """Swap in a rulebook already loaded and checked (e.g. after checking it fits the model)."""
        with self._lock:
            self._current = rulebook
            self.root = rulebook.root

    def reload(self, root: Path | None = None) -> Rulebook:
        """Load the rulebook again (from `root` if given) and swap it in; return the new one.

        Raises RulebookError and keeps the old rulebook when the new one has any problem.
        """
        with self._lock:
            fresh = load_rulebook(root or self.root)
            self._current = fresh
            self.root = root or self.root
            return fresh
