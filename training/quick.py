"""Quick mode: the encoder stays frozen, texts are embedded once, only the heads train.

Minutes on a CPU, the same bundle format as a fine-tune: the service can start on a quick
bundle and swap in a fine-tuned one later. `train_quick_bundle` is the entry point the service's
start script and the tests call.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from models.network import TopicNetwork
from training.args import TrainArguments, load_config
from training.evaluate import validation_score
from training.features import Features
from training.infer import Outputs, embed, line_outputs
from training.loop import guard_class_weights, guard_loss
from training.sampling import LineBatchSampler

QUICK_PATIENCE = 20  # epochs without a better validation score


def cached_embeddings(
    network: TopicNetwork,
    features: Features,
    pad_id: int,
    device: torch.device,
    cache: Path | None,
    progress: str | None = None,
) -> np.ndarray:
    """Return pooled embeddings of `features`, reusing a cache file keyed by texts and encoder."""
    if cache is None:
        return embed(network, features, pad_id, device, progress)
    if cache.is_file():
        return np.load(cache)
    pooled = embed(network, features, pad_id, device, progress)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, pooled)
    return pooled


def embedding_key(encoder_dir: Path, features: Features) -> str:
    """Return a key that changes with the encoder or with any input id."""
    digest = hashlib.sha256(str(encoder_dir.resolve()).encode())
    digest.update(json.dumps([features.ids, features.types]).encode())
    return digest.hexdigest()[:16]


def head_outputs(network: TopicNetwork, pooled: np.ndarray, features: Features) -> Outputs:
    """Return every line's raw scores and guard logits from pooled embeddings (eval mode)."""
    network.eval()
    outputs: Outputs = {}
    with torch.inference_mode():
        for line, indices in features.by_line().items():
            x = torch.from_numpy(pooled[indices])
            scores, guard = network.heads[line](x), network.guard(x)
            outputs[line] = line_outputs(features, indices, scores.numpy(), guard.numpy())
    return outputs


def score_heads(network: TopicNetwork, pooled: np.ndarray, features: Features) -> dict[str, float]:
    """Return validation accuracy, NLL and the early-stopping score of the heads."""
    return validation_score(network.spec, head_outputs(network, pooled, features))


def train_heads(
    network: TopicNetwork,
    train: tuple[np.ndarray, Features],
    valid: tuple[np.ndarray, Features],
    args: TrainArguments,
    guard_weight: float,
) -> list[dict[str, float]]:
    """Train the line heads and the guard head on frozen embeddings; keep the best epoch."""
    pooled, features = train
    x, labels = torch.from_numpy(pooled), torch.from_numpy(features.labels)
    guards = torch.from_numpy(features.guards)
    params = [p for name, p in network.named_parameters() if name.startswith(("heads.", "guard."))]
    optimizer = torch.optim.AdamW(
        params, lr=args.quick_learning_rate, weight_decay=args.weight_decay
    )
    sampler = LineBatchSampler(
        features.by_line(), [1] * len(features), args.batch_size, args.seed, args.line_alpha
    )
    weights = guard_class_weights(
        features.guards, len(network.spec.guard_classes), args.guard_class_weight
    )
    best_score, best_epoch, best_state = float("-inf"), 0, network.state_dict()
    history: list[dict[str, float]] = []
    for epoch in tqdm(range(args.quick_epochs), desc="heads", disable=not args.progress):
        network.train()
        for batch in sampler.epoch(epoch):
            rows = list(batch.indices)
            loss = network.head(batch.line).loss(network.heads[batch.line](x[rows]), labels[rows])
            loss = loss + guard_loss(network.guard(x[rows]), guards[rows], guard_weight, weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        metrics = {"step": epoch + 1, "epoch": epoch + 1, **score_heads(network, *valid)}
        history.append(metrics)
        if metrics["score"] > best_score:
            best_score, best_epoch = metrics["score"], epoch
            best_state = {k: v.clone() for k, v in network.state_dict().items()}
        elif epoch - best_epoch >= QUICK_PATIENCE:
            break
    network.load_state_dict(best_state)
    return history


def train_quick_bundle(
    corpus_dir: Path | str,
    out_dir: Path | str,
    rulebook: Path | str | None = None,
    **overrides: Any,
) -> Path:
    """Train a quick bundle (frozen encoder, heads only) from a corpus folder; return its path.

    `rulebook` fixes the label set (default: the shipped rulebook; "" = the labels in the data);
    `overrides` are any training config keys, e.g. `max_train_examples=2000`, `report=False`.
    """
    from rules.rulebook import DEFAULT_ROOT
    from training.main import run

    values = {
        "data_dir": str(corpus_dir),
        "output_dir": str(out_dir),
        "rulebook": str(DEFAULT_ROOT if rulebook is None else rulebook),
        "quick": True,
        "progress": False,
        **overrides,
    }
    return run(load_config(None, values))
