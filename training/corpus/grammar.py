"""A tiny pattern language for phrasing families, compiled once and expanded with a seeded RNG.

    [a|b|c]   one of the alternatives, uniformly (alternatives may be empty: [|a] = optional)
    [a]       optional: present half of the time
    {slot}    a value filled in per ticket (an amount, a date, a car)

Alternatives nest: "[my [promo|promo code]|the coupon] didn't work". Square brackets and braces
are reserved; everything else is literal text, so patterns read like the messages they produce.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.!?;:])")


class PatternError(ValueError):
    """A phrasing pattern that does not parse (an unbalanced bracket, an empty slot name)."""


@dataclass(frozen=True)
class Choice:
    """One of several sequences; `optional` adds the empty sequence as an equal alternative."""

    options: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True)
class Slot:
    """A named value filled in at expansion."""

    name: str


Node = str | Choice | Slot


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def sequence(self, stop: str) -> list[tuple[Node, ...]]:
        """Parse alternatives separated by '|' until a char in `stop` (or the end)."""
        options: list[tuple[Node, ...]] = []
        current: list[Node] = []
        literal: list[str] = []
        while self.i < len(self.text) and self.text[self.i] not in stop:
            char = self.text[self.i]
            if char in "[{":
                if literal:
                    current.append("".join(literal))
                    literal = []
                current.append(self.choice() if char == "[" else self.slot())
                continue
            if char == "|":
                if not stop:
                    raise PatternError(f"'|' outside brackets at {self.i} in {self.text!r}")
                current.append("".join(literal))
                options.append(tuple(n for n in current if n != ""))
                current, literal = [], []
            elif char in "]}":
                raise PatternError(f"unbalanced {char!r} at {self.i} in {self.text!r}")
            else:
                literal.append(char)
            self.i += 1
        if literal:
            current.append("".join(literal))
        options.append(tuple(current))
        return options

    def choice(self) -> Choice:
        self.i += 1
        options = self.sequence("]")
        if self.i >= len(self.text):
            raise PatternError(f"unclosed '[' in {self.text!r}")
        self.i += 1
        if len(options) == 1:
            options.append(())
        return Choice(tuple(options))

    def slot(self) -> Slot:
        end = self.text.find("}", self.i)
        name = self.text[self.i + 1 : end] if end > 0 else ""
        if not re.fullmatch(r"[a-z_]+", name):
            raise PatternError(f"bad slot at {self.i} in {self.text!r}")
        self.i = end + 1
        return Slot(name)


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: expand it with an RNG and the ticket's slot values."""

    source: str
    nodes: tuple[Node, ...]

    def expand(self, rng: random.Random, slots: Mapping[str, str]) -> str:
        """Return one realisation of the pattern with spaces tidied."""
        out: list[str] = []
        _expand(self.nodes, rng, slots, out)
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", "".join(out)))
        return text.strip()

    def slots(self) -> set[str]:
        """Return every slot name the pattern may use."""
        found: set[str] = set()
        _collect(self.nodes, found)
        return found


def compile_pattern(source: str) -> Pattern:
    """Parse `source` into a Pattern; raise PatternError on unbalanced brackets."""
    options = _Parser(source).sequence("")
    return Pattern(source, options[0])


def _expand(
    nodes: tuple[Node, ...], rng: random.Random, slots: Mapping[str, str], out: list[str]
) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Slot):
            out.append(slots[node.name])
        else:
            _expand(node.options[rng.randrange(len(node.options))], rng, slots, out)


def _collect(nodes: tuple[Node, ...], found: set[str]) -> None:
    for node in nodes:
        if isinstance(node, Slot):
            found.add(node.name)
        elif isinstance(node, Choice):
            for option in node.options:
                _collect(option, found)
