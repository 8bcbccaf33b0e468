"""The promotion gate: a challenger replaces the champion only when a written config says so.

The config (`training/configs/gate.json`) names, per figure of `autoreply evaluate`, how much
worse the challenger may be (overall and in every line/language group with enough tickets), and
the figures on which it must be better on at least one evaluation set. `decide` is pure: two
sets of reports in, a verdict with every reason out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Figures of training/replay.py's `figures` the gate may read, with their good direction.
HIGHER_IS_BETTER = ("coverage", "agreement", "accuracy")
LOWER_IS_BETTER = ("unsafe_rate", "error_rate")
FIGURES = HIGHER_IS_BETTER + LOWER_IS_BETTER
GATE_KEYS = ("no_worse", "groups", "group_margin", "min_group_tickets", "better_on", "min_gain")


class GateError(ValueError):
    """The gate config is malformed; the message names the key."""


@dataclass(frozen=True)
class Gate:
    """Margins of the promotion gate."""

    no_worse: dict[str, float]  # figure -> how much worse overall is still acceptable
    groups: tuple[str, ...] = ("by_line_locale",)
    group_margin: dict[str, float] = field(default_factory=dict)
    min_group_tickets: int = 20
    better_on: tuple[str, ...] = ("coverage", "accuracy")
    min_gain: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gate:
        """Return the gate a JSON object describes; raise GateError naming any unknown key."""
        problems = [
            f"unknown key '{k}' (known: {', '.join(GATE_KEYS)})" for k in data if k not in GATE_KEYS
        ]
        for key in ("no_worse", "group_margin"):
            problems += [
                f"{key}: unknown figure '{f}'" for f in data.get(key, {}) if f not in FIGURES
            ]
        problems += [
            f"better_on: unknown figure '{f}'"
            for f in data.get("better_on", ())
            if f not in FIGURES
        ]
        if "no_worse" not in data:
            problems.append("missing 'no_worse'")
        if problems:
            raise GateError("gate config: " + "; ".join(problems))
        return cls(
            no_worse={k: float(v) for k, v in data["no_worse"].items()},
            groups=tuple(data.get("groups", cls.groups)),
            group_margin={k: float(v) for k, v in data.get("group_margin", {}).items()},
            min_group_tickets=int(data.get("min_group_tickets", cls.min_group_tickets)),
            better_on=tuple(data.get("better_on", cls.better_on)),
            min_gain=float(data.get("min_gain", cls.min_gain)),
        )  # fmt: skip


def load_gate(path: Path) -> Gate:
    """Read a gate config file."""
    try:
        return Gate.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise GateError(f"gate config {path}: {exc}") from None


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, why, and every comparison made."""

    promote: bool
    reasons: list[str]
    better: list[str]

    def as_dict(self) -> dict[str, Any]:
        """Return the verdict as JSON values (stored in the history)."""
        return {"promote": self.promote, "reasons": self.reasons, "better": self.better}


def decide(gate: Gate, champion: dict[str, Any], challenger: dict[str, Any]) -> Verdict:
    """Compare two `{set name: evaluate report}` dicts; promote only if no check fails and the
    challenger is better on one of `better_on` in some set both were evaluated on."""
    failures: list[str] = []
    better: list[str] = []
    for name in sorted(set(champion) & set(challenger)):
        old, new = champion[name], challenger[name]
        failures += _worse(f"{name}", gate.no_worse, old["overall"], new["overall"])
        for group_kind in gate.groups:
            for group, figures in sorted(new.get(group_kind, {}).items()):
                base = old.get(group_kind, {}).get(group)
                if base is not None and figures["tickets"] >= gate.min_group_tickets:
                    margins = gate.group_margin or gate.no_worse
                    failures += _worse(f"{name} {group}", margins, base, figures)
        better += [
            f"{name}: {f} {_value(new['overall'], f)} > {_value(old['overall'], f)}"
            for f in gate.better_on
            if _gain(f, old["overall"], new["overall"]) > gate.min_gain
        ]
    if not better:
        failures.append(f"not better on {' or '.join(gate.better_on)} in any evaluation set")
    return Verdict(promote=not failures, reasons=failures or better, better=better)


def _worse(
    where: str, margins: dict[str, float], old: dict[str, Any], new: dict[str, Any]
) -> list[str]:
    return [
        f"{where}: {f} {_value(new, f)} is worse than the champion's {_value(old, f)} "
        f"by more than {margin}"
        for f, margin in margins.items()
        if -_gain(f, old, new) > margin + 1e-9
    ]


def _gain(figure: str, old: dict[str, Any], new: dict[str, Any]) -> float:
    """Return how much better `new` is on `figure` (negative: worse)."""
    delta = _value(new, figure) - _value(old, figure)
    return delta if figure in HIGHER_IS_BETTER else -delta


def _value(figures: dict[str, Any], figure: str) -> float:
    """Return a figure, None (no replies, no tickets) counted as 0."""
    return float(figures.get(figure) or 0.0)
