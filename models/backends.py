"""Score backends: run the exported graph (ONNX Runtime) or the network (PyTorch) on a batch.

`OnnxBackend` needs only onnxruntime and numpy: a serving process on it never imports torch.
The torch backends live in `models.torch_backend`, imported only when one is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from models.textenc import EncodedBatch


class ScoreBackend(Protocol):
    """Raw outputs for one encoded batch of one line: (topic scores, guard logits)."""

    def run(self, batch: EncodedBatch, line: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ([batch, scores], [batch, guard classes]) as float arrays."""
        ...


class OnnxBackend:
    """ONNX Runtime on the CPU over one exported graph (fp32 or int8)."""

    def __init__(self, model_path: Path, threads: int | None = None) -> None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or 0  # 0 = one per core
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {node.name for node in self.session.get_inputs()}

    def run(self, batch: EncodedBatch, line: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, guard logits) of `line` for the batch."""
        feeds = {name: array for name, array in batch.feeds().items() if name in self.inputs}
        scores, guard = self.session.run([f"scores.{line}", f"guard.{line}"], feeds)
        return np.asarray(scores), np.asarray(guard)
