"""The loaded topic classifier, swapped atomically on reload, with its abstention policy."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from models.abstention import AbstentionPolicy
from models.prediction import Prediction
from rules.topics import TopicTree

if TYPE_CHECKING:  # the runtime (and ONNX Runtime) loads with the first bundle, not on import
    from models.plan import Plan, Scored
    from models.textenc import EncodedBatch


class Classifier(Protocol):
    """What the service needs from a classifier runtime (models.runtime.TopicClassifier)."""

    version: str
    lines: tuple[str, ...]

    def predict(
        self,
        texts: list[str],
        line: str,
        k: int = 5,
        dialogues: list[list[str] | None] | None = None,
    ) -> list[Prediction]:
        """Return one prediction per text."""
        ...

    def plan(
        self,
        texts: list[str],
        line: str,
        k: int = 5,
        dialogues: list[list[str] | None] | None = None,
    ) -> Plan:
        """`predict` as steps: yields each batch for `score`, returns the predictions."""
        ...

    def score(self, batch: EncodedBatch, line: str) -> Scored:
        """Score one batch the plan yielded (the native call: it releases the interpreter lock)."""
        ...


@dataclass(frozen=True)
class LoadedModel:
    """A classifier with the policy that says when its confidence is not enough to reply."""

    classifier: Classifier
    backend: str
    policy: AbstentionPolicy
    check_topics: Callable[
        [TopicTree], None
    ]  # raises when a rulebook's topics do not fit the model


ModelLoader = Callable[[Path, TopicTree], LoadedModel]


def load_bundle_model(
    bundle_dir: Path,
    topics: TopicTree,
    *,
    backend: str,
    threads: int | None,
    min_margin: float | None,
    lanes: int = 1,
) -> LoadedModel:
    """Load a model bundle for serving; raise models.bundle.BundleError when it is unusable."""
    from models.bundle import check_against_topics
    from models.runtime import load_classifier

    classifier = load_classifier(bundle_dir, backend=backend, threads=threads, lanes=lanes)
    check_against_topics(classifier.bundle, topics)
    overrides = {} if min_margin is None else {"min_margin": min_margin}
    policy = AbstentionPolicy.from_bundle(classifier.bundle, **overrides)
    return LoadedModel(
        classifier,
        backend,
        policy,
        lambda tree: check_against_topics(classifier.bundle, tree),
    )


class ModelHolder:
    """Holds the model in use (None until a bundle loads); readers take `current` once per ticket."""

    def __init__(self, loader: ModelLoader, bundle_dir: Path) -> None:
        self.loader = loader
        self.bundle_dir = bundle_dir
        self.error: str | None = None
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel | None:
        """Return the loaded model, or None."""
        return self._current

    def load(self, topics: TopicTree, bundle_dir: Path | None = None) -> LoadedModel:
        """Load and validate a bundle without swapping it in (raise when it is unusable)."""
        return self.loader(bundle_dir or self.bundle_dir, topics)

    def install(self, model: LoadedModel, bundle_dir: Path | None = None) -> None:
        """Swap `model` in (one assignment: readers see the old or the new, never a mix)."""
        with self._lock:
            old, self._current, self.error = self._current, model, None
            self.bundle_dir = bundle_dir or self.bundle_dir
        del old  # the replaced model's heap, and the first load's parse buffers, back to the OS
        release_freed_memory()

    def clear(self, error: str | None = None) -> None:
        """Drop the model (a challenger taken out of shadow, or refused), saying why if it failed."""
        with self._lock:
            old, self._current, self.error = self._current, None, error
        if old is not None:
            del old
            release_freed_memory()

    def reload(self, topics: TopicTree, bundle_dir: Path | None = None) -> LoadedModel:
        """Load the bundle (from `bundle_dir` if given) and swap it in; on failure keep the old one."""
        fresh = self.load(topics, bundle_dir)
        self.install(fresh, bundle_dir)
        return fresh

    def try_load(self, topics: TopicTree) -> None:
        """Load at start-up; remember the error instead of raising (the service reports not ready)."""
        try:
            self.reload(topics)
        except Exception as exc:  # any load failure: the service starts, /readyz says why
            self.error = f"{type(exc).__name__}: {exc}"


def release_freed_memory() -> None:
    """Free unreachable objects and hand the freed heap back to the OS.

    A replaced model frees hundreds of MB of ONNX Runtime and tokenizer buffers; glibc keeps
    them in its arenas, so without a trim each reload left the process larger (+68% RSS over 50
    reloads, measured with benchmarks/reliability.py reloads). After the first load it returns
    the model file's parse buffers (~10 MB).
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
