"""Write a model bundle: weights, tokenizer, config, topics, calibration, thresholds, metrics,
ONNX exports, parity sample, report, and the manifest. Written aside and swapped in, so a reader
never sees a half-written bundle; validated with `load_bundle` before the swap.

`finish_bundle` is the second half, shared by a training run (`write_bundle`) and a bundle
brought home from another machine (`training/pack.py`): everything derived from the weights.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from models.bundle import ONNX_FILES, load_bundle, write_manifest
from models.lexical import lexical_file
from models.network import WEIGHTS_FILE, TopicNetwork
from models.spec import ModelSpec
from training.data import Example
from training.evaluate import Evaluation
from training.export import export_onnx, export_parity

TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
PARITY_FILE = "parity.jsonl"  # the texts the ONNX exports were checked on
# Refits the decision policy of a complete bundle in its directory (rewriting thresholds.json)
# and returns the manifest fields that change.
Refit = Callable[[Path], dict[str, Any]]
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


def write_thresholds(root: Path, topics: dict[str, Any], targets: dict[str, Any]) -> None:
    """Write thresholds.json: each topic node's entry and the risk targets they were fitted for."""
    write_json(root / "thresholds.json", {"topics": topics, **targets})


def write_bundle(
    out_dir: Path,
    network: TopicNetwork,
    encoder_dir: Path,
    snapshot: dict[str, list[dict[str, Any]]],
    evaluation: Evaluation,
    manifest: dict[str, Any],
    parity_examples: list[Example],
    write_report: Callable[[Path, dict[str, Any]], object] | None = None,
    refit: Refit | None = None,
) -> Path:
    """Write the bundle for a trained network into `out_dir` (replacing it) and return it."""
    tmp = start_aside(out_dir)
    save_weights(network.state_dict(), tmp / WEIGHTS_FILE)
    network.encoder.config.to_json_file(str(tmp / "config.json"))
    for name in TOKENIZER_FILES:
        if (encoder_dir / name).is_file():
            shutil.copy2(encoder_dir / name, tmp / name)
    write_json(tmp / "topics.json", snapshot)
    write_json(tmp / "calibration.json", {"temperature": evaluation.temperature})
    for line, head in evaluation.lexical.items():
        (tmp / lexical_file(line)).parent.mkdir(exist_ok=True)
        head.save(tmp / lexical_file(line))
    write_thresholds(tmp, evaluation.thresholds, manifest["thresholds"])
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    fields = {k: v for k, v in manifest.items() if k != "thresholds"}
    fields.update(created_at=created, code_version=code_version())
    return finish_bundle(
        tmp, out_dir, network.spec, evaluation.metrics, fields, parity_examples, write_report, refit
    )


def start_aside(out_dir: Path) -> Path:
    """Return a fresh, empty directory beside `out_dir` to write its next bundle into."""
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def save_weights(state: Mapping[str, torch.Tensor], path: Path) -> None:
    """Write a state dict as safetensors that another user (the service) can read."""
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(path))
    path.chmod(0o644)  # safetensors writes 0600; the service may run as another user


def finish_bundle(
    tmp: Path,
    out_dir: Path,
    spec: ModelSpec,
    metrics: dict[str, Any],
    manifest: dict[str, Any],
    parity_examples: list[Example],
    write_report: Callable[[Path, dict[str, Any]], object] | None = None,
    refit: Refit | None = None,
) -> Path:
    """Export, check, describe and publish the weights, config and JSON files in `tmp`.

    Writes the ONNX fp32 and int8 exports, the parity sample and its figures (into
    `metrics.json`), the report and the manifest; validates the result with `load_bundle`; with
    `refit`, refits the decision policy on the complete bundle as it will be served and validates
    again; then swaps it in as `out_dir` and returns it. On any failure `tmp` is removed and
    `out_dir` is left as it was.
    """
    try:
        write_parity_sample(tmp / PARITY_FILE, parity_examples)
        onnx = {name: tmp / rel for name, rel in ONNX_FILES.items()}
        export_onnx(tmp, spec, onnx["onnx-fp32"], onnx["onnx-int8"])
        metrics = {**metrics, "export": export_parity(tmp, spec, onnx, parity_examples)}
        write_json(tmp / "metrics.json", metrics)
        if write_report is not None:
            write_report(tmp / "report", metrics)
        manifest = {**manifest, "spec": spec.to_json()}
        write_manifest(tmp, manifest)
        load_bundle(tmp)  # refuse to publish a bundle the service would refuse
        if refit is not None:
            write_manifest(tmp, {**manifest, **refit(tmp)})
            load_bundle(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(tmp, out_dir)
    return out_dir


def write_parity_sample(path: Path, examples: list[Example]) -> None:
    """Write the texts the export is checked on, so the bundle can be re-exported without data."""
    with path.open("w", encoding="utf-8") as handle:
        for e in examples:
            row = {"line": e.line, "locale": e.locale, "label": e.label, "text": e.text,
                   "dialogue": list(e.dialogue) if e.dialogue else None}  # fmt: skip
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_parity_sample(path: Path) -> list[Example]:
    """Return the parity sample `write_parity_sample` wrote."""
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Example(text=r["text"], line=r["line"], label=r["label"], locale=r["locale"],
                dialogue=tuple(r["dialogue"]) if r["dialogue"] else None)
        for r in rows
    ]  # fmt: skip


def _swap(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` with renames (the old bundle is removed afterwards)."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
