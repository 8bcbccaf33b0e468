"""Vocabulary adaptation: Russian word pieces learned from the training texts, added to the encoder.

all-MiniLM-L6-v2's English vocabulary splits a Russian word into ~5 pieces (~2.75 once
transliterated). `adapt_encoder` learns word pieces from the chosen languages' training texts with
the `tokenizers` WordPiece trainer (same normalizer and pre-tokenizer as the encoder's), appends
the ones the vocabulary lacks, and initialises each new embedding as the mean of the embeddings of
the old pieces that spelled the same string. `align_embeddings` then distils those new rows
(everything else frozen): the encoder, reading a text in its new pieces, is taught to produce the
states it produced from the old pieces, layer by layer, so fine-tuning starts from an encoder that
already reads the new pieces. The result is an ordinary encoder directory
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
from torch import nn
from tqdm.auto import tqdm
from transformers import AutoModel, PreTrainedModel

from models.textenc import transliterate

CONTINUATION = "##"
UNK = "[UNK]"
SPECIAL_FILES = ("tokenizer_config.json", "special_tokens_map.json")
ALIGN_BATCH = 32
ALIGN_LENGTH = 128


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


def _unpadded(tokenizer: Tokenizer) -> Tokenizer:
    """Return a copy of `tokenizer` that neither pads nor truncates (`_batch` does both)."""
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_padding()
    copy.no_truncation()
    return copy


def _batch(tokenizer: Tokenizer, texts: Sequence[str]) -> dict[str, torch.Tensor]:
    """Encode `texts` as one batch padded to its longest (special pieces added, truncated)."""
    rows = [r.ids[:ALIGN_LENGTH] for r in tokenizer.encode_batch(list(texts))]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def _pooled_layers(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Return every layer's mean-pooled state, stacked: (layers + 1, batch, hidden)."""
    out = model(**batch, output_hidden_states=True)
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.stack([(h * mask).sum(1) / mask.sum(1) for h in out.hidden_states])


def align_embeddings(
    model: PreTrainedModel,
    old: Tokenizer,
    new: Tokenizer,
    texts: Sequence[str],
    new_ids: Sequence[int],
    epochs: int,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Train only the rows `new_ids` of the input embeddings so that `model` reading `texts`
    tokenized by `new` gives, at every layer, the mean-pooled states it gives reading them
    tokenized by `old` (the teacher, computed once with the original rows). Return the mean loss
    per epoch. Rows of the old vocabulary and every other weight stay exactly as they were."""
    old, new = _unpadded(old), _unpadded(new)
    model.eval()  # no dropout: teacher and student see the same network
    weight = model.get_input_embeddings().weight
    assert isinstance(weight, nn.Parameter)
    for param in model.parameters():
        param.requires_grad_(False)
    weight.requires_grad_(True)
    keep = torch.zeros_like(weight[:, :1])
    keep[list(new_ids)] = 1.0
    weight.register_hook(lambda grad: grad * keep)
    chunks = [texts[i : i + ALIGN_BATCH] for i in range(0, len(texts), ALIGN_BATCH)]
    with torch.no_grad():
        targets = [_pooled_layers(model, _batch(old, chunk)) for chunk in chunks]
    optimizer = torch.optim.Adam([weight], lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        total = 0.0
        order = torch.randperm(len(chunks), generator=generator).tolist()
        for i in tqdm(order, desc=f"align pieces {epoch + 1}/{epochs}", disable=not progress):
            states = _pooled_layers(model, _batch(new, chunks[i]))
            loss = nn.functional.mse_loss(states, targets[i])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        losses.append(total / max(len(chunks), 1))
    weight.requires_grad_(False)
    return losses


def adapt_encoder(
    encoder_dir: Path,
    texts: Sequence[str],
    size: int,
    use_transliteration: bool,
    work_dir: Path,
    align_epochs: int = 0,
    progress: bool = True,
) -> Path:
    """Return an encoder directory whose vocabulary also holds the pieces learned from `texts`,
    their embeddings aligned for `align_epochs` passes over `texts` (0 = the mean start only).

    The directory is keyed by the encoder, the texts, the size and the alignment, written aside
    and renamed, and reused when it exists (a rerun or a resumed run adapts nothing twice).
    """
    inputs = [transliterate(t) for t in texts] if use_transliteration else list(texts)
    digest = hashlib.sha256(f"{encoder_dir.resolve()}:{size}:{align_epochs}".encode())
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
    if align_epochs:
        new_ids = [i for i in map(tokenizer.token_to_id, pieces) if i is not None]
        align_embeddings(model, base, tokenizer, inputs, new_ids, align_epochs, progress=progress)
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
        json.dumps(
            {"base": str(encoder_dir), "added": len(pieces), "size": size, "aligned": align_epochs}
        )
        + "\n"
    )
    tmp.rename(out)
    return out
