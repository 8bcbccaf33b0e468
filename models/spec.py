"""The shape of a topic network: what training builds and a bundle stores (no torch here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from models.prediction import GUARD_CLASSES
from models.tree import DESIGNS, Design, LabelTree, build_trees


@dataclass(frozen=True)
class ModelSpec:
    """Heads and inputs of a network: lines with their leaves, the design, sharing, max length."""

    lines: dict[str, tuple[str, ...]]  # line -> leaf paths in label order
    design: Design = "flat"
    task_layers: int = 0  # top encoder layers kept per line (0 = hard sharing)
    max_length: int = 128
    transliterate: bool = False  # Cyrillic written in Latin letters before tokenizing
    dropout: float = 0.1
    guard_classes: tuple[str, ...] = GUARD_CLASSES
    guard_trained: bool = True  # False when the data carried no guard labels
    encoder_name: str = ""
    trees: dict[str, LabelTree] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {DESIGNS}, not '{self.design}'")
        if self.task_layers < 0:
            raise ValueError("task_layers must be >= 0")
        object.__setattr__(self, "trees", build_trees(self.lines))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the trees are rebuilt from `lines` on load)."""
        data = asdict(self)
        data.pop("trees")
        data["lines"] = {line: list(leaves) for line, leaves in self.lines.items()}
        data["guard_classes"] = list(self.guard_classes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSpec:
        """Return the spec stored by `to_json`."""
        fields = dict(data)
        fields["lines"] = {line: tuple(leaves) for line, leaves in data["lines"].items()}
        fields["guard_classes"] = tuple(data.get("guard_classes", GUARD_CLASSES))
        return cls(**fields)
