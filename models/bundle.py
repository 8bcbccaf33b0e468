"""The model bundle: one directory that training writes and the service reads (no torch here).

Layout (every file listed in `bundle.json` with its sha256):

    bundle.json         manifest: version id, created_at, code version, data fingerprint, model
                        spec, abstention policy defaults, training summary, file hashes
    config.json         the encoder's transformers config
    model.safetensors   weights: encoder (+ per-line layers), line heads, guard head
    tokenizer.json      the fast tokenizer (plus vocab.txt etc. when the encoder had them)
    topics.json         the topic-tree snapshot the heads were trained on
    calibration.json    temperature per head (each line, and "guard")
    thresholds.json     per-leaf autoreply threshold (null = never) with its validation evidence
    metrics.json        the evaluation figures
    onnx/model.fp32.onnx, onnx/model.int8.onnx   exports for serving without torch
    parity.jsonl        the texts the exports were checked on (so a bundle re-exports without data)
    report/             the Markdown report and its plots (optional)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.spec import ModelSpec

if TYPE_CHECKING:
    from rules.topics import TopicTree

FORMAT = 1
MANIFEST = "bundle.json"
ONNX_FILES = {"onnx-fp32": "onnx/model.fp32.onnx", "onnx-int8": "onnx/model.int8.onnx"}
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "topics.json",
    "calibration.json",
    "thresholds.json",
    "metrics.json",
    *ONNX_FILES.values(),
)
MANIFEST_KEYS = ("format", "version", "created_at", "code_version", "data_fingerprint", "spec")
GUARD_HEAD = "guard"


class BundleError(ValueError):
    """A bundle is incomplete, corrupt, or does not fit the rulebook; the message says what."""


class BundleMismatchError(BundleError):
    """The bundle's topic leaves differ from the rulebook's."""


@dataclass(frozen=True)
class Bundle:
    """A validated bundle: its manifest, topic snapshot, calibration, thresholds and metrics."""

    path: Path
    version: str
    created_at: str
    code_version: str
    data_fingerprint: dict[str, Any]
    spec: ModelSpec
    topics: dict[str, list[dict[str, Any]]]
    temperature: dict[str, float]  # per head: each line, and "guard"
    thresholds: dict[str, float | None]  # per leaf; None = never autoreply
    threshold_evidence: dict[str, dict[str, Any]]
    metrics: dict[str, Any]
    policy: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def lines(self) -> tuple[str, ...]:
        """Return the support lines this bundle serves."""
        return tuple(self.spec.lines)

    def leaf_paths(self, line: str) -> list[str]:
        """Return one line's leaves in label order."""
        return list(self.spec.lines[line])

    @property
    def actionable(self) -> dict[str, bool]:
        """Return, per leaf, whether the topic tree marked it answerable by a template."""
        return actionable_leaves(self.topics)

    def file(self, name: str) -> Path:
        """Return the path of one of the bundle's files."""
        return self.path / name


def actionable_leaves(snapshot: dict[str, list[dict[str, Any]]]) -> dict[str, bool]:
    """Return, per leaf of a topic snapshot (`topics.json`), whether a template may answer it."""
    return {
        leaf["path"]: bool(leaf.get("actionable", True))
        for leaves in snapshot.values()
        for leaf in leaves
    }


def load_bundle(path: Path | str, verify_hashes: bool = True) -> Bundle:
    """Return the bundle at `path`, or raise BundleError listing everything wrong with it."""
    root = Path(path)
    if not root.is_dir():
        raise BundleError(f"bundle {root} is not a directory")
    manifest = _read_json(root, MANIFEST, [])
    if not isinstance(manifest, dict):
        raise BundleError(f"bundle {root} has no readable {MANIFEST}; was training interrupted?")
    problems = _check_manifest(root, manifest, verify_hashes)
    if problems:
        raise BundleError(_listing(root, problems))
    jsons = {
        name: _read_json(root, name, problems)
        for name in REQUIRED_FILES
        if name.endswith(".json") and name != "config.json"
    }
    if problems:
        raise BundleError(_listing(root, problems))
    try:
        bundle = _assemble(root, manifest, jsons)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise BundleError(_listing(root, [f"malformed manifest or JSON file: {exc!r}"])) from None
    problems = _check_contents(bundle)
    if problems:
        raise BundleError(_listing(root, problems))
    return bundle


def _assemble(root: Path, manifest: dict[str, Any], jsons: dict[str, Any]) -> Bundle:
    thresholds = jsons["thresholds.json"]["topics"]
    return Bundle(
        path=root,
        version=str(manifest["version"]),
        created_at=str(manifest["created_at"]),
        code_version=str(manifest["code_version"]),
        data_fingerprint=dict(manifest["data_fingerprint"]),
        spec=ModelSpec.from_json(manifest["spec"]),
        topics=jsons["topics.json"],
        temperature={k: float(v) for k, v in jsons["calibration.json"]["temperature"].items()},
        thresholds={leaf: entry["threshold"] for leaf, entry in thresholds.items()},
        threshold_evidence=thresholds,
        metrics=jsons["metrics.json"],
        policy=dict(manifest.get("policy", {})),
        training=dict(manifest.get("training", {})),
    )


def check_against_topics(
    bundle: Bundle, topics: TopicTree, allow_missing_lines: bool = False
) -> None:
    """Raise BundleMismatchError unless every line's leaves equal the rulebook's leaf paths."""
    problems = []
    for line in bundle.lines:
        if line not in topics.lines:
            problems.append(f"line '{line}' is not in the rulebook's topics")
            continue
        have, want = set(bundle.leaf_paths(line)), set(topics.leaf_paths(line))
        for leaf in sorted(want - have):
            problems.append(f"rulebook topic '{leaf}' has no output in the model")
        for leaf in sorted(have - want):
            problems.append(f"model topic '{leaf}' is not in the rulebook")
    if not allow_missing_lines:
        problems += [
            f"rulebook line '{ln}' is not served" for ln in topics.lines if ln not in bundle.lines
        ]
    if problems:
        raise BundleMismatchError(
            _listing(bundle.path, problems)
            + "\nretrain on the current rulebook (`autoreply train`) or load the matching rulebook"
        )


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(root: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Hash every file under `root`, derive the version id, write bundle.json; return it."""
    files = {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    model_files = {k: v for k, v in files.items() if not k.startswith("report/")}
    digest = hashlib.sha256(json.dumps(model_files, sort_keys=True).encode()).hexdigest()[:10]
    stamp = str(manifest["created_at"])[:10].replace("-", "")
    full = {"format": FORMAT, **manifest, "version": f"topics-{stamp}-{digest}", "files": files}
    (root / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n")
    return full


def _check_manifest(root: Path, manifest: dict[str, Any], verify_hashes: bool) -> list[str]:
    if manifest.get("format") != FORMAT:
        return [f"{MANIFEST} has format {manifest.get('format')!r}; this code reads {FORMAT}"]
    problems = [f"{MANIFEST} lacks '{key}'" for key in MANIFEST_KEYS if key not in manifest]
    problems += [f"missing file {name}" for name in REQUIRED_FILES if not (root / name).is_file()]
    if verify_hashes and not problems:
        for name, expected in manifest.get("files", {}).items():
            path = root / name
            if not path.is_file():
                problems.append(f"missing file {name}")
            elif sha256_file(path) != expected:
                problems.append(f"{name} does not match its sha256 in {MANIFEST} (modified?)")
    return problems


def _check_contents(bundle: Bundle) -> list[str]:
    problems = []
    snapshot = {line: [leaf["path"] for leaf in leaves] for line, leaves in bundle.topics.items()}
    if set(snapshot) != set(bundle.lines):
        problems.append(
            f"topics.json lines {sorted(snapshot)} differ from the model's {sorted(bundle.lines)}"
        )
    for line in bundle.lines:
        if snapshot.get(line, bundle.leaf_paths(line)) != bundle.leaf_paths(line):
            problems.append(f"topics.json leaves of '{line}' differ from the model's outputs")
        missing = [leaf for leaf in bundle.leaf_paths(line) if leaf not in bundle.thresholds]
        problems += [f"thresholds.json has no entry for '{leaf}'" for leaf in missing[:5]]
    for leaf, value in bundle.thresholds.items():
        if value is not None and not 0.0 <= float(value) <= 1.0:
            problems.append(f"threshold of '{leaf}' is {value}, not in [0, 1]")
    for head in (*bundle.lines, GUARD_HEAD):
        if not bundle.temperature.get(head, 0.0) > 0.0:
            problems.append(f"calibration.json lacks a positive temperature for '{head}'")
    return problems


def _read_json(root: Path, name: str, problems: list[str]) -> Any:
    try:
        return json.loads((root / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"missing file {name}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{name} is not valid JSON: {exc}")
    return None


def _listing(root: Path, problems: list[str]) -> str:
    return f"invalid model bundle {root}:\n" + "\n".join(f"  - {p}" for p in problems)
