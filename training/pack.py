"""Carry a bundle home from a lent GPU machine, which returns at most 8 files of 16 MiB each
(64 MiB in all): `pack_bundle` there, `unpack_bundle` here.

A pack is the weights as fp16 safetensors cut into parts, one archive of every small file the
bundle needs (tokenizer, config, topics, calibration, thresholds, metrics, parity sample, report,
and the manifest's fields), and `pack.json` with the sha256 of every file and of the joined
weights. The ONNX exports stay behind: unpacking upcasts the weights to fp32 and finishes the
bundle on this CPU the way a training run does (`training.package.finish_bundle`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import tarfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from models.bundle import MANIFEST, ONNX_FILES, load_bundle, sha256_file
from models.network import WEIGHTS_FILE
from models.spec import ModelSpec
from training.package import (
    PARITY_FILE,
    code_version,
    finish_bundle,
    read_parity_sample,
    save_weights,
    start_aside,
)

PACK_FILE = "pack.json"
ARCHIVE = "bundle-files.tar.gz"
PART = "weights.fp16.safetensors.part{:02d}"
FORMAT = 1
MIB = 1 << 20
MAX_FILES, MAX_FILE_MIB, MAX_TOTAL_MIB = 8, 16, 64  # what a lent machine returns
LEFT_BEHIND = (WEIGHTS_FILE, *ONNX_FILES.values())  # carried as parts, or rebuilt at home


class PackError(ValueError):
    """A pack cannot be written within the limits, or is incomplete or corrupt; says what to do."""


def pack_bundle(bundle_dir: Path, out_dir: Path, part_mib: float = 15.0) -> dict[str, Any]:
    """Write the pack of a valid bundle into an empty `out_dir`; return what `pack.json` says."""
    if not 0 < part_mib <= MAX_FILE_MIB:
        raise PackError(f"--part-mib must be above 0 and at most {MAX_FILE_MIB}")
    bundle = load_bundle(bundle_dir)
    if not (bundle.path / PARITY_FILE).is_file():
        raise PackError(
            f"bundle {bundle.path} has no {PARITY_FILE} (written by an older `autoreply train`); "
            "retrain it with this code to pack it"
        )
    weights = half_weights(bundle.path / WEIGHTS_FILE)
    size = int(part_mib * MIB)
    parts = {
        PART.format(i): weights[at : at + size] for i, at in enumerate(range(0, len(weights), size))
    }
    files = {ARCHIVE: archive_small_files(bundle.path), **parts}
    check_limits({name: len(data) for name, data in files.items()}, len(weights))
    manifest = {
        "format": FORMAT,
        "source_version": bundle.version,
        "weights": {
            "dtype": "float16",
            "bytes": len(weights),
            "sha256": hashlib.sha256(weights).hexdigest(),
            "parts": [_entry(name, data) for name, data in parts.items()],
        },
        "archive": _entry(ARCHIVE, files[ARCHIVE]),
    }
    _write_files(out_dir, {**files, PACK_FILE: _json_bytes(manifest)})
    return manifest


def half_weights(path: Path) -> bytes:
    """Return the safetensors bytes of a weights file with every fp32 tensor cast to fp16."""
    state = load(path.read_bytes())
    half = {k: v.half() if v.dtype == torch.float32 else v for k, v in state.items()}
    overflow = [k for k, v in half.items() if v.is_floating_point() and not v.isfinite().all()]
    if overflow:
        raise PackError(f"weights outside the fp16 range, cannot pack: {', '.join(overflow[:5])}")
    return save(half)


def archive_small_files(bundle_dir: Path) -> bytes:
    """Return a tar.gz of every bundle file but the weights and the ONNX exports."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(bundle_dir.rglob("*")):
            rel = path.relative_to(bundle_dir).as_posix()
            if path.is_file() and rel not in LEFT_BEHIND:
                tar.add(path, arcname=rel, recursive=False)
    return buffer.getvalue()


def check_limits(sizes: dict[str, int], weights_bytes: int) -> None:
    """Raise PackError unless these files and pack.json fit what a lent machine returns."""
    count, total = len(sizes) + 1, sum(sizes.values())
    if total > (MAX_TOTAL_MIB - 1) * MIB:  # 1 MiB kept for pack.json
        raise PackError(
            f"the pack would be {total / MIB:.1f} MiB, over the {MAX_TOTAL_MIB} MiB a lent machine "
            "returns: train a smaller encoder or fewer task_layers, or copy the bundle another way"
        )
    big = [name for name, n in sizes.items() if n > MAX_FILE_MIB * MIB]
    if big:
        raise PackError(
            f"{', '.join(big)} would be over {MAX_FILE_MIB} MiB, the most a lent machine returns "
            "per file: leave large extra files out of the bundle's report/"
        )
    if count > MAX_FILES:
        need = math.ceil(10 * weights_bytes / (MAX_FILES - 2) / MIB) / 10
        raise PackError(
            f"the pack would be {count} files, over the {MAX_FILES} a lent machine returns: "
            f"use --part-mib {need} or more (at most {MAX_FILE_MIB})"
        )


def unpack_bundle(pack_dir: Path, out_dir: Path) -> Path:
    """Verify a pack, rebuild its bundle here (fp32, ONNX, int8, parity) as `out_dir`; return it."""
    manifest = _read_pack(pack_dir)
    weights = verified_weights(pack_dir, manifest)
    _verify(pack_dir, manifest["archive"], "archive")
    tmp = start_aside(out_dir)
    with tarfile.open(pack_dir / ARCHIVE, mode="r:gz") as tar:
        tar.extractall(tmp, filter="data")
    source = json.loads((tmp / MANIFEST).read_text(encoding="utf-8"))
    (tmp / MANIFEST).unlink()
    state = {k: v.float() if v.dtype == torch.float16 else v for k, v in load(weights).items()}
    save_weights(state, tmp / WEIGHTS_FILE)
    metrics = json.loads((tmp / "metrics.json").read_text(encoding="utf-8"))
    metrics.pop("export", None)  # measured again here, on the restored weights
    fields = {k: v for k, v in source.items() if k not in ("format", "version", "files", "spec")}
    fields["restored"] = {
        "from_version": manifest["source_version"],
        "weights": manifest["weights"]["dtype"],
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
    }
    spec = ModelSpec.from_json(source["spec"])
    parity = read_parity_sample(tmp / PARITY_FILE)
    return finish_bundle(tmp, out_dir, spec, metrics, fields, parity)


def verified_weights(pack_dir: Path, manifest: dict[str, Any]) -> bytes:
    """Return the joined fp16 weights after checking every part and the whole against pack.json."""
    parts = manifest["weights"]["parts"]
    for part in parts:
        _verify(pack_dir, part, "part")
    joined = b"".join((pack_dir / part["name"]).read_bytes() for part in parts)
    if hashlib.sha256(joined).hexdigest() != manifest["weights"]["sha256"]:
        raise PackError(
            f"the joined weight parts in {pack_dir} do not match the sha256 in {PACK_FILE}: "
            "a part is from another pack; copy the whole pack again"
        )
    return joined


def _verify(pack_dir: Path, entry: dict[str, Any], kind: str) -> None:
    path = pack_dir / entry["name"]
    if not path.is_file():
        raise PackError(f"{kind} {entry['name']} is missing from {pack_dir}: copy it from the pack")
    if sha256_file(path) != entry["sha256"]:
        raise PackError(
            f"{kind} {entry['name']} in {pack_dir} does not match its sha256 in {PACK_FILE} "
            f"({path.stat().st_size} bytes, {entry['bytes']} expected): copy it again"
        )


def _read_pack(pack_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((pack_dir / PACK_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(
            f"{pack_dir} has no {PACK_FILE}: give the folder `autoreply bundles pack` wrote"
        ) from None
    except json.JSONDecodeError as exc:
        raise PackError(
            f"{pack_dir / PACK_FILE} is not valid JSON ({exc}): copy it again"
        ) from None
    if manifest.get("format") != FORMAT:
        raise PackError(
            f"{PACK_FILE} has format {manifest.get('format')!r}; this code reads {FORMAT}"
        )
    return dict(manifest)


def _entry(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def _write_files(out_dir: Path, files: dict[str, bytes]) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PackError(
            f"{out_dir} is not empty: everything under it counts against what a lent machine "
            "returns; give an empty or new folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
