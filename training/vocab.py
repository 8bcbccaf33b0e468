"""Vocabulary adaptation: Russian word pieces learned from the training texts, added to the encoder.

all-MiniLM-L6-v2's English vocabulary splits a Russian word into ~5 pieces (~2.75 once
transliterated). `adapt_encoder` learns word pieces from the chosen languages' training texts with
the `tokenizers` WordPiece trainer (same normalizer and pre-tokenizer as the encoder's), appends
the ones the vocabulary lacks, and initialises each new embedding as the mean of the embeddings of
the old pieces that spelled the same string. The result is an ordinary encoder directory
(config, weights, tokenizer), so everything downstream - training, the bundle, the ONNX export,
the service's tokenizer - works on it unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, trainers
from transformers import AutoModel

from models.textenc import transliterate

CONTINUATION = "##"
UNK = "[UNK]"
SPECIAL_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def learn_pieces(texts: Sequence[str], base: Tokenizer, size: int) -> list[str]:
    """Return the word pieces a WordPiece vocabulary of `size` learns from `texts` that `base`
    lacks, most frequent first (the trainer's order)."""
    learner = Tokenizer(models.WordPiece(unk_token=UNK, continuing_subword_prefix=CONTINUATION))
    learner.normalizer = base.normalizer
    learner.pre_tokenizer = base.pre_tokenizer
    trainer = trainers.WordPieceTrainer(
        vocab_size=size,
        special_tokens=[UNK],
        continuing_subword_prefix=CONTINUATION,
        show_progress=False,
    )
    learner.train_from_iterator(texts, trainer)
    known = base.get_vocab()
    learned = sorted(learner.get_vocab().items(), key=lambda item: item[1])
    return [piece for piece, _ in learned if piece not in known]


def extended_tokenizer(base_file: Path, pieces: Sequence[str]) -> Tokenizer:
    """Return the encoder's tokenizer with `pieces` appended to its WordPiece vocabulary."""
    spec = json.loads(base_file.read_text(encoding="utf-8"))
    vocab: dict[str, int] = spec["model"]["vocab"]
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    return Tokenizer.from_str(json.dumps(spec))


def piece_sources(base: Tokenizer, pieces: Sequence[str]) -> list[list[int]]:
    """Return, per new piece, the old tokenizer's ids for the same string (continuation marks
    dropped), which its embedding starts from."""
    sources = []
    for piece in pieces:
        text = piece[len(CONTINUATION) :] if piece.startswith(CONTINUATION) else piece
        ids = base.encode(text, add_special_tokens=False).ids
        sources.append(ids or [int(base.token_to_id(UNK) or 0)])
    return sources


def adapt_encoder(
    encoder_dir: Path,
    texts: Sequence[str],
    size: int,
    use_transliteration: bool,
    work_dir: Path,
) -> Path:
    """Return an encoder directory whose vocabulary also holds the pieces learned from `texts`.

    The directory is keyed by the encoder, the texts and the size, written aside and renamed, and
    reused when it exists (a rerun or a resumed run adapts nothing twice).
    """
    inputs = [transliterate(t) for t in texts] if use_transliteration else list(texts)
    digest = hashlib.sha256(f"{encoder_dir.resolve()}:{size}".encode())
    for text in inputs:
        digest.update(text.encode() + b"\n")
    out = work_dir / f"encoder-vocab-{digest.hexdigest()[:16]}"
    if (out / "config.json").is_file():
        return out
    base = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    base.no_padding()
    base.no_truncation()
    pieces = learn_pieces(inputs, base, size)
    tokenizer = extended_tokenizer(encoder_dir / "tokenizer.json", pieces)
    model = AutoModel.from_pretrained(str(encoder_dir))
    old = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(tokenizer.get_vocab_size(), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for piece, ids in zip(pieces, piece_sources(base, pieces), strict=True):
            weight[tokenizer.token_to_id(piece)] = old[ids].mean(0)
    tmp = out.with_name(out.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    tokenizer.save(str(tmp / "tokenizer.json"))
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    (tmp / "vocab.txt").write_text("".join(f"{p}\n" for p, _ in vocab), encoding="utf-8")
    for name in SPECIAL_FILES:
        if (encoder_dir / name).is_file():
            shutil.copy2(encoder_dir / name, tmp / name)
    (tmp / "vocabulary.json").write_text(
        json.dumps({"base": str(encoder_dir), "added": len(pieces), "size": size}) + "\n"
    )
    tmp.rename(out)
    return out
