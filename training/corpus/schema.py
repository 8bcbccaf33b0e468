"""The corpus ticket format (one JSON object per line), shared by `data generate` and any export
of real feedback into training data: the record, its serialisation, and its validation."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.prediction import GUARD_CLASSES
from rules.facts import FactValueError
from rules.rulebook import Rulebook

LINES = ("riders", "drivers")
LOCALES = ("ru", "en")
SPLITS = ("train", "valid", "test")
AGENT_ACTIONS = ("sent", "edited", "other_template", "escalated")
SPLIT_FILES = {split: f"{split}.jsonl" for split in SPLITS}
CARD_FILE = "card.json"


@dataclass(frozen=True)
class TicketRecord:
    """One ticket: what the customer wrote, about which ride, and what the agent answered."""

    id: str
    line: str
    locale: str
    text: str
    dialogue: list[str] | None
    topic: str  # a leaf path of the rulebook's topic tree (the label, possibly noisy)
    label: str  # the same string as `topic`, for generic training code
    guard: str  # one of models.prediction.GUARD_CLASSES
    facts: dict[str, Any]  # JSON-ready facts valid for the rulebook's facts.yaml
    template: str | None  # the template the agent sent; None when escalated without one
    agent_action: str  # sent | edited | other_template | escalated
    csat: int | None
    family: str  # the phrasing family (generated) or the source (exported)
    split: str

    def to_json(self) -> str:
        """Return the record as one JSONL line (UTF-8 text kept readable)."""
        # Not dataclasses.asdict: it deep-copies the facts, half the cost of generating a ticket.
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(fields, ensure_ascii=False)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> TicketRecord:
        """Return the record held in a parsed JSON object; raise KeyError/TypeError if malformed."""
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def problems_of(record: TicketRecord, rulebook: Rulebook) -> list[str]:
    """Return what is wrong with `record` against the contract and the rulebook (empty: valid)."""
    node = rulebook.topics.get(record.topic)
    checks = [
        (record.line in LINES, f"line {record.line!r}"),
        (record.locale in LOCALES, f"locale {record.locale!r}"),
        (bool(record.text.strip()), "empty text"),
        (node is not None and node.is_leaf, f"topic {record.topic!r} is not a leaf"),
        (record.topic.startswith(record.line + "/"), "topic outside its line"),
        (record.label == record.topic, "label differs from topic"),
        (record.guard in GUARD_CLASSES, f"guard {record.guard!r}"),
        (
            record.template is None or record.template in rulebook.templates,
            f"unknown template {record.template!r}",
        ),
        (record.agent_action in AGENT_ACTIONS, f"agent_action {record.agent_action!r}"),
        (record.template is not None or record.agent_action == "escalated", "no template sent"),
        (record.csat is None or record.csat in range(1, 6), f"csat {record.csat!r}"),
        (record.split in SPLITS, f"split {record.split!r}"),
        (bool(record.family), "empty family"),
        (record.dialogue is None or all(isinstance(m, str) for m in record.dialogue), "dialogue"),
    ]
    found = [f"{record.id}: {what}" for ok, what in checks if not ok]
    try:
        rulebook.facts.validate(record.facts)
    except FactValueError as exc:
        found.append(f"{record.id}: facts: {exc}")
    return found


def write_jsonl(path: Path, records: Iterable[TicketRecord]) -> int:
    """Write records one per line; return how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(record.to_json() + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[TicketRecord]:
    """Yield the records of a corpus JSONL file."""
    with path.open(encoding="utf-8") as lines:
        for raw in lines:
            if raw.strip():
                yield TicketRecord.from_dict(json.loads(raw))
