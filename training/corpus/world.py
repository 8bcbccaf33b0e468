"""Everything the generator reads, loaded and cross-checked once: the rulebook, the phrasebook,
the stories and the family splits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rules.rulebook import Rulebook
from training.corpus.phrasing import Family, Phrasebook, load_phrasebook, unknown_slots
from training.corpus.schema import LOCALES, SPLITS
from training.corpus.splits import assign_splits
from training.corpus.stories import TopicStories, load_stories

MIN_FAMILIES = 6  # per leaf and locale: with 20% held out, test keeps at least one unseen family


@dataclass
class World:
    """The generator's inputs, indexed the way generation looks them up."""

    rulebook: Rulebook
    phrasebook: Phrasebook
    stories: dict[str, TopicStories]
    split_of: dict[str, str] = field(default_factory=dict)
    by_split: dict[tuple[str, str, str], list[Family]] = field(default_factory=dict)
    leaves: dict[str, list[str]] = field(default_factory=dict)
    topic_weights: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)

    def families(self, topic: str, locale: str) -> list[Family]:
        """Return every family of a topic in a locale (all splits)."""
        return self.phrasebook.families[(topic, locale)]

    def sarcasm_frames(self, locale: str, split: str) -> list[Family]:
        """Return the sarcasm frames of a locale that belong to `split`."""
        return self.by_split[("sarcasm", locale, split)]


def load_world(rulebook: Rulebook, phrasebook: Phrasebook | None = None) -> World:
    """Return the generator's world for `rulebook`; raise ValueError listing every gap found."""
    world = World(rulebook, phrasebook or load_phrasebook(), load_stories())
    families = world.phrasebook.all_families()
    world.split_of = assign_splits(families)
    groups: dict[tuple[str, str, str], list[Family]] = defaultdict(list)
    for family in families:
        groups[(family.topic, family.locale, world.split_of[family.id])].append(family)
    world.by_split = dict(groups)
    world.leaves = {line: rulebook.topics.leaf_paths(line) for line in rulebook.topics.lines}
    for line in world.leaves:
        mine = [t for t in world.stories.values() if t.line == line]
        world.topic_weights[line] = ([t.topic for t in mine], [t.weight for t in mine])
    gaps = world_gaps(world)
    if gaps:
        raise ValueError("the corpus generator's data is incomplete:\n" + "\n".join(gaps))
    return world


def world_gaps(world: World) -> list[str]:
    """Return every inconsistency between the rulebook, the phrasebook and the stories."""
    gaps = unknown_slots(world.phrasebook)
    for line, leaves in world.leaves.items():
        for leaf in leaves:
            node = world.rulebook.topics.index[leaf]
            if node.actionable and leaf not in world.stories:
                gaps.append(f"{leaf}: no stories")
            for locale in LOCALES:
                if node.actionable and not world.phrasebook.common[locale].subjects.get(leaf):
                    gaps.append(f"{leaf} [{locale}]: no subject phrases")
                count = len(world.phrasebook.families.get((leaf, locale), []))
                if count < MIN_FAMILIES:
                    gaps.append(f"{leaf} [{locale}]: {count} families, need {MIN_FAMILIES}")
        gaps += [
            f"{t}: stories for a topic the rulebook lacks"
            for t in world.stories
            if t.startswith(line + "/") and t not in leaves
        ]
    for locale in LOCALES:
        for split in SPLITS:
            if not world.by_split.get(("sarcasm", locale, split)):
                gaps.append(f"no sarcasm frames for {locale}/{split}")
    return gaps
