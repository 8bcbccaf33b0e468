"""Reading facts.yaml: the typed vocabulary every condition, slot and rule test is checked against."""

from __future__ import annotations

from typing import Any

from rules.errors import Problems, Where
from rules.facts import FactSchema, FactSpec, FactType, suggest
from rules.read.checks import ID, check_keys
from rules.read.source import LocDict, YamlFile, where_of

FACT_KEYS = {"type": str, "description": str, "nullable": bool, "values": list}
FACT_TYPES = [t.value for t in FactType]


def read_facts(file: YamlFile, problems: Problems) -> FactSchema:
    """Return the schema of the facts `file` declares; a malformed fact is a problem, left out."""
    data = file.data
    if not isinstance(data, LocDict) or not isinstance(data.get("facts"), LocDict):
        problems.add(where_of(data, file.top), "expected a mapping 'facts: {name: {...}}'")
        return FactSchema({})
    facts: LocDict = data["facts"]
    specs: dict[str, FactSpec] = {}
    for name, spec in facts.items():
        fact = _fact(name, spec, facts.at(name), problems)
        if fact is not None:
            specs[name] = fact
    return FactSchema(specs)


def _fact(name: str, spec: Any, where: Where, problems: Problems) -> FactSpec | None:
    if not ID.match(name):
        problems.add(where, f"fact name '{name}' must be lower_snake_case")
        return None
    if not isinstance(spec, LocDict):
        problems.add(where, f"fact '{name}' must be a mapping")
        return None
    if not check_keys(spec, FACT_KEYS, {"type", "description"}, f"fact '{name}'", problems):
        return None
    if spec["type"] not in FACT_TYPES:
        problems.add(
            spec.at("type"), f"unknown type '{spec['type']}'{suggest(spec['type'], FACT_TYPES)}"
        )
        return None
    kind = FactType(spec["type"])
    values = tuple(str(v) for v in spec.get("values", []))
    if (kind is FactType.ENUM) != bool(values):
        problems.add(spec.at("values"), "an enum lists its 'values', and only an enum does")
    return FactSpec(name, kind, spec["description"], spec.get("nullable", True), values)
