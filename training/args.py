"""Training arguments as dataclasses (run_glue style): one flat JSON config fills all four.

`load_config` reads the JSON file, applies command-line overrides, and refuses unknown keys or
wrong types with the valid names listed, so a typo fails before any weights are loaded.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints


def _arg(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class ModelArguments:
    """Which encoder, which hierarchical head design, how much is shared between lines."""

    encoder_dir: str = _arg("", "Local BERT-family encoder dir; empty = bundled all-MiniLM-L6-v2.")
    design: str = _arg("flat", "Hierarchical head: 'flat' (leaf softmax) or 'conditional'.")
    task_layers: int = _arg(0, "Top encoder layers copied per line (0 = hard sharing).")
    max_length: int = _arg(128, "Word pieces per input, [CLS] and [SEP] included.")
    transliterate: bool = _arg(True, "Write Cyrillic in Latin letters before tokenizing.")
    vocab_pieces: int = _arg(
        0,
        "Learn a WordPiece vocabulary of this size on the training texts of `vocab_locales` "
        "and add the pieces the encoder lacks (0 = the encoder's vocabulary as is).",
    )
    vocab_locales: str = _arg(
        "ru", "Comma-separated languages whose texts the pieces are learned on."
    )
    vocab_align_epochs: int = _arg(
        2,
        "Passes that teach the new pieces' embeddings to give the encoder the states the old "
        "pieces gave (everything else frozen; 0 = start them as the mean of the old pieces).",
    )
    dropout: float = _arg(0.1, "Dropout before the heads.")


@dataclass(frozen=True)
class DataArguments:
    """Where the JSONL lives and how to read a ticket from it."""

    data_dir: str = _arg(
        "", "Folder(s), comma-separated, each with train.jsonl [valid.jsonl] [test.jsonl]."
    )
    text_field: str = _arg("text", "Field holding the customer's message.")
    label_field: str = _arg("label", "Field holding the topic path a/b/c.")
    line_field: str = _arg("line", "Field holding the support line (optional in the data).")
    default_line: str = _arg("", "Line for rows without one; empty = the data folder's name.")
    rulebook: str = _arg(
        "", "Rulebook dir whose topic tree fixes the label set; empty = labels seen."
    )
    valid_fraction: float = _arg(0.1, "Share of train held out when there is no valid.jsonl.")
    max_train_examples: int = _arg(0, "Stratified subsample of train (0 = all).")
    max_eval_examples: int = _arg(0, "Stratified subsample of valid and test (0 = all).")
    use_dialogue: bool = _arg(True, "Feed the dialogue context as the second segment.")


@dataclass(frozen=True)
class TrainArguments:
    """Optimisation, schedule, stopping, checkpoints, devices."""

    output_dir: str = _arg("var/bundles/model", "Bundle directory to write.")
    quick: bool = _arg(False, "Frozen encoder: embed once, train heads only (minutes on a CPU).")
    seed: int = _arg(13, "Seed for python, numpy, torch and the batch order.")
    epochs: float = _arg(3.0, "Passes over the training data (fine-tune).")
    max_steps: int = _arg(0, "Stop after this many optimizer steps (0 = from epochs).")
    batch_size: int = _arg(32, "Examples per batch per process.")
    grad_accum: int = _arg(1, "Batches accumulated per optimizer step.")
    learning_rate: float = _arg(5e-5, "AdamW learning rate of the encoder.")
    head_learning_rate: float = _arg(1e-3, "AdamW learning rate of the heads.")
    weight_decay: float = _arg(0.01, "AdamW weight decay (not on biases and LayerNorm).")
    warmup_ratio: float = _arg(0.1, "Share of steps with a linear warm-up.")
    max_grad_norm: float = _arg(1.0, "Gradient clipping norm (0 = off).")
    bf16: str = _arg("auto", "Mixed precision: 'auto' (on a bf16 GPU), 'true' or 'false'.")
    line_alpha: float = _arg(
        1.0, "Line sampling: batches per line ~ size**alpha (1 = proportional)."
    )
    guard_loss_weight: float = _arg(0.5, "Weight of the guard head's loss.")
    guard_class_weight: float = _arg(
        0.5, "Guard classes weighted (most frequent / count) ** this (0 = unweighted)."
    )
    freeze_embeddings: bool = _arg(False, "Keep the word embeddings fixed (faster on a CPU).")
    freeze_layers: int = _arg(
        0, "Fine-tune: bottom encoder layers kept frozen and run once, cached (CPU; 0 = none)."
    )
    eval_every: int = _arg(0, "Validate every N optimizer steps (0 = once per epoch).")
    patience: int = _arg(2, "Stop after N validations without improvement.")
    checkpoint_dir: str = _arg("", "Checkpoints for resume; empty = <output_dir>.work")
    resume: bool = _arg(True, "Resume from the checkpoint when one exists for this config.")
    quick_epochs: int = _arg(200, "Heads-only epochs over the cached embeddings (quick).")
    quick_learning_rate: float = _arg(3e-3, "Heads-only learning rate (quick).")
    device: str = _arg("auto", "'auto' (cuda when available), 'cpu', 'cuda'.")
    threads: int = _arg(0, "CPU threads for torch (0 = torch's default).")
    progress: bool = _arg(True, "Show progress bars.")


@dataclass(frozen=True)
class EvalArguments:
    """Calibration, thresholds, report and the abstention defaults stored in the bundle."""

    lexical: bool = _arg(
        True,
        "Fuse a word and character n-gram head with the encoder, per line (it reads Russian "
        "morphology the English word pieces miss); its weight is fitted on validation.",
    )
    lexical_c: float = _arg(
        3.0, "Inverse L2 strength of the lexical head's logistic regression (the baseline's 3)."
    )
    precision_target: float = _arg(0.95, "Leaf precision of the reported coverage-at-precision.")
    risk_target: float = _arg(
        0.03, "Autoreply thresholds: most wrong-or-unsafe replies allowed (share of replies)."
    )
    unsafe_target: float = _arg(
        0.01, "Autoreply thresholds: most replies to non-actionable messages (share of replies)."
    )
    risk_delta: float = _arg(0.1, "The thresholds' guarantee holds with probability 1 - delta.")
    guard_recall: float = _arg(
        0.7, "Validation recall of each non-actionable guard class the guard is set for."
    )
    require_guard: bool = _arg(
        True, "Never autoreply with an untrained guard (false: data without guard labels)."
    )
    top_k: int = _arg(3, "k of the top-k accuracy.")
    ece_bins: int = _arg(15, "Bins of the expected calibration error.")
    min_margin: float = _arg(0.1, "Abstention: least gap between the best template and the next.")
    guard_threshold: float = _arg(0.5, "Abstention default: guard class probability that abstains.")
    actionable_floor: float = _arg(
        0.5, "Least 'actionable' probability when the guard has no labels to fit it on."
    )
    baseline: bool = _arg(True, "Also train and report the TF-IDF baseline.")
    report: bool = _arg(True, "Write report/ (Markdown + PNG plots) into the bundle.")


SECTIONS: tuple[type, ...] = (ModelArguments, DataArguments, TrainArguments, EvalArguments)


@dataclass(frozen=True)
class Config:
    """The four argument groups of one training run."""

    model: ModelArguments
    data: DataArguments
    train: TrainArguments
    eval: EvalArguments

    def to_json(self) -> dict[str, Any]:
        """Return every argument in one flat dict (what the bundle records)."""
        return {f.name: getattr(s, f.name) for s in self.sections() for f in fields(s)}

    def sections(self) -> tuple[Any, ...]:
        """Return the four argument groups."""
        return (self.model, self.data, self.train, self.eval)


class ConfigError(ValueError):
    """The config file or an override names an unknown argument or gives a wrong type."""


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> Config:
    """Return the config from a flat JSON file (or all defaults) with `overrides` on top."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"config {path} must hold one JSON object")
    values = {**values, **(overrides or {})}
    known = {f.name: (section, f) for section in SECTIONS for f in fields(section)}
    problems = [_unknown(key, known) for key in values if key not in known]
    groups: dict[type, dict[str, Any]] = {section: {} for section in SECTIONS}
    for key, value in values.items():
        if key in known:
            section, _ = known[key]
            expected = get_type_hints(section)[key]
            checked = _coerce(value, expected)
            if checked is None:
                problems.append(f"'{key}' must be {expected.__name__}, not {value!r}")
            else:
                groups[section][key] = checked
    if problems:
        raise ConfigError("bad training config:\n" + "\n".join(f"  - {p}" for p in problems))
    model, data, train, evaluation = (section(**groups[section]) for section in SECTIONS)
    config = Config(model, data, train, evaluation)
    problems = _conflicts(config)
    if problems:
        raise ConfigError("bad training config:\n" + "\n".join(f"  - {p}" for p in problems))
    return config


def _conflicts(config: Config) -> list[str]:
    """Return the settings that cannot work together, each saying what to change."""
    found = []
    frozen = config.train.quick or config.train.freeze_layers
    if config.model.vocab_pieces and frozen and not config.model.vocab_align_epochs:
        found.append(
            "'vocab_pieces' adds word embeddings that must be trained, but 'quick' or "
            "'freeze_layers' keeps the embeddings frozen: align them first "
            "(vocab_align_epochs=2), fine-tune them (freeze_layers=0), or set vocab_pieces=0"
        )
    if config.train.freeze_layers < 0:
        found.append("'freeze_layers' must be 0 (none) or more")
    if config.eval.lexical_c <= 0:
        found.append("'lexical_c' must be above 0 (smaller: a more regularised lexical head)")
    return found


def with_overrides(config: Config, **values: Any) -> Config:
    """Return `config` with some arguments replaced (by flat name)."""
    sections = list(config.sections())
    for i, section in enumerate(sections):
        own = {k: v for k, v in values.items() if k in {f.name for f in fields(section)}}
        sections[i] = replace(section, **own)
    return Config(*sections)


def config_help() -> str:
    """Return every config key with its default and meaning, grouped by section."""
    lines = []
    for section in SECTIONS:
        lines.append(f"{section.__name__}:")
        for f in fields(section):
            default = f.default if f.default is not MISSING else "(required)"
            lines.append(f"  {f.name} = {json.dumps(default)}  {f.metadata.get('help', '')}")
    return "\n".join(lines)


def _coerce(value: Any, expected: type) -> Any:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool and not isinstance(value, bool):
        return None
    if expected is int and isinstance(value, bool):
        return None
    return value if isinstance(value, expected) else None


def _unknown(key: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown argument '{key}'" + (f"; did you mean '{close[0]}'?" if close else "")
