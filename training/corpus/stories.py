"""Topic stories (stories.yaml): how common each topic is, and the weighted fact scenarios behind it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from training.corpus.consistency import leave_gaps, make_driver_consistent, make_rider_consistent
from training.corpus.ride import base_driver, base_rider, draw_value

STORIES_FILE = Path(__file__).parent / "stories.yaml"


@dataclass(frozen=True)
class Story:
    """One scenario: facts it pins (a scalar, a choice list, a {min, max} range, or None)."""

    weight: float
    set: dict[str, Any]


@dataclass(frozen=True)
class TopicStories:
    """A topic's share within its line, whether it can be sarcastic, and its scenarios."""

    topic: str
    weight: float
    sarcasm: bool
    stories: tuple[Story, ...]

    @property
    def line(self) -> str:
        """Return the support line of the topic."""
        return self.topic.split("/", 1)[0]


def load_stories(path: Path = STORIES_FILE) -> dict[str, TopicStories]:
    """Return every topic's stories from `path`, by topic path."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        topic: TopicStories(
            topic,
            float(spec["weight"]),
            bool(spec.get("sarcasm", False)),
            tuple(Story(float(s["weight"]), dict(s["set"])) for s in spec["stories"]),
        )
        for topic, spec in data["topics"].items()
    }


def sample_facts(
    rng: random.Random, line: str, stories: TopicStories | None, no_ride: bool = False
) -> dict[str, Any]:
    """Return JSON-ready facts for one ticket of `line` about `stories`' topic (None: any ride)."""
    rider = line == "riders"
    facts = base_rider(rng) if rider else base_driver(rng)
    pinned: dict[str, Any] = {}
    if stories is not None:
        story = rng.choices(stories.stories, weights=[s.weight for s in stories.stories])[0]
        pinned = {name: draw_value(rng, spec) for name, spec in story.set.items()}
    no_ride = bool(pinned.pop("_no_ride", no_ride))
    facts.update(pinned)
    for name in [n for n, v in pinned.items() if v is None]:
        facts.pop(name)
    fixed = set(pinned)
    if rider:
        make_rider_consistent(rng, facts, fixed)
    else:
        make_driver_consistent(rng, facts, fixed)
    return leave_gaps(rng, facts, no_ride)
