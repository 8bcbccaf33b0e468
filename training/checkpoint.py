"""Checkpoints for resume (last state) and for early stopping (best weights), keyed by the run.

A checkpoint made under another config or other data is never resumed: the key, a hash of both,
is stored with it and compared on load.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    """Where training stands: epoch, batches done in it, optimizer steps, early-stopping record."""

    epoch: int = 0
    position: int = 0
    step: int = 0
    best: float = float("-inf")
    bad_evals: int = 0
    stopped_early: bool = False
    history: list[dict[str, float]] = field(default_factory=list)


class Checkpointer:
    """Saves and restores `last.pt` (everything to resume) and `best.safetensors` (weights)."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key

    @property
    def last(self) -> Path:
        """Return the resume checkpoint's path."""
        return self.directory / "last.pt"

    @property
    def best(self) -> Path:
        """Return the best weights' path."""
        return self.directory / "best.safetensors"

    def save(self, model: nn.Module, optimizer: Any, scheduler: Any, state: TrainState) -> None:
        """Write the resume checkpoint atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "key": self.key,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "state": asdict(state),
            "rng": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
            },
        }
        tmp = self.last.with_suffix(".tmp")
        torch.save(payload, tmp)
        tmp.replace(self.last)

    def restore(self, model: nn.Module, optimizer: Any, scheduler: Any) -> TrainState | None:
        """Load the resume checkpoint into the objects; None when there is none for this run."""
        if not self.last.is_file():
            return None
        payload = torch.load(self.last, map_location="cpu", weights_only=False)
        if payload.get("key") != self.key:
            log.warning("ignoring %s: it was made with another config or data", self.last)
            return None
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        scheduler.load_state_dict(payload["scheduler"])
        random.setstate(payload["rng"]["python"])
        np.random.set_state(payload["rng"]["numpy"])
        torch.set_rng_state(payload["rng"]["torch"])
        return TrainState(**payload["state"])

    def save_best(self, model: nn.Module) -> None:
        """Write the current weights as the best so far."""
        self.directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(self.best), metadata={"key": self.key})

    def load_best(self, model: nn.Module) -> bool:
        """Load the best weights into `model`; return whether there were any."""
        if not self.best.is_file():
            return False
        with safe_open(str(self.best), framework="pt") as handle:
            if (handle.metadata() or {}).get("key") != self.key:
                return False
        model.load_state_dict(load_file(str(self.best)))
        return True
