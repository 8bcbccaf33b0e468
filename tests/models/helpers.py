"""Test data shared by tests/models and tests/training: a synthetic corpus, a tiny encoder,
and quick bundles (the real MiniLM, the tiny encoder) built once per test session."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from models.encoder import default_encoder_dir
from rules.loader import load_rulebook
from rules.topics import TopicNode

EN_FRAMES = (
    "Hello, {t}. Please help",
    "{t}!! what now?",
    "hi, it is about: {t}",
    "{t}, can you check",
)
RU_FRAMES = (
    "Здравствуйте, {t}. Помогите",
    "{t}!! что делать?",
    "добрый день, вопрос: {t}",
    "{t}, проверьте",
)
_BUNDLES: dict[str, Path] = {}


def guard_of(node: TopicNode) -> str:
    """Return the guard class a synthetic ticket of this leaf carries (the tree names it)."""
    return "actionable" if node.actionable else (node.guard or "off_topic")


def write_corpus(root: Path, per_leaf: int = 4, seed: int = 0) -> Path:
    """Write train/valid/test JSONL in the corpus format for every leaf of the shipped rulebook.

    Texts are built from the leaf titles (so the data follows the tree as it grows), in English
    and Russian, with a dialogue on some tickets.
    """
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    topics = load_rulebook().topics
    snapshot = topics.snapshot()
    guards = {node.path: guard_of(node) for node in topics.leaves()}
    rows: dict[str, list[dict]] = {"train": [], "valid": [], "test": []}
    for line, leaves in snapshot.items():
        for leaf in leaves:
            for split, count in (
                ("train", per_leaf),
                ("valid", per_leaf),
                ("test", max(2, per_leaf // 2)),
            ):
                for i in range(count):
                    locale = "ru" if i % 2 else "en"
                    frames = RU_FRAMES if locale == "ru" else EN_FRAMES
                    text = rng.choice(frames).format(t=leaf["title"][locale].lower())
                    rows[split].append(
                        {
                            "id": f"{split}-{leaf['path']}-{i}",
                            "line": line,
                            "locale": locale,
                            "text": text,
                            "dialogue": ["earlier message"] if i % 3 == 0 else None,
                            "topic": leaf["path"],
                            "label": leaf["path"],
                            "guard": guards[leaf["path"]],
                        }
                    )
    for split, items in rows.items():
        with (root / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for row in items:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return root


def tiny_encoder(root: Path) -> Path:
    """Write a randomly initialised 2-layer BERT with MiniLM's tokenizer (fast to train)."""
    from transformers import BertConfig, BertModel

    if (root / "config.json").is_file():
        return root
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )  # fmt: skip
    BertModel(config).save_pretrained(str(root))
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy2(default_encoder_dir() / name, root / name)
    return root


def quick_bundle(base: Path) -> Path:
    """Return one quick bundle on the real MiniLM, built on first use (about half a minute)."""
    if "quick" not in _BUNDLES:
        from training.quick import train_quick_bundle

        corpus = write_corpus(base / "corpus", per_leaf=6)
        _BUNDLES["quick"] = train_quick_bundle(
            corpus, base / "bundle", quick_epochs=60, max_length=64, baseline=True
        )
    return _BUNDLES["quick"]


def tiny_bundle(base: Path) -> Path:
    """Return one quick bundle on the tiny encoder, built on first use (seconds)."""
    if "tiny" not in _BUNDLES:
        from training.quick import train_quick_bundle

        _BUNDLES["tiny"] = train_quick_bundle(
            write_corpus(base / "corpus", per_leaf=2),
            base / "bundle",
            encoder_dir=str(tiny_encoder(base / "encoder")),
            quick_epochs=3,
            max_length=32,
            report=False,
            baseline=False,
        )
    return _BUNDLES["tiny"]


def bundle_variant(bundle: Path, out: Path, threshold: float) -> Path:
    """Return a copy of `bundle` with every leaf threshold set to `threshold`: a valid bundle with
    another version id, in milliseconds (for registry tests)."""
    from models.bundle import MANIFEST, write_manifest

    shutil.copytree(bundle, out)
    out.chmod(0o755)
    path = out / "thresholds.json"
    data = json.loads(path.read_text())
    for entry in data["topics"].values():
        entry["threshold"] = threshold
    path.write_text(json.dumps(data))
    manifest = json.loads((out / MANIFEST).read_text())
    write_manifest(out, {k: v for k, v in manifest.items() if k not in ("version", "files")})
    return out
