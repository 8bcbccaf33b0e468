"""Reading rulebook files: YAML whose values remember their file, line and column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rules.errors import Problems, Where


class LocStr(str):
    """A string scalar that knows its position."""

    where: Where


class LocDict(dict[str, Any]):
    """A mapping that knows its own position and the position of each key."""

    where: Where
    key_where: dict[str, Where]

    def at(self, key: str) -> Where:
        """Return the position of `key`, or of the mapping itself when the key is absent."""
        return self.key_where.get(key, self.where)


class LocList(list[Any]):
    """A sequence that knows its position and the position of each item."""

    where: Where
    item_where: list[Where]


@dataclass(frozen=True)
class YamlFile:
    """One rulebook file as read: its path, its located data (None if empty or broken), its start."""

    path: Path
    data: Any
    top: Where


def where_of(value: Any, fallback: Where) -> Where:
    """Return the position a located value carries, or `fallback`."""
    return getattr(value, "where", fallback)


def read_yaml(path: Path, problems: Problems) -> YamlFile:
    """Parse one YAML file into located values; a syntax error is a problem and leaves no data."""
    display = _display(path)
    try:
        data = _load_located(path, display)
    except yaml.YAMLError as exc:
        problems.add(*_syntax_problem(exc, display))
        data = None
    return YamlFile(path, data, Where(display, 1, 1))


def read_yaml_files(folder: Path, problems: Problems, tests: bool = False) -> list[YamlFile]:
    """Read every *.yaml under `folder` in name order: only the *.test.yaml ones if `tests`, else the rest."""
    paths = sorted(folder.rglob("*.yaml"))
    return [read_yaml(p, problems) for p in paths if p.name.endswith(".test.yaml") == tests]


def _display(path: Path) -> str:
    # Problems name a file relative to the working directory when it lies below it.
    absolute = path.resolve()
    cwd = Path.cwd()
    return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(absolute)


def _syntax_problem(exc: yaml.YAMLError, display: str) -> tuple[Where, str]:
    # Point at the construct that is broken (the context), and say where it was noticed.
    problem_mark = getattr(exc, "problem_mark", None)
    mark = getattr(exc, "context_mark", None) or problem_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = f"YAML syntax: {getattr(exc, 'problem', None) or exc}"
    if getattr(exc, "context", None) and problem_mark is not None:
        message += f" ({exc.context}, noticed at line {problem_mark.line + 1})"  # type: ignore[attr-defined]
    return Where(display, line, col), message


def _load_located(path: Path, display: str) -> Any:
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(display, node, loader)
    finally:
        loader.dispose()


def _where(file: str, node: yaml.Node) -> Where:
    return Where(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(file: str, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LocDict()
        out.where = _where(file, node)
        out.key_where = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node, deep=True))
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            out.key_where[key] = _where(file, key_node)
            out[key] = _build(file, value_node, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LocList(_build(file, item, loader) for item in node.value)
        items.where = _where(file, node)
        items.item_where = [_where(file, item) for item in node.value]
        return items
    value = loader.construct_object(node, deep=True)
    if isinstance(value, str):
        located = LocStr(value)
        start = _where(file, node)
        # A quoted scalar's text starts one column after its quote mark.
        shift = 1 if getattr(node, "style", None) in ("'", '"') else 0
        located.where = Where(start.file, start.line, start.column + shift)
        return located
    return value
