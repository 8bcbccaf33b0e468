"""Text (and optional dialogue context) to word-piece ids with `tokenizers` only (no torch).

Training and serving both encode through this module, so what the model saw in training is
exactly what it sees in production. Layout: `[CLS] text [SEP] context [SEP]`, where the context is
the dialogue's turns, most recent first, cut to whatever budget the text leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MIN_CONTEXT_TOKENS = 8  # below this a context fragment is noise, not signal
TURN_SEPARATOR = " | "
# Cyrillic -> Latin (GOST-like). An English vocabulary splits Cyrillic letter by letter; the
# transliteration ("promokod", "voditel") falls into multi-letter pieces instead.
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_LATIN = [
    "a",
    "b",
    "v",
    "g",
    "d",
    "e",
    "e",
    "zh",
    "z",
    "i",
    "i",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "r",
    "s",
    "t",
    "u",
    "f",
    "kh",
    "ts",
    "ch",
    "sh",
    "shch",
    "_",
    "y",
    "_",
    "e",
    "yu",
    "ya",
]
TRANSLITERATION = str.maketrans(
    {c: ("" if lat == "_" else lat) for c, lat in zip(_CYRILLIC, _LATIN, strict=True)}
    | {c.upper(): ("" if lat == "_" else lat) for c, lat in zip(_CYRILLIC, _LATIN, strict=True)}
)


def transliterate(text: str) -> str:
    """Return `text` with Cyrillic letters written in Latin ones."""
    return text.translate(TRANSLITERATION)


@dataclass(frozen=True)
class EncodedBatch:
    """Padded id arrays for one batch plus, per text, the pieces fed and whether it was cut."""

    input_ids: np.ndarray  # int64 [batch, length]
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    tokens: list[int]
    truncated: list[bool]

    def feeds(self) -> dict[str, np.ndarray]:
        """Return the arrays by the input names the exported graph uses."""
        return {
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "token_type_ids": self.token_type_ids,
        }


class TextEncoder:
    """Encodes texts for a BERT-family encoder with a fixed maximum length."""

    def __init__(self, tokenizer: Tokenizer, max_length: int, transliterate: bool = False) -> None:
        if max_length < 8:
            raise ValueError("max_length must be at least 8")
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.transliterate = transliterate
        self.cls_id, self.sep_id, self.pad_id = (
            self._special("[CLS]"),
            self._special("[SEP]"),
            self._special("[PAD]"),
        )

    @classmethod
    def from_dir(cls, path: Path, max_length: int, transliterate: bool = False) -> TextEncoder:
        """Return an encoder reading `tokenizer.json` from a model or bundle directory."""
        return cls(Tokenizer.from_file(str(path / "tokenizer.json")), max_length, transliterate)

    def _special(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None:
            raise ValueError(f"the tokenizer has no {token} token; is it a BERT tokenizer?")
        return int(token_id)

    def pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Return each text's word-piece ids without special tokens or truncation."""
        inputs = [transliterate(t) for t in texts] if self.transliterate else list(texts)
        return [enc.ids for enc in self.tokenizer.encode_batch(inputs, add_special_tokens=False)]

    def encode(
        self, texts: Sequence[str], dialogues: Sequence[Sequence[str] | None] | None = None
    ) -> EncodedBatch:
        """Return the padded batch for `texts`, each with its dialogue context if given."""
        return self.pad(*self.rows(texts, dialogues))

    def rows(
        self, texts: Sequence[str], dialogues: Sequence[Sequence[str] | None] | None = None
    ) -> tuple[list[list[int]], list[list[int]], list[bool]]:
        """Return unpadded (ids, token types, text was cut) per text."""
        if dialogues is not None and len(dialogues) != len(texts):
            raise ValueError("dialogues must have one entry (or None) per text")
        contexts = [
            TURN_SEPARATOR.join(reversed(list(d))) if d else "" for d in (dialogues or [])
        ] or [""] * len(texts)
        text_ids = self.pieces(texts)
        context_ids = self.pieces(contexts) if any(contexts) else [[] for _ in texts]
        rows: list[list[int]] = []
        types: list[list[int]] = []
        truncated: list[bool] = []
        budget = self.max_length - 2
        for ids, ctx in zip(text_ids, context_ids, strict=True):
            truncated.append(len(ids) > budget)
            row = [self.cls_id, *ids[:budget], self.sep_id]
            room = self.max_length - len(row) - 1
            second = ctx[:room] if room >= MIN_CONTEXT_TOKENS else []
            types.append([0] * len(row) + [1] * (len(second) + 1 if second else 0))
            rows.append(row + ([*second, self.sep_id] if second else []))
        return rows, types, truncated

    def pad(
        self, rows: list[list[int]], types: list[list[int]], truncated: list[bool]
    ) -> EncodedBatch:
        """Return rows padded to the longest one, with their attention mask."""
        width = max(len(row) for row in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        type_ids = np.zeros((len(rows), width), dtype=np.int64)
        for i, (row, row_types) in enumerate(zip(rows, types, strict=True)):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
            type_ids[i, : len(row)] = row_types
        return EncodedBatch(ids, mask, type_ids, [len(row) for row in rows], truncated)
