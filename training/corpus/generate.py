"""Generate the ticket corpus: deterministic for a seed, split by held-out phrasing families."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from training.corpus.agent import AgentRates, agent_choice, draw_csat
from training.corpus.card import CardBuilder
from training.corpus.compose import (
    Draft,
    decorate,
    expand,
    in_dialogue,
    sarcastic,
    slot_values,
    two_problems,
    with_subject,
)
from training.corpus.noise import draw_style, roughen
from training.corpus.phrasing import Family
from training.corpus.ride import weighted
from training.corpus.schema import CARD_FILE, SPLIT_FILES, SPLITS, TicketRecord
from training.corpus.stories import sample_facts
from training.corpus.world import World

# Guard kinds whose topic is the line's non-actionable leaf of that name.
OTHER_LEAF = {"gratitude": "thanks", "off_topic": "off_topic", "unclear": "unclear"}
# (opener, irrelevant detail, closer) rates by guard kind: unclear messages stay bare.
DECORATION = {
    "actionable": (0.35, 0.25, 0.30),
    "multi_problem": (0.35, 0.10, 0.25),
    "sarcasm": (0.20, 0.10, 0.10),
    "gratitude": (0.20, 0.10, 0.0),
    "off_topic": (0.20, 0.0, 0.0),
    "unclear": (0.10, 0.0, 0.0),
}


def _frozen(**shares: float) -> Mapping[str, float]:
    return MappingProxyType(shares)


@dataclass(frozen=True)
class CorpusConfig:
    """Sizes and rates of a generated corpus."""

    n: int = 30_000
    seed: int = 0
    line_shares: Mapping[str, float] = field(
        default_factory=lambda: _frozen(riders=0.7, drivers=0.3)
    )
    locale_shares: Mapping[str, float] = field(default_factory=lambda: _frozen(ru=0.55, en=0.45))
    guard_shares: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            actionable=0.74,
            gratitude=0.08,
            off_topic=0.05,
            unclear=0.05,
            multi_problem=0.05,
            sarcasm=0.03,
        )
    )
    dialogue_rate: float = 0.18
    subject_rate: float = 0.2
    label_noise: float = 0.03
    csat_missing: float = 0.6
    agent: AgentRates = field(default_factory=AgentRates)


@dataclass(frozen=True)
class Generated:
    """A ticket and what only the generator knows about it (the true topic)."""

    record: TicketRecord
    true_topic: str


def generate(config: CorpusConfig, world: World) -> Iterator[Generated]:
    """Yield `config.n` tickets; the same seed always yields the same tickets."""
    rng = random.Random(config.seed)
    for index in range(config.n):
        yield _ticket(rng, index, config, world)


@dataclass(frozen=True)
class _Plan:
    """What a ticket is about, drawn before any wording: line, locale, guard kind, topic, family."""

    line: str
    locale: str
    kind: str
    topic: str
    family: Family
    split: str


def _plan(rng: random.Random, config: CorpusConfig, world: World) -> _Plan:
    line = weighted(rng, config.line_shares)
    locale = weighted(rng, config.locale_shares)
    kind = weighted(rng, config.guard_shares)
    topic = f"{line}/other/{OTHER_LEAF[kind]}" if kind in OTHER_LEAF else _topic(rng, world, line)
    stories = world.stories.get(topic)
    if kind == "sarcasm" and not (stories and stories.sarcasm):
        kind = "actionable"
    family = rng.choice(world.families(topic, locale))
    return _Plan(line, locale, kind, topic, family, world.split_of[family.id])


def _ticket(rng: random.Random, index: int, config: CorpusConfig, world: World) -> Generated:
    plan = _plan(rng, config, world)
    no_ride = plan.kind in ("off_topic", "unclear") and rng.random() < 0.5
    facts = sample_facts(rng, plan.line, world.stories.get(plan.topic), no_ride)
    slots = slot_values(rng, facts, world.phrasebook.common[plan.locale], plan.locale)
    draft = _draft(rng, plan, expand(rng, plan.family, slots), slots, world, config)
    text, dialogue = _typed(rng, draft, plan)
    checked = world.rulebook.facts.validate(facts)
    template, action = agent_choice(rng, world.rulebook, plan.topic, checked, config.agent)
    label = _noisy(rng, plan.topic, world, config.label_noise)
    record = TicketRecord(
        id=f"t{index:07d}",
        line=plan.line,
        locale=plan.locale,
        text=text,
        dialogue=dialogue,
        topic=label,
        label=label,
        guard=plan.kind,
        facts=facts,
        template=template,
        agent_action=action,
        csat=draw_csat(rng, action, plan.kind, plan.topic, config.csat_missing),
        family=plan.family.id,
        split=plan.split,
    )
    return Generated(record, plan.topic)


def _topic(rng: random.Random, world: World, line: str) -> str:
    topics, weights = world.topic_weights[line]
    return rng.choices(topics, weights=weights)[0]


def _typed(rng: random.Random, draft: Draft, plan: _Plan) -> tuple[str, list[str] | None]:
    """Return the text and the dialogue as this customer typed them (agent turns untouched)."""
    style = draw_style(rng, plan.locale)
    praise = plan.kind == "gratitude"
    text = roughen(rng, draft.text, plan.locale, style, praise)
    if draft.dialogue is None:
        return text, None
    turns = [
        roughen(rng, m, plan.locale, style, praise) if i % 2 == 0 else m
        for i, m in enumerate(draft.dialogue)
    ]
    return text, turns


def _draft(
    rng: random.Random,
    plan: _Plan,
    core: str,
    slots: dict[str, str],
    world: World,
    config: CorpusConfig,
) -> Draft:
    common = world.phrasebook.common[plan.locale]
    if plan.kind == "sarcasm":
        frame = rng.choice(world.sarcasm_frames(plan.locale, plan.split))
        core = sarcastic(rng, core, frame, slots)
    elif plan.kind == "multi_problem":
        other = _topic(rng, world, plan.line)
        while other == plan.topic:
            other = _topic(rng, world, plan.line)
        second = rng.choice(world.by_split[(other, plan.locale, plan.split)])
        core = two_problems(rng, core, expand(rng, second, slots), common)
    if plan.kind in ("actionable", "multi_problem") and rng.random() < config.subject_rate:
        core = with_subject(rng, core, rng.choice(common.subjects[plan.topic]), common)
    text = decorate(rng, core, common, DECORATION[plan.kind])
    if plan.kind not in OTHER_LEAF and rng.random() < config.dialogue_rate:
        return in_dialogue(rng, text, common, slots)
    return Draft(text)


def _noisy(rng: random.Random, topic: str, world: World, rate: float) -> str:
    """Return the label an agent recorded: the true topic, or now and then a wrong leaf."""
    if rng.random() >= rate:
        return topic
    leaves = [leaf for leaf in world.leaves[topic.split("/", 1)[0]] if leaf != topic]
    parent = topic.rsplit("/", 1)[0] + "/"
    siblings = [leaf for leaf in leaves if leaf.startswith(parent)]
    return rng.choice(siblings if siblings and rng.random() < 0.7 else leaves)


def write_corpus(out: Path, config: CorpusConfig, world: World) -> dict[str, Any]:
    """Write train/valid/test JSONL and card.json under `out`; return the card."""
    out.mkdir(parents=True, exist_ok=True)
    card = CardBuilder(config, world)
    handles = {s: (out / SPLIT_FILES[s]).open("w", encoding="utf-8") for s in SPLITS}
    try:
        for item in generate(config, world):
            handles[item.record.split].write(item.record.to_json() + "\n")
            card.add(item.record, item.true_topic)
    finally:
        for handle in handles.values():
            handle.close()
    summary = card.build()
    (out / CARD_FILE).write_text(card.to_json(summary), encoding="utf-8")
    return summary
