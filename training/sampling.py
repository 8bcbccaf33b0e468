"""Multitask batch order: every batch holds one line; lines are mixed across the epoch.

Each line's examples are shuffled, cut into length-bucketed batches (little padding), and each
line contributes batches in proportion to size**alpha (alpha=1: every example once per epoch;
alpha<1: small lines are revisited, large ones thinned). The order depends only on (seed, epoch),
so every DDP process computes the same global list and takes every world-th batch, and a resumed
run skips exactly the batches it already did.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

BUCKET_BATCHES = 50  # batches sorted by length together: little padding, still shuffled


@dataclass(frozen=True)
class Batch:
    """Indices into one split's features, all of the same line."""

    line: str
    indices: tuple[int, ...]


class LineBatchSampler:
    """Deterministic per-epoch batches of single lines, sharded across DDP processes."""

    def __init__(
        self,
        by_line: dict[str, list[int]],
        lengths: list[int],
        batch_size: int,
        seed: int,
        alpha: float = 1.0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if batch_size < 1 or world < 1 or not 0 <= rank < world:
            raise ValueError("need batch_size >= 1 and 0 <= rank < world")
        self.by_line = {line: list(idx) for line, idx in sorted(by_line.items()) if idx}
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        self.alpha = alpha
        self.rank = rank
        self.world = world

    def quotas(self) -> dict[str, int]:
        """Return how many batches each line contributes per epoch."""
        own = {line: -(-len(idx) // self.batch_size) for line, idx in self.by_line.items()}
        total = sum(own.values())
        weights = {line: n**self.alpha for line, n in own.items()}  # alpha=1: each batch once
        norm = sum(weights.values())
        return {line: max(1, round(total * w / norm)) for line, w in weights.items()}

    def __len__(self) -> int:
        """Return the batches one process sees per epoch."""
        return sum(self.quotas().values()) // self.world

    def epoch(self, epoch: int) -> list[Batch]:
        """Return this process's batches for `epoch`, in order."""
        rng = random.Random(f"{self.seed}:{epoch}")
        batches: list[Batch] = []
        for line, quota in self.quotas().items():
            own = self._line_batches(line, rng)
            cycled = [own[i % len(own)] for i in range(quota)]
            batches += [Batch(line, tuple(b)) for b in cycled]
        rng.shuffle(batches)
        usable = len(batches) - len(batches) % self.world  # same step count on every process
        return batches[self.rank : usable : self.world]

    def _line_batches(self, line: str, rng: random.Random) -> list[list[int]]:
        indices = self.by_line[line][:]
        rng.shuffle(indices)
        span = self.batch_size * BUCKET_BATCHES
        batches = []
        for start in range(0, len(indices), span):
            bucket = sorted(indices[start : start + span], key=lambda i: self.lengths[i])
            batches += [
                bucket[i : i + self.batch_size] for i in range(0, len(bucket), self.batch_size)
            ]
        rng.shuffle(batches)
        return batches
