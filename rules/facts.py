"""The facts vocabulary: the typed schema of what a ticket may carry about the ride and the user."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class FactType(StrEnum):
    """The types a fact may have; conditions are type-checked against these at load."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STR = "str"
    ENUM = "enum"
    DATETIME = "datetime"
    LIST = "list"  # a list of strings

    @property
    def numeric(self) -> bool:
        """Whether values of this type order as numbers."""
        return self in (FactType.INT, FactType.FLOAT)


@dataclass(frozen=True)
class FactSpec:
    """One declared fact."""

    name: str
    type: FactType
    description: str
    nullable: bool
    values: tuple[str, ...] = ()  # the allowed values of an enum


class FactValueError(ValueError):
    """Ticket facts that do not fit the schema; `errors` maps each fact name to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in sorted(errors.items())))


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return a "; did you mean 'x'?" hint for a near miss, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _coerce(spec: FactSpec, value: Any) -> Any:
    """Return `value` converted to the fact's type, or raise ValueError saying what to send."""
    kind = spec.type
    if kind is FactType.BOOL and isinstance(value, bool):
        return value
    if kind is FactType.INT and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is FactType.INT and isinstance(value, float) and value.is_integer():
        return int(
            value
        )  # JSON has one number type: 100.0 is the integer 100 (as JSON Schema says)
    if kind is FactType.FLOAT and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is FactType.STR and isinstance(value, str):
        return value
    if kind is FactType.ENUM and isinstance(value, str):
        if value not in spec.values:
            raise ValueError(
                f"'{value}' is not one of {list(spec.values)}{suggest(value, spec.values)}"
            )
        return value
    if kind is FactType.DATETIME and isinstance(value, str | datetime):
        try:
            return value if isinstance(value, datetime) else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not an ISO 8601 date-time") from None
    if kind is FactType.LIST and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    expected = "a list of strings" if kind is FactType.LIST else f"a {kind.value}"
    raise ValueError(f"expected {expected}, got {type(value).__name__} {value!r}")


@dataclass(frozen=True)
class FactSchema:
    """All declared facts, by name."""

    specs: Mapping[str, FactSpec]

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def get(self, name: str) -> FactSpec | None:
        """Return the spec of `name`, or None when no such fact is declared."""
        return self.specs.get(name)

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Return ticket facts converted to their types; raise FactValueError listing every problem.

        A null value means the fact is missing; it is accepted for nullable facts only.
        """
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        for name, value in raw.items():
            spec = self.specs.get(name)
            if spec is None:
                errors[name] = f"unknown fact{suggest(name, self.specs)}"
            elif value is None:
                if not spec.nullable:
                    errors[name] = "may not be null: this fact is always known when it is sent"
            else:
                try:
                    out[name] = _coerce(spec, value)
                except ValueError as exc:
                    errors[name] = str(exc)
        if errors:
            raise FactValueError(errors)
        return out
