"""A fine-tune that fits a CPU: the bottom N encoder layers stay frozen and run once.

Their token states are computed once per split (cached on disk, as quick mode caches pooled
states) and every batch then runs only the top layers and the heads, padded to its own longest
text. N = 0 is the full fine-tune (no cache); N = the encoder's depth trains the heads alone on
the frozen encoder, through this same path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from models.network import TopicNetwork
from training.features import Features
from training.infer import EVAL_BATCH, Inputs, collate, sorted_chunks
from training.quick import embedding_key

STATE_DTYPE = np.float16  # halves the cache; the top layers compute in float32


class TokenStates:
    """Every example's token states after the frozen layers: one [pieces, hidden] array each."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat, self.offsets = flat, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, i: int) -> np.ndarray:
        """Return example `i`'s states."""
        return self.flat[self.offsets[i] : self.offsets[i + 1]]

    def save(self, path: Path) -> None:
        """Write the states atomically (a killed run leaves no half-written cache)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.npz")
        with partial.open("wb") as handle:
            np.savez(handle, flat=self.flat, offsets=self.offsets)
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> TokenStates:
        """Read states written by `save`."""
        with np.load(path) as data:
            return cls(data["flat"], data["offsets"])


def freeze_bottom(network: TopicNetwork, n_layers: int) -> None:
    """Stop gradients into the embeddings and the bottom `n_layers` layers (the cached part)."""
    if n_layers == 0:  # nothing frozen: any encoder, BERT-style layers or not
        return
    depth = len(network.layers())
    if not 0 <= n_layers <= depth:
        raise ValueError(f"freeze_layers must be between 0 and the encoder's {depth} layers")
    network.encoder.get_input_embeddings().requires_grad_(False)
    embeddings = getattr(network.encoder, "embeddings", None)
    if isinstance(embeddings, nn.Module):
        embeddings.requires_grad_(False)
    for layer in network.layers()[:n_layers]:
        layer.requires_grad_(False)


@torch.inference_mode()
def compute_states(
    network: TopicNetwork,
    features: Features,
    n_layers: int,
    pad_id: int,
    device: torch.device,
    progress: str | None = None,
) -> TokenStates:
    """Return the token states of every example after the bottom `n_layers` layers (eval mode)."""
    was_training = network.training
    network.eval()
    lengths = np.array(features.lengths(), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    hidden = int(network.encoder.config.hidden_size)
    flat = np.zeros((int(offsets[-1]), hidden), STATE_DTYPE)
    chunks = sorted_chunks(features, list(range(len(features))), EVAL_BATCH)
    for chunk in tqdm(chunks, desc=progress, unit="batch", disable=progress is None):
        batch = collate(features, chunk, pad_id, device)
        states = network.bottom_states(
            batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], n_layers
        )
        states_np = states.float().cpu().numpy().astype(STATE_DTYPE)
        for row, i in enumerate(chunk):
            flat[offsets[i] : offsets[i + 1]] = states_np[row, : lengths[i]]
    network.train(was_training)
    return TokenStates(flat, offsets)


def cached_states(
    network: TopicNetwork,
    features: Features,
    n_layers: int,
    pad_id: int,
    device: torch.device,
    cache_dir: Path,
    encoder_dir: Path,
    progress: str | None = None,
) -> TokenStates:
    """Return `compute_states`, reusing a cache file keyed by encoder, layers and input ids."""
    path = cache_dir / f"states-{n_layers}-{embedding_key(encoder_dir, features)}.npz"
    if path.is_file():
        return TokenStates.load(path)
    states = compute_states(network, features, n_layers, pad_id, device, progress)
    states.save(path)
    return states


def state_inputs(states: TokenStates, features: Features, device: torch.device) -> Inputs:
    """Return a collate function over cached states: each batch padded to its longest text."""

    def inputs(indices: Sequence[int]) -> dict[str, torch.Tensor]:
        rows = [states.row(i) for i in indices]
        width = max(len(r) for r in rows)
        hidden = np.zeros((len(rows), width, states.flat.shape[1]), np.float32)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for n, r in enumerate(rows):
            hidden[n, : len(r)] = r
            mask[n, : len(r)] = 1
        index = list(indices)
        batch = {
            "states": torch.from_numpy(hidden),
            "attention_mask": mask,
            "labels": torch.from_numpy(features.labels[index]),
            "guards": torch.from_numpy(features.guards[index]),
        }
        return {k: v.to(device) for k, v in batch.items()}

    return inputs


class TopStack(nn.Module):
    """The trainable top of a network: shared layers from `start` on, then the heads."""

    def __init__(self, network: TopicNetwork, start: int) -> None:
        super().__init__()
        self.network, self.start = network, start

    def forward(
        self, states: torch.Tensor, attention_mask: torch.Tensor, line: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (raw topic scores of `line`, guard logits) from the cached token states."""
        pooled = self.network.pooled_from(states, attention_mask, self.start, line)
        return self.network.heads[line](pooled), self.network.guard(pooled)
