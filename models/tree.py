"""One support line's topic tree as index arrays, and the hierarchy math shared by both designs.

Two hierarchical designs produce a distribution over the tree whose inner nodes are the sums of
their leaves (consistent by construction):

- `flat`: one softmax over the leaves; a parent's probability is the sum of its leaves'.
- `conditional`: one softmax per inner node over its children; a leaf's probability is the
  product of the conditionals on its path (log-probabilities add along the path).

The network emits raw scores; this module (numpy) and `models.heads` (torch) turn them into leaf
log-probabilities the same way, so training, evaluation and serving cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, get_args

import numpy as np

Design = Literal["flat", "conditional"]
DESIGNS: tuple[str, ...] = get_args(Design)


@dataclass(frozen=True)
class LabelTree:
    """The leaves of one line in label order and every node between them and the line's root."""

    line: str
    leaves: tuple[str, ...]
    nodes: tuple[str, ...] = field(init=False)  # below the root, parents first, siblings together
    parents: tuple[int, ...] = field(init=False)  # index into `nodes`, -1 under the root

    def __post_init__(self) -> None:
        if not self.leaves:
            raise ValueError(f"line '{self.line}' has no leaves")
        if len(set(self.leaves)) != len(self.leaves):
            raise ValueError(f"line '{self.line}' lists a leaf twice")
        children: dict[str, list[str]] = {self.line: []}
        for leaf in self.leaves:
            parts = leaf.split("/")
            if parts[0] != self.line or len(parts) < 2:
                raise ValueError(f"leaf '{leaf}' is not below line '{self.line}'")
            for depth in range(1, len(parts)):
                parent, node = "/".join(parts[:depth]), "/".join(parts[: depth + 1])
                if node not in children:
                    children[node] = []
                    children[parent].append(node)
        inner_leaves = [leaf for leaf in self.leaves if children[leaf]]
        if inner_leaves:
            raise ValueError(f"'{inner_leaves[0]}' is both a leaf and a parent")
        nodes: list[str] = []
        parents: list[int] = []
        queue = [self.line]
        while queue:  # breadth-first: parents before children, siblings contiguous
            parent = queue.pop(0)
            for child in children[parent]:
                nodes.append(child)
                parents.append(nodes.index(parent) if parent != self.line else -1)
                queue.append(child)
        object.__setattr__(self, "nodes", tuple(nodes))
        object.__setattr__(self, "parents", tuple(parents))

    def n_scores(self, design: Design) -> int:
        """Return how many raw scores a head of `design` emits for this tree."""
        return len(self.leaves) if design == "flat" else len(self.nodes)

    def depth(self, node: str) -> int:
        """Return a node's depth below the line's root (a top category is 1)."""
        return node.count("/")

    def path_nodes(self, leaf_index: int) -> list[int]:
        """Return the node indices on a leaf's path, top category first."""
        return self._paths[leaf_index]

    @cached_property
    def _paths(self) -> list[list[int]]:
        where = {node: i for i, node in enumerate(self.nodes)}
        paths = []
        for leaf in self.leaves:
            path = [where[leaf]]
            while self.parents[path[-1]] >= 0:
                path.append(self.parents[path[-1]])
            paths.append(path[::-1])
        return paths

    @cached_property
    def ancestry(self) -> np.ndarray:
        """A [leaves, nodes] 0/1 matrix: 1 where the node lies on the leaf's path."""
        matrix = np.zeros((len(self.leaves), len(self.nodes)), dtype=np.float32)
        for leaf, path in enumerate(self._paths):
            matrix[leaf, path] = 1.0
        return matrix

    @cached_property
    def sibling_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """([groups, width] node indices padded with -1, each node's group, its slot in it)."""
        groups: dict[int, list[int]] = {}
        for node, parent in enumerate(self.parents):
            groups.setdefault(parent, []).append(node)
        width = max(len(members) for members in groups.values())
        table = np.full((len(groups), width), -1, dtype=np.int64)
        group_of = np.zeros(len(self.nodes), dtype=np.int64)
        slot_of = np.zeros(len(self.nodes), dtype=np.int64)
        for row, members in enumerate(groups.values()):
            table[row, : len(members)] = members
            group_of[members] = row
            slot_of[members] = np.arange(len(members))
        return table, group_of, slot_of

    def leaf_log_probs(
        self, scores: np.ndarray, design: Design, temperature: float = 1.0
    ) -> np.ndarray:
        """Return [batch, leaves] log-probabilities from a head's raw [batch, scores] output."""
        z = np.asarray(scores, dtype=np.float64) / temperature
        if design == "flat":
            return _log_softmax(z)
        table, group_of, slot_of = self.sibling_groups
        padded = np.where(table >= 0, z[:, np.maximum(table, 0)], -np.inf)  # [B, G, W]
        node_log = _log_softmax(padded)[:, group_of, slot_of]  # [B, nodes]
        return node_log @ self.ancestry.T.astype(np.float64)

    def node_probs(self, leaf_probs: np.ndarray) -> np.ndarray:
        """Return [batch, nodes] probabilities: each node's is the sum of its leaves'."""
        return np.asarray(leaf_probs) @ self.ancestry

    def level_of_nodes(self, level: int) -> list[int]:
        """Return the indices of the nodes at depth `level`, and of shallower leaves."""
        return [
            i
            for i, node in enumerate(self.nodes)
            if self.depth(node) == level or (node in self.leaves and self.depth(node) < level)
        ]

    @property
    def max_depth(self) -> int:
        """Return the depth of the deepest leaf."""
        return max(self.depth(leaf) for leaf in self.leaves)


def build_trees(lines: Mapping[str, Sequence[str]]) -> dict[str, LabelTree]:
    """Return one LabelTree per line from its leaf paths in label order."""
    return {line: LabelTree(line, tuple(leaves)) for line, leaves in lines.items()}


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """Return log-softmax over the last axis; -inf entries stay -inf."""
    top = np.max(z, axis=-1, keepdims=True)
    shifted = z - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
