"""The shape checks every reader shares: ids, keys and value types, lists of mappings, references."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from rules.errors import Problems, Where
from rules.facts import suggest
from rules.read.source import LocDict, LocList, YamlFile, where_of

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


def mapping_items(file: YamlFile, key: str, problems: Problems) -> Iterator[tuple[LocDict, Where]]:
    """Yield the mappings listed under `key` of a file's top-level mapping, with their positions."""
    data = file.data
    if not isinstance(data, LocDict) or not isinstance(data.get(key), LocList):
        problems.add(where_of(data, file.top), f"expected a mapping with a list under '{key}'")
        return
    items: LocList = data[key]
    for item, where in zip(items, items.item_where, strict=True):
        if isinstance(item, LocDict):
            yield item, where
        else:
            problems.add(where, f"each entry under '{key}' must be a mapping")


def check_ref(
    name: Any, known: Collection[str], what: str, where: Where, problems: Problems
) -> None:
    """Record a problem at `where` unless `name` is one of `known`, suggesting a near miss."""
    if name not in known:
        problems.add(where, f"unknown {what} '{name}'{suggest(str(name), known)}")
