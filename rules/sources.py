"""Reading rulebook files with positions, and the checks every loader step shares."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from rules.errors import Problems
from rules.facts import suggest
from rules.yamlsrc import LocDict, LocList, Where, load_located, where_of

ID = re.compile(r"^[a-z0-9_]+$")
DOTTED_ID = re.compile(r"^[a-z0-9_.-]+$")


def check_keys(
    data: LocDict,
    allowed: Mapping[str, type | tuple[type, ...]],
    required: set[str],
    what: str,
    problems: Problems,
) -> bool:
    """Check a mapping's keys and value types; return whether it is usable."""
    ok = True
    for key in data:
        if key not in allowed:
            problems.add(data.at(key), f"unknown key '{key}' in {what}{suggest(key, allowed)}")
            ok = False
        elif not isinstance(data[key], allowed[key]) or (
            isinstance(data[key], bool) and allowed[key] is int
        ):
            expected = allowed[key]
            names = (
                [t.__name__ for t in expected]
                if isinstance(expected, tuple)
                else [expected.__name__]
            )
            problems.add(data.at(key), f"'{key}' in {what} must be {' or '.join(names)}")
            ok = False
    for key in sorted(required - set(data)):
        problems.add(data.where, f"{what} lacks '{key}'")
        ok = False
    return ok


def mapping_items(
    data: Any, key: str, problems: Problems, file: Where
) -> Iterator[tuple[LocDict, Where]]:
    """Yield the mappings listed under `key` of a file's top-level mapping."""
    if not isinstance(data, LocDict) or not isinstance(data.get(key), LocList):
        problems.add(where_of(data, file), f"expected a mapping with a list under '{key}'")
        return
    items: LocList = data[key]
    for item, where in zip(items, items.item_where, strict=True):
        if isinstance(item, LocDict):
            yield item, where
        else:
            problems.add(where, f"each entry under '{key}' must be a mapping")


class SourceReader:
    """Reads a rulebook's YAML files, remembering each file and every problem found."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems = Problems()
        self.files: list[Path] = []

    def display(self, path: Path) -> str:
        absolute = path.resolve()
        cwd = Path.cwd()
        return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(absolute)

    def read(self, path: Path) -> Any:
        display = self.display(path)
        self.files.append(path)
        try:
            return load_located(path, display)
        except yaml.YAMLError as exc:
            # Point at the construct that is broken (the context), and say where it was noticed.
            problem_mark = getattr(exc, "problem_mark", None)
            mark = getattr(exc, "context_mark", None) or problem_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            message = f"YAML syntax: {getattr(exc, 'problem', None) or exc}"
            if getattr(exc, "context", None) and problem_mark is not None:
                message += f" ({exc.context}, noticed at line {problem_mark.line + 1})"  # type: ignore[attr-defined]
            self.problems.add(Where(display, line, col), message)
            return None

    def glob(self, sub: str, tests: bool = False) -> list[Path]:
        paths = sorted((self.root / sub).rglob("*.yaml"))
        return [p for p in paths if p.name.endswith(".test.yaml") == tests]

    def top(self, path: Path) -> Where:
        return Where(self.display(path), 1, 1)

    def check_ref(self, name: Any, known: Any, what: str, where: Where) -> None:
        if name not in known:
            self.problems.add(where, f"unknown {what} '{name}'{suggest(str(name), known)}")
