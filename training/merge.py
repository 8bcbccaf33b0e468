"""Merge exported feedback into the base training data for a retrain.

The agent's choice is the label (feedback wins over a base row with the same text), escalations
keep their topic but no template label, duplicates go, the newest feedback is held out in time
order, and nothing that repeats a text of the frozen evaluation splits reaches training.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Row = dict[str, Any]
HOLDOUT_FILE = "holdout.jsonl"


def text_key(row: Row) -> tuple[str, str, str]:
    """Return what makes two rows the same ticket for training: line, language, folded text."""
    return (row["line"], row["locale"], " ".join(str(row["text"]).casefold().split()))


def read_rows(path: Path) -> list[Row]:
    """Return the JSON rows of a JSONL file (none when it does not exist)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_rows(path: Path, rows: Iterable[Row]) -> int:
    """Write rows as JSONL; return how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def as_label(row: Row) -> Row:
    """Return a feedback row as a training label: an escalation teaches its topic, no template;
    a template the agent chose over the model's suggestion is the reply to learn (sent)."""
    if row.get("agent_action") == "escalated":
        return {**row, "template": None}
    if row.get("agent_action") == "other_template":
        return {**row, "agent_action": "sent"}
    return row


def merge_feedback(base_dir: Path, feedback: list[Row], out_dir: Path, holdout: float) -> Row:
    """Write train/valid/test/holdout JSONL for a retrain into `out_dir`; return the counts.

    `base_dir` holds the champion's data (train.jsonl, its holdout.jsonl folded into training
    now, valid.jsonl and test.jsonl, copied unchanged: the frozen sets); `feedback` is oldest
    first, and its newest `holdout` share becomes holdout.jsonl.
    """
    frozen = {
        text_key(r) for name in ("valid", "test") for r in read_rows(base_dir / f"{name}.jsonl")
    }
    latest: dict[tuple[str, str, str], Row] = {}
    for row in feedback:  # oldest first: a later label of the same text wins
        latest.pop(text_key(row), None)
        latest[text_key(row)] = as_label(row)
    fresh = [r for k, r in latest.items() if k not in frozen]
    held = math.ceil(len(fresh) * holdout) if len(fresh) > 1 else 0
    learn, hold = fresh[: len(fresh) - held], fresh[len(fresh) - held :]
    taught = {text_key(r) for r in fresh}
    base = read_rows(base_dir / "train.jsonl") + read_rows(base_dir / HOLDOUT_FILE)
    unique = {text_key(r): r for r in base}
    kept = [r for k, r in unique.items() if k not in taught]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("valid", "test"):
        shutil.copyfile(base_dir / f"{name}.jsonl", out_dir / f"{name}.jsonl")
    return {
        "base_train": len(base),
        "base_kept": write_rows(out_dir / "train.jsonl", [*kept, *learn]) - len(learn),
        "feedback": len(feedback),
        "duplicates_dropped": len(feedback) - len(latest) + len(base) - len(unique),
        "relabelled_by_feedback": len(unique) - len(kept),
        "in_frozen_sets": len(latest) - len(fresh),
        "escalations_untemplated": sum(r.get("agent_action") == "escalated" for r in fresh),
        "feedback_trained": len(learn),
        "holdout": write_rows(out_dir / HOLDOUT_FILE, hold),
    }
