"""YAML loading that remembers where each value came from (file, line, column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rules.errors import Where


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


def load_located(path: Path, display: str) -> Any:
    """Parse one YAML file into values that carry their positions; raise yaml.YAMLError."""
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(display, node, loader)
    finally:
        loader.dispose()


def where_of(value: Any, fallback: Where) -> Where:
    """Return the position a located value carries, or `fallback`."""
    return getattr(value, "where", fallback)
