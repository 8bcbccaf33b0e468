"""The rule engine's errors: every problem names its file, line and column."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """A 1-based position in a source file."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a rulebook, located so a person can go and fix it."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """Return the problem as a JSON-ready dict."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class RulebookError(Exception):
    """A rulebook was rejected whole; `problems` lists every error found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column))
        count = len(self.problems)
        head = f"rulebook rejected: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


@dataclass
class Problems:
    """Collects every problem found while loading, so all of them are reported together."""

    items: list[Problem] = field(default_factory=list)

    def add(self, where: Where, message: str) -> None:
        """Record one problem at `where`."""
        self.items.append(Problem(where.file, where.line, where.column, message))

    def raise_if_any(self) -> None:
        """Raise RulebookError listing each distinct problem once, if any was recorded."""
        if self.items:
            raise RulebookError(list(dict.fromkeys(self.items)))


class ConditionSyntaxError(ValueError):
    """A condition expression does not parse; `offset` is the 0-based column inside it."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset
