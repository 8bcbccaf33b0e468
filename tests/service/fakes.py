"""A keyword classifier for unit tests of the service (the real model is tested end to end elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.abstention import AbstentionPolicy
from models.prediction import GUARD_CLASSES, LevelProb, Prediction, TopicCandidate
from rules.topics import TopicTree
from service.classifier import LoadedModel


def _levels(path: str, prob: float) -> tuple[LevelProb, ...]:
    parts = path.split("/")
    return tuple(LevelProb("/".join(parts[: i + 1]), prob) for i in range(1, len(parts)))


@dataclass
class KeywordClassifier:
    """Predicts the leaf whose keyword appears in the text; `guards` maps keywords to guard classes."""

    topics: TopicTree
    keywords: dict[str, tuple[str, float]]
    guards: dict[str, str] = field(default_factory=dict)
    # keyword -> several leaves with their probabilities (siblings the model cannot tell apart)
    splits: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    version: str = "fake-1"
    calls: int = 0

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.topics.lines)

    def predict(self, texts, line, k=5, dialogues=None):
        self.calls += len(texts)
        return [self._one(text, line, k) for text in texts]

    def plan(self, texts, line, k=5, dialogues=None):
        """The service's steps (`models.plan`): the keyword match stands for the native call."""
        return (yield (texts, k), line)

    def score(self, batch, line):
        texts, k = batch
        return self.predict(texts, line, k)

    def _one(self, text: str, line: str, k: int) -> Prediction:
        lowered = text.lower()
        leaves = self.topics.leaf_paths(line)
        top, prob = next(
            (
                (p, pr)
                for kw, (p, pr) in self.keywords.items()
                if kw in lowered and p.startswith(line + "/")
            ),
            (leaves[-1], 0.3),
        )
        chosen = next((v for kw, v in self.splits.items() if kw in lowered), [(top, prob)])
        named = {p for p, _ in chosen}
        rest = [p for p in leaves if p not in named][: max(k - len(chosen), 1)]
        share = (1 - sum(pr for _, pr in chosen)) / max(len(rest), 1)
        candidates = [TopicCandidate(p, pr, _levels(p, pr)) for p, pr in chosen]
        candidates += [TopicCandidate(p, share, _levels(p, share)) for p in rest]
        guard_class = next((g for kw, g in self.guards.items() if kw in lowered), "actionable")
        guard = {
            g: (0.9 if g == guard_class else 0.1 / (len(GUARD_CLASSES) - 1)) for g in GUARD_CLASSES
        }
        return Prediction(line, tuple(candidates), guard, self.version, tokens=len(text.split()))


def keyword_policy(
    topics: TopicTree, thresholds: dict[str, float | None] | None = None
) -> AbstentionPolicy:
    """A real policy with simple numbers: each line's template threshold 0.8, a 0.2 margin."""
    return AbstentionPolicy(
        thresholds=thresholds if thresholds is not None else {line: 0.8 for line in topics.lines},
        actionable={leaf.path: leaf.actionable for leaf in topics.leaves()},
        min_margin=0.2,
    )


def keyword_model(
    topics: TopicTree,
    classifier: KeywordClassifier,
    thresholds: dict[str, float | None] | None = None,
) -> LoadedModel:
    """Wrap the fake classifier the way the service wraps a real bundle."""

    def check(tree: TopicTree) -> None:
        for line in classifier.lines:
            if tree.leaf_paths(line) != classifier.topics.leaf_paths(line):
                raise ValueError(f"topics of line '{line}' differ from the model's")

    return LoadedModel(classifier, "fake", keyword_policy(topics, thresholds), check)
