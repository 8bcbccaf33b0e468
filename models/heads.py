"""Hierarchical topic heads in torch: raw scores -> leaf log-probabilities, as in `models.tree`."""

from __future__ import annotations

import torch
from torch import nn

from models.tree import Design, LabelTree


class HierarchicalHead(nn.Module):
    """A linear layer emitting a line's raw scores plus the tree math of its design."""

    ancestry: torch.Tensor
    table: torch.Tensor
    group_of: torch.Tensor
    slot_of: torch.Tensor

    def __init__(self, tree: LabelTree, design: Design, hidden: int, dropout: float) -> None:
        super().__init__()
        self.design = design
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, tree.n_scores(design))
        table, group_of, slot_of = tree.sibling_groups
        # Not persistent: rebuilt from the tree, so weights files hold only learned parameters.
        self.register_buffer("ancestry", torch.from_numpy(tree.ancestry), persistent=False)
        self.register_buffer("table", torch.from_numpy(table), persistent=False)
        self.register_buffer("group_of", torch.from_numpy(group_of), persistent=False)
        self.register_buffer("slot_of", torch.from_numpy(slot_of), persistent=False)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        """Return raw [batch, scores] for pooled encoder states."""
        return self.linear(self.dropout(pooled))

    def leaf_log_probs(self, scores: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Return [batch, leaves] log-probabilities (same math as `LabelTree.leaf_log_probs`)."""
        z = scores.float() / temperature
        if self.design == "flat":
            return torch.log_softmax(z, dim=-1)
        padded = z[:, self.table.clamp(min=0)].masked_fill(self.table < 0, float("-inf"))
        node_log = torch.log_softmax(padded, dim=-1)[:, self.group_of, self.slot_of]
        return node_log @ self.ancestry.T

    def loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Return the mean negative log-likelihood of the target leaves."""
        return nn.functional.nll_loss(self.leaf_log_probs(scores), targets)
