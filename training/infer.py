"""Run a network over encoded features: batches to tensors, scores and guard logits per line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from models.network import TopicNetwork
from models.spec import ModelSpec
from training.features import Features

EVAL_BATCH = 64


@dataclass
class LineOutputs:
    """One line's raw outputs on one split, with what evaluation needs to score them."""

    scores: np.ndarray  # [n, head scores]
    guard: np.ndarray  # [n, guard classes] logits
    labels: np.ndarray  # leaf index
    guards: np.ndarray  # guard index or NO_GUARD
    locales: list[str]
    texts: list[str]
    indices: list[int]  # each row's position in the split's example list


Outputs = dict[str, LineOutputs]


def collate(
    features: Features, indices: Sequence[int], pad_id: int, device: torch.device
) -> dict[str, torch.Tensor]:
    """Return padded input tensors plus topic and guard targets for some examples."""
    width = max(len(features.ids[i]) for i in indices)
    ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    types = torch.zeros((len(indices), width), dtype=torch.long)
    for row, i in enumerate(indices):
        n = len(features.ids[i])
        ids[row, :n] = torch.tensor(features.ids[i])
        mask[row, :n] = 1
        types[row, :n] = torch.tensor(features.types[i])
    index = list(indices)
    batch = {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "labels": torch.from_numpy(features.labels[index]),
        "guards": torch.from_numpy(features.guards[index]),
    }
    return {k: v.to(device) for k, v in batch.items()}


def sorted_chunks(features: Features, indices: list[int], size: int) -> list[list[int]]:
    ordered = sorted(indices, key=lambda i: len(features.ids[i]))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


Inputs = Callable[[Sequence[int]], dict[str, torch.Tensor]]  # example indices -> a batch
TARGETS = ("labels", "guards")


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Return a batch without its targets: the keyword arguments of the model's forward."""
    return {k: v for k, v in batch.items() if k not in TARGETS}


def token_inputs(features: Features, pad_id: int, device: torch.device) -> Inputs:
    """Return a collate function over word-piece ids (what the whole network reads)."""
    return lambda indices: collate(features, indices, pad_id, device)


def run_network(
    network: TopicNetwork, features: Features, pad_id: int, device: torch.device
) -> Outputs:
    """Return every line's raw scores and guard logits on `features` (eval mode)."""
    return run_model(network, network.spec, features, token_inputs(features, pad_id, device))


@torch.inference_mode()
def run_model(model: nn.Module, spec: ModelSpec, features: Features, inputs: Inputs) -> Outputs:
    """Return every line's raw outputs of `model(**inputs(chunk), line=...)` (eval mode)."""
    was_training = model.training
    model.eval()
    outputs: Outputs = {}
    for line, indices in features.by_line().items():
        scores = np.zeros((len(indices), spec.trees[line].n_scores(spec.design)), np.float32)
        guard = np.zeros((len(indices), len(spec.guard_classes)), np.float32)
        where = {i: row for row, i in enumerate(indices)}
        for chunk in sorted_chunks(features, indices, EVAL_BATCH):
            s, g = model(**model_inputs(inputs(chunk)), line=line)
            rows = [where[i] for i in chunk]
            scores[rows], guard[rows] = s.float().cpu().numpy(), g.float().cpu().numpy()
        outputs[line] = line_outputs(features, indices, scores, guard)
    model.train(was_training)
    return outputs


@torch.inference_mode()
def embed(
    network: TopicNetwork,
    features: Features,
    pad_id: int,
    device: torch.device,
    progress: str | None = None,
) -> np.ndarray:
    """Return the pooled encoder states [n, hidden] of every example (hard sharing only).

    `progress`: a label for a progress bar (None: no bar).
    """
    network.eval()
    hidden = int(network.encoder.config.hidden_size)
    pooled = np.zeros((len(features), hidden), np.float32)
    chunks = sorted_chunks(features, list(range(len(features))), EVAL_BATCH)
    for chunk in tqdm(chunks, desc=progress, unit="batch", disable=progress is None):
        batch = collate(features, chunk, pad_id, device)
        states = network.pooled(
            batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]
        )
        pooled[chunk] = states.float().cpu().numpy()
    return pooled


def line_outputs(
    features: Features, indices: list[int], scores: np.ndarray, guard: np.ndarray
) -> LineOutputs:
    """Return LineOutputs pairing raw outputs with the examples they belong to."""
    return LineOutputs(
        scores=scores,
        guard=guard,
        labels=features.labels[indices],
        guards=features.guards[indices],
        locales=[features.locales[i] for i in indices],
        texts=[features.texts[i] for i in indices],
        indices=list(indices),
    )
