"""Write a model bundle: weights, tokenizer, config, topics, calibration, thresholds, metrics,
ONNX exports, report, and the manifest. Written aside and swapped in, so a reader never sees a
half-written bundle; validated with `load_bundle` before the swap."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from models.bundle import ONNX_FILES, load_bundle, write_manifest
from models.network import WEIGHTS_FILE, TopicNetwork
from training.data import Example
from training.evaluate import Evaluation
from training.export import export_onnx, export_parity

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    command = ["git", "-C", str(REPO_ROOT), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=10)  # noqa: S603
    return done.stdout.strip()


def code_version() -> str:
    """Return the git commit of this code (with '-dirty' for uncommitted changes), or 'unknown'."""
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def write_json(path: Path, data: Any) -> None:
    """Write indented UTF-8 JSON."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=float) + "\n")


def write_bundle(
    out_dir: Path,
    network: TopicNetwork,
    encoder_dir: Path,
    snapshot: dict[str, list[dict[str, Any]]],
    evaluation: Evaluation,
    manifest: dict[str, Any],
    parity_examples: list[Example],
    write_report: Callable[[Path, dict[str, Any]], object] | None = None,
) -> Path:
    """Write the bundle for a trained network into `out_dir` (replacing it) and return it."""
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    state = {k: v.detach().contiguous().cpu() for k, v in network.state_dict().items()}
    save_file(state, str(tmp / WEIGHTS_FILE))
    (tmp / WEIGHTS_FILE).chmod(
        0o644
    )  # safetensors writes 0600; the service may run as another user
    network.encoder.config.to_json_file(str(tmp / "config.json"))
    for name in TOKENIZER_FILES:
        if (encoder_dir / name).is_file():
            shutil.copy2(encoder_dir / name, tmp / name)
    write_json(tmp / "topics.json", snapshot)
    write_json(tmp / "calibration.json", {"temperature": evaluation.temperature})
    write_json(tmp / "thresholds.json", {"topics": evaluation.thresholds, **manifest["thresholds"]})
    onnx = {name: tmp / rel for name, rel in ONNX_FILES.items()}
    export_onnx(tmp, network.spec, onnx["onnx-fp32"], onnx["onnx-int8"])
    metrics = {
        **evaluation.metrics,
        "export": export_parity(tmp, network.spec, onnx, parity_examples),
    }
    write_json(tmp / "metrics.json", metrics)
    if write_report is not None:
        write_report(tmp / "report", metrics)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    fields = {k: v for k, v in manifest.items() if k != "thresholds"}
    write_manifest(tmp, {**fields, "created_at": created, "code_version": code_version(),
                         "spec": network.spec.to_json()})  # fmt: skip
    load_bundle(tmp)  # refuse to publish a bundle the service would refuse
    _swap(tmp, out_dir)
    return out_dir


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` with renames (the old bundle is removed afterwards)."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
