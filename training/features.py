"""The label space (which leaves each line's head predicts) and examples turned into ids."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.prediction import GUARD_CLASSES
from models.spec import ModelSpec
from models.textenc import TextEncoder
from training.data import DataError, Example, Splits

NO_GUARD = -100  # ignored by the guard loss


@dataclass(frozen=True)
class LabelSpace:
    """Each line's leaves in label order and the topic snapshot the bundle will store."""

    lines: dict[str, tuple[str, ...]]
    snapshot: dict[str, list[dict[str, Any]]]
    source: str  # "rulebook <version>" or "data"


def build_label_space(splits: Splits, rulebook: str) -> LabelSpace:
    """Return the leaves from the rulebook's topic tree, or from the labels seen in the data."""
    seen: dict[str, set[str]] = defaultdict(set)
    for example in splits.all():
        seen[example.line].add(example.label)
    if not rulebook:
        lines = {line: tuple(sorted(labels)) for line, labels in sorted(seen.items())}
        snapshot = {
            line: [{"path": leaf, "actionable": True, "title": {}} for leaf in leaves]
            for line, leaves in lines.items()
        }
        return LabelSpace(lines, snapshot, "data")
    from rules.loader import load_rulebook

    book = load_rulebook(Path(rulebook))
    tree_snapshot = book.topics.snapshot()
    lines = {}
    for line in sorted(seen):
        if line not in book.topics.lines:
            raise DataError(f"line '{line}' of the data is not in the rulebook {rulebook}")
        lines[line] = tuple(book.topics.leaf_paths(line))
        unknown = sorted(seen[line] - set(lines[line]))
        if unknown:
            raise DataError(f"labels not among the rulebook's leaves: {', '.join(unknown[:5])}")
    snapshot = {line: tree_snapshot[line] for line in lines}
    return LabelSpace(lines, snapshot, f"rulebook {book.version}")


@dataclass
class Features:
    """One split encoded once: unpadded ids and types, line, leaf index, guard index, locale."""

    ids: list[list[int]]
    types: list[list[int]]
    lines: list[str]
    labels: np.ndarray  # leaf index within the example's line
    guards: np.ndarray  # index in GUARD_CLASSES, NO_GUARD when unlabelled
    locales: list[str]
    truncated: np.ndarray
    texts: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def by_line(self) -> dict[str, list[int]]:
        """Return the example indices of each line."""
        groups: dict[str, list[int]] = defaultdict(list)
        for i, line in enumerate(self.lines):
            groups[line].append(i)
        return dict(groups)

    def lengths(self) -> list[int]:
        """Return each example's number of word pieces."""
        return [len(row) for row in self.ids]


def featurize(examples: list[Example], encoder: TextEncoder, spec: ModelSpec) -> Features:
    """Return the examples tokenized for `spec`'s heads (labels as indices into each line)."""
    ids, types, truncated = encoder.rows([e.text for e in examples], [e.dialogue for e in examples])
    index = {
        line: {leaf: i for i, leaf in enumerate(leaves)} for line, leaves in spec.lines.items()
    }
    guard_index = {name: i for i, name in enumerate(GUARD_CLASSES)}
    return Features(
        ids=ids,
        types=types,
        lines=[e.line for e in examples],
        labels=np.array([index[e.line][e.label] for e in examples], dtype=np.int64),
        guards=np.array(
            [guard_index[e.guard] if e.guard else NO_GUARD for e in examples], dtype=np.int64
        ),
        locales=[e.locale for e in examples],
        truncated=np.array(truncated, dtype=bool),
        texts=[e.text for e in examples],
    )
