"""Score backends: run the exported graph (ONNX Runtime) or the network (PyTorch) on a batch.

`OnnxBackend` needs only onnxruntime and numpy: a serving process on it never imports torch.
The torch backends live in `models.torch_backend`, imported only when one is asked for.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from models.onnxfile import lookup_tables
from models.textenc import EncodedBatch


class ScoreBackend(Protocol):
    """Raw outputs for one encoded batch of one line: (topic scores, guard logits)."""

    def run(self, batch: EncodedBatch, line: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ([batch, scores], [batch, guard classes]) as float arrays."""
        ...


class OnnxBackend:
    """ONNX Runtime on the CPU over one exported graph (fp32 or int8).

    With `lanes > 1` it also opens one single-threaded session on the same graph that up to
    `lanes` calls run at once (a session's `run` is thread-safe, and with one intra-op thread
    each call computes on its caller's thread). While calls come one at a time they take the
    wide session (every core: the lowest latency); once calls overlap, and for `QUIET_S` after
    the last overlap, every call takes the single-threaded one, so concurrent calls run side by
    side, one core each, instead of queueing behind one wide call whose spinning threads fight
    the callers' Python for the cores. One shared session, not one per lane: each session holds
    its own prepacked weights (a second session costs ~13 MB for the int8 MiniLM), and
    concurrent calls on one ran as fast as on several (measured). The caller bounds the
    concurrent calls to `lanes`.

    The embedding tables, which no kernel repacks, are held once here and given to both
    sessions (`models.onnxfile`) instead of each session loading its own copy (measured: -11 MB
    with two sessions).
    """

    QUIET_S = 0.5

    def __init__(self, model_path: Path, threads: int | None = None, lanes: int = 1) -> None:
        self.tables = {
            name: ort.OrtValue.ortvalue_from_numpy(table)
            for name, table in lookup_tables(model_path).items()
        }
        self.session = _session(model_path, threads or 0, self.tables)  # 0 = one per core
        self.inputs = {node.name for node in self.session.get_inputs()}
        wide = self.session.get_session_options().intra_op_num_threads != 1
        self.narrow = _session(model_path, 1, self.tables) if lanes > 1 and wide else self.session
        self._running = 0
        self._busy_until = 0.0
        self._lock = threading.Lock()

    def run(self, batch: EncodedBatch, line: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, guard logits) of `line` for the batch."""
        feeds = {name: array for name, array in batch.feeds().items() if name in self.inputs}
        names = [f"scores.{line}", f"guard.{line}"]
        with self._lock:
            self._running += 1
            now = time.monotonic()
            if self._running > 1:
                self._busy_until = now + self.QUIET_S
            alone = self._running == 1 and now >= self._busy_until
        try:
            scores, guard = (self.session if alone else self.narrow).run(names, feeds)
        finally:
            with self._lock:
                self._running -= 1
        return np.asarray(scores), np.asarray(guard)


def _session(
    model_path: Path, threads: int, tables: dict[str, ort.OrtValue]
) -> ort.InferenceSession:
    options = ort.SessionOptions()
    for name, table in tables.items():  # used in place: the session keeps no copy of its own
        options.add_initializer(name, table)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Memory patterns are planned per input shape and kept: with texts of every length they only
    # grew the process (~5 MB after a few hundred lengths), at no measurable speed.
    options.enable_mem_pattern = False
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
