"""Read tickets (the corpus, or any JSONL with `text` and a label path) into train/valid/test.

A row needs a text and a label path like `a/b/c`. Rows without a support line get the data
folder's name as their line, so public datasets train with no code change: a bare intent
becomes a one-level tree, `category/intent` a two-level one.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.prediction import GUARD_CLASSES
from training.args import DataArguments

SPLITS = ("train", "valid", "test")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LINE_CHARS = re.compile(r"[^a-z0-9_]+")
_READING_OPTIONS = (
    "text_field",
    "label_field",
    "line_field",
    "default_line",
    "use_dialogue",
    "valid_fraction",
    "max_train_examples",
    "max_eval_examples",
)


class DataError(ValueError):
    """The data folder or one of its rows cannot be used; the message says where."""


@dataclass(frozen=True)
class Example:
    """One ticket: its text (and dialogue), its line, its leaf path, guard class and language."""

    text: str
    line: str
    label: str
    locale: str
    guard: str | None = None
    dialogue: tuple[str, ...] | None = None
    # What the agent did, when the data says (the corpus and feedback exports do): the decision
    # the service makes is replayed against it (`training/replay.py`).
    facts: dict[str, Any] | None = field(default=None, compare=False)
    template: str | None = None
    agent_action: str | None = None
    id: str | None = None


@dataclass
class Splits:
    """Train, valid and test examples with the fingerprint of the files they came from."""

    train: list[Example]
    valid: list[Example]
    test: list[Example]
    fingerprint: dict[str, Any] = field(default_factory=dict)
    test_source: str = "test"  # "valid" when the data had no test split

    def all(self) -> Iterable[Example]:
        """Yield every example of every split."""
        yield from self.train
        yield from self.valid
        yield from self.test


def detect_locale(text: str) -> str:
    """Return 'ru' when a fair share of the letters are Cyrillic, else 'en'."""
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum(1 for c in letters if _CYRILLIC.match(c))
    return "ru" if letters and cyrillic / len(letters) > 0.3 else "en"


def default_line_name(data_dir: Path) -> str:
    """Return a line id derived from a folder name (`bitext_cs`, `banking77`)."""
    return _LINE_CHARS.sub("_", data_dir.resolve().name.lower()).strip("_") or "data"


def read_examples(path: Path, args: DataArguments, default_line: str) -> list[Example]:
    """Return the examples of one JSONL file, or raise DataError naming the bad row."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                examples.append(_example(json.loads(raw), args, default_line))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{path}:{number}: {exc}") from None
    if not examples:
        raise DataError(f"{path} holds no examples")
    return examples


def _example(row: dict[str, Any], args: DataArguments, default_line: str) -> Example:
    text = row[args.text_field]
    label = row[args.label_field]
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"'{args.text_field}' must be a non-empty string")
    if not isinstance(label, str) or not label.strip("/"):
        raise ValueError(f"'{args.label_field}' must be a topic path like a/b/c")
    line = row.get(args.line_field) or default_line
    path = label.strip("/") if label.startswith(f"{line}/") else f"{line}/{label.strip('/')}"
    guard = row.get("guard")
    if guard is not None and guard not in GUARD_CLASSES:
        raise ValueError(f"guard '{guard}' is not one of {GUARD_CLASSES}")
    locale = row.get("locale") or detect_locale(text)
    dialogue = _turns(row.get("dialogue")) if args.use_dialogue else None
    facts = row.get("facts")
    return Example(
        text, str(line), path, str(locale), guard, dialogue,
        facts=facts if isinstance(facts, dict) else None,
        template=row.get("template") if isinstance(row.get("template"), str) else None,
        agent_action=row.get("agent_action") if isinstance(row.get("agent_action"), str) else None,
        id=str(row["id"]) if row.get("id") is not None else None,
    )  # fmt: skip


def _turns(dialogue: Any) -> tuple[str, ...] | None:
    """Return dialogue turns as strings; turns may be strings or {"text": ...} objects."""
    if not dialogue:
        return None
    turns = [t.get("text", "") if isinstance(t, dict) else str(t) for t in dialogue]
    return tuple(t for t in turns if t) or None


def load_splits(args: DataArguments, seed: int) -> Splits:
    """Return train/valid/test from `args.data_dir` (several folders: comma-separated, one line
    each), carving valid out of train where a folder has none."""
    roots = [Path(part.strip()) for part in args.data_dir.split(",") if part.strip()]
    if not roots:
        raise DataError("no data_dir given")
    parts: dict[str, list[Example]] = {name: [] for name in SPLITS}
    found: dict[str, Path] = {}
    test_source = "test"
    for root in roots:
        own = _load_folder(root, args, seed, single=len(roots) == 1)
        for name in SPLITS:
            parts[name] += own[name]
        found.update(
            {
                f"{root.name}/{name}": root / f"{name}.jsonl"
                for name in SPLITS
                if (root / f"{name}.jsonl").is_file()
            }
        )
        if not (root / "test.jsonl").is_file():
            test_source = "valid"
    train, valid, test = parts["train"], parts["valid"], parts["test"]
    if args.max_train_examples:
        train = stratified_sample(train, args.max_train_examples, seed)
    if args.max_eval_examples:
        valid = stratified_sample(valid, args.max_eval_examples, seed)
        test = stratified_sample(test, args.max_eval_examples, seed)
    return Splits(train, valid, test, fingerprint_files(found, args), test_source)


def _load_folder(
    root: Path, args: DataArguments, seed: int, single: bool
) -> dict[str, list[Example]]:
    """Return one folder's splits; its rows without a line get `default_line` or its name."""
    if not (root / "train.jsonl").is_file():
        raise DataError(f"{root} has no train.jsonl")
    line = (args.default_line if single else "") or default_line_name(root)
    parts = {
        name: read_examples(root / f"{name}.jsonl", args, line)
        for name in SPLITS
        if (root / f"{name}.jsonl").is_file()
    }
    if "valid" not in parts:
        parts["train"], parts["valid"] = stratified_split(parts["train"], args.valid_fraction, seed)
    parts.setdefault("test", parts["valid"])
    return parts


def stratified_split(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Return (rest, held out) with about `fraction` of every label held out."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    rest, held = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        cut = round(len(group) * fraction) if len(group) > 1 else 0
        held += group[:cut]
        rest += group[cut:]
    return rest, held


def stratified_sample(examples: list[Example], n: int, seed: int) -> list[Example]:
    """Return about `n` examples keeping label proportions."""
    if n >= len(examples):
        return examples
    _, sample = stratified_split(examples, n / len(examples), seed)
    return sample


def fingerprint_files(files: dict[str, Path], args: DataArguments) -> dict[str, Any]:
    """Return the sha256 of every split file and one digest over them and the reading options."""
    hashes = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}
    options = {k: getattr(args, k) for k in _READING_OPTIONS}
    combined = json.dumps({"files": hashes, "options": options}, sort_keys=True)
    return {
        "sha256": hashlib.sha256(combined.encode()).hexdigest(),
        "files": hashes,
        "data_dir": str(args.data_dir),
    }
