"""PyTorch backends (fp32, dynamic int8) over the bundle's weights; imported only on request."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.network import TopicNetwork
from models.spec import ModelSpec
from models.textenc import EncodedBatch

# Per-channel weight scales: per-tensor ones cost Russian inputs far more than English ones.
PER_CHANNEL = torch.ao.quantization.per_channel_dynamic_qconfig


class TorchBackend:
    """The network in eval mode on the CPU, optionally with int8 dynamic-quantized Linear layers."""

    def __init__(
        self, spec: ModelSpec, model_dir: Path, quantize: bool, threads: int | None = None
    ) -> None:
        if threads:
            torch.set_num_threads(threads)
        network = TopicNetwork.from_weights(spec, model_dir)
        if quantize:
            with (
                warnings.catch_warnings()
            ):  # torch.ao eager quantization is deprecated, still works
                warnings.simplefilter("ignore")
                network = torch.ao.quantization.quantize_dynamic(
                    network, {nn.Linear: PER_CHANNEL}, dtype=torch.qint8
                )
        self.network = network.eval()

    def run(self, batch: EncodedBatch, line: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, guard logits) of `line` for the batch."""
        with torch.inference_mode():
            scores, guard = self.network(
                torch.from_numpy(batch.input_ids),
                torch.from_numpy(batch.attention_mask),
                torch.from_numpy(batch.token_type_ids),
                line,
            )
        return scores.float().numpy(), guard.float().numpy()
