"""What the classifier returns for one ticket: the contract between models/ and service/."""

from __future__ import annotations

from dataclasses import dataclass, field

# The auxiliary guard head's classes: is this message something a template can answer at all?
# "cannot decide" is a normal answer; these name why a confident topic is still not enough.
GUARD_CLASSES: tuple[str, ...] = (
    "actionable",  # one problem, stated plainly enough to answer
    "gratitude",  # thanks or praise ("Loved everything! ... Thanks")
    "off_topic",  # spam, chit-chat, nothing about a ride
    "multi_problem",  # several problems in one message
    "sarcasm",  # a complaint dressed as praise
    "unclear",  # too short or garbled to tell
)


@dataclass(frozen=True)
class LevelProb:
    """The probability of one node on a leaf's path (a category, a subtopic, the leaf itself)."""

    path: str
    prob: float


@dataclass(frozen=True)
class TopicCandidate:
    """One leaf topic with its probability and the probability at every level above it.

    `levels` runs from the top category down to the leaf; the line's root is not included.
    Inner probabilities are the sums of their leaves' (consistent by construction), so the
    service can fall back to a confident parent when no leaf is confident.
    """

    path: str
    prob: float
    levels: tuple[LevelProb, ...]


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one ticket of one support line."""

    line: str
    candidates: tuple[TopicCandidate, ...]  # top-k leaves, most probable first
    guard: dict[str, float]  # distribution over GUARD_CLASSES
    model_version: str
    tokens: int = 0  # word pieces fed to the encoder after truncation
    truncated: bool = False  # the text was longer than the encoder's max length
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def top(self) -> TopicCandidate:
        """Return the most probable leaf."""
        return self.candidates[0]

    @property
    def margin(self) -> float:
        """Return the gap between the two most probable leaves (1.0 when there is one)."""
        if len(self.candidates) < 2:
            return 1.0
        return self.candidates[0].prob - self.candidates[1].prob
