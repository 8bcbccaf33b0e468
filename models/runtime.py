"""The classifier the service loads once: a validated bundle + a backend -> calibrated Predictions.

Importing this module, and predicting with an `onnx-*` backend, never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from models.abstention import candidate_count
from models.backends import OnnxBackend, ScoreBackend
from models.bundle import GUARD_HEAD, ONNX_FILES, Bundle, load_bundle
from models.lexical import LexicalHead, lexical_file
from models.plan import Plan, Scored, run_plan
from models.prediction import LevelProb, Prediction, TopicCandidate
from models.textenc import EncodedBatch, TextEncoder
from models.tree import LabelTree

Backend = Literal["onnx-int8", "onnx-fp32", "torch-fp32", "torch-int8"]
BACKENDS: tuple[str, ...] = get_args(Backend)
DEFAULT_BACKEND: Backend = "onnx-int8"
BATCH_SIZE = 32


class UnknownLineError(ValueError):
    """The classifier has no head for the requested support line."""


class TopicClassifier:
    """Predicts topic leaves (with every level's probability) and the guard for one line."""

    def __init__(self, bundle: Bundle, backend: ScoreBackend, backend_name: str) -> None:
        self.bundle = bundle
        self.backend = backend
        self.backend_name = backend_name
        self.encoder = TextEncoder.from_dir(
            bundle.path, bundle.spec.max_length, bundle.spec.transliterate
        )
        self.version: str = bundle.version  # keys caches and decision records
        self.lines: tuple[str, ...] = bundle.lines
        self.lexical = {
            line: LexicalHead.load(bundle.file(lexical_file(line)))
            for line in self.lines
            if bundle.file(lexical_file(line)).is_file()
        }

    def predict(
        self,
        texts: list[str],
        line: str,
        k: int = 5,
        dialogues: Sequence[Sequence[str] | None] | None = None,
    ) -> list[Prediction]:
        """Return one calibrated Prediction per text: top-k leaves with level probs, the guard."""
        return run_plan(self.plan(texts, line, k, dialogues), self.score)

    def score(self, batch: EncodedBatch, line: str) -> Scored:
        """Return the backend's (scores, guard) for one batch a plan yielded."""
        return self.backend.run(batch, line)

    def plan(
        self,
        texts: list[str],
        line: str,
        k: int = 5,
        dialogues: Sequence[Sequence[str] | None] | None = None,
    ) -> Plan:
        """`predict` as steps: yields each encoded batch the backend must score (the one native,
        lock-free call), receives its (scores, guard) and returns the predictions. A caller that
        runs the backend elsewhere (the service: in a thread, off its event loop) drives it."""
        if line not in self.bundle.spec.lines:
            raise UnknownLineError(f"no head for line '{line}'; this model serves {self.lines}")
        if dialogues is not None and len(dialogues) != len(texts):
            raise ValueError("dialogues must have one entry (or None) per text")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
        results: list[Prediction | None] = [None] * len(texts)
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            batch = self.encoder.encode(
                [texts[i] for i in chunk],
                [dialogues[i] for i in chunk] if dialogues is not None else None,
            )
            scores, guard = yield batch, line
            read = (  # what the line's lexical head reads, only when it has one
                [lexical_text(texts[i], dialogues[i] if dialogues else None) for i in chunk]
                if line in self.lexical
                else None
            )
            probs = self.leaf_probs(scores, line, read)
            for row, i in enumerate(chunk):
                results[i] = self._prediction(
                    line, probs[row], guard[row], k, batch.tokens[row], batch.truncated[row]
                )
        return [p for p in results if p is not None]

    def leaf_probs(
        self, scores: np.ndarray, line: str, texts: list[str] | None = None
    ) -> np.ndarray:
        """Return calibrated [batch, leaves] probabilities from raw head scores; with the texts
        (`lexical_text`) and a lexical head for the line, the fused probabilities."""
        tree = self.bundle.spec.trees[line]
        temperature = self.bundle.temperature[line]
        probs = np.exp(tree.leaf_log_probs(scores, self.bundle.spec.design, temperature))
        head = self.lexical.get(line)
        return probs if head is None or texts is None else head.fuse(probs, texts)

    def guard_probs(self, logits: np.ndarray) -> np.ndarray:
        """Return calibrated guard probabilities (uniform when the head was never trained)."""
        spec = self.bundle.spec
        return calibrated_guard(logits, self.bundle.temperature[GUARD_HEAD], spec.guard_trained)

    def _prediction(
        self,
        line: str,
        probs: np.ndarray,
        guard: np.ndarray,
        k: int,
        tokens: int,
        truncated: bool,
    ) -> Prediction:
        return build_prediction(
            self.bundle.spec.trees[line],
            line,
            probs,
            dict(
                zip(
                    self.bundle.spec.guard_classes, self.guard_probs(guard[None, :])[0], strict=True
                )
            ),
            self.version,
            k,
            tokens=tokens,
            truncated=truncated,
        )


def lexical_text(text: str, dialogue: Sequence[str] | None) -> str:
    """Return what the lexical head reads: the earlier dialogue turns, then the text."""
    return " ".join([*(dialogue or ()), text])


def calibrated_guard(logits: np.ndarray, temperature: float, trained: bool) -> np.ndarray:
    """Return guard probabilities from raw logits: a tempered softmax, uniform if untrained."""
    if not trained:
        return np.full(np.shape(logits), 1.0 / np.shape(logits)[-1])
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def build_prediction(
    tree: LabelTree,
    line: str,
    probs: np.ndarray,
    guard: dict[str, float],
    version: str,
    k: int,
    *,
    tokens: int = 0,
    truncated: bool = False,
) -> Prediction:
    """Return a Prediction from one text's calibrated leaf probabilities and guard distribution.

    It keeps at least `k` leaves, and more when needed to cover nearly all the probability
    (`models.abstention.candidate_count`), so that a template's probability can be summed.
    """
    nodes = tree.node_probs(probs[None, :])[0]
    order = np.argsort(-probs, kind="stable")
    top = order[: max(1, k, candidate_count(probs[order].tolist()))]
    candidates = tuple(
        TopicCandidate(
            path=tree.leaves[i],
            prob=float(probs[i]),
            levels=tuple(
                LevelProb(tree.nodes[n], float(nodes[n])) for n in tree.path_nodes(int(i))
            ),
        )
        for i in top
    )
    return Prediction(
        line=line,
        candidates=candidates,
        guard={c: float(p) for c, p in guard.items()},
        model_version=version,
        tokens=tokens,
        truncated=truncated,
    )


def load_classifier(
    bundle_dir: Path | str,
    backend: str = DEFAULT_BACKEND,  # one of BACKENDS, checked here
    threads: int | None = None,
    bundle: Bundle | None = None,
    lanes: int = 1,
) -> TopicClassifier:
    """Return a classifier over a validated bundle, running on the chosen CPU backend.

    `lanes`: concurrent calls the ONNX backends run side by side (see `OnnxBackend`).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not '{backend}'")
    bundle = bundle or load_bundle(bundle_dir)
    scorer: ScoreBackend
    if backend in ONNX_FILES:
        scorer = OnnxBackend(bundle.file(ONNX_FILES[backend]), threads, lanes)
    else:
        from models.torch_backend import TorchBackend  # torch only when a torch backend is asked

        scorer = TorchBackend(bundle.spec, bundle.path, backend == "torch-int8", threads)
    return TopicClassifier(bundle, scorer, backend)
