"""What real customers do to text: typos, lower case or caps, no punctuation, emoji, slang,
Russian typed in Latin letters (translit) and English words in Russian (code-mixing)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Russian typed on a Latin keyboard: one letter for most, a digraph for the rest.
_TRANSLIT = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziyklmnoprstufye", strict=True)),
        **{"ё": "e", "ж": "zh", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch"},
        **{"ъ": "", "ь": "", "ю": "yu", "я": "ya"},
    }
)
_SLANG = {
    "en": {
        "you": "u",
        "please": "pls",
        "thanks": "thx",
        "because": "cuz",
        "your": "ur",
        "i'm": "im",
        "don't": "dont",
        "didn't": "didnt",
        "what": "wat",
    },
    "ru": {
        "приложение": "прилку",
        "приложении": "прилке",
        "промокод": "промик",
        "поддержка": "саппорт",
        "водитель": "водила",
        "деньги": "бабки",
        "аккаунт": "акк",
        "пожалуйста": "плиз",
        "спасибо": "спс",
        "сейчас": "щас",
        "возврат": "рефанд",
        "чек": "receipt",
    },
}
_EMOJI = {
    "complaint": ["😡", "🤬", "😤", "😢", "🤔", "👎", "😠", "🙄"],
    "praise": ["❤️", "🙏", "👍", "😊", "🔥", "👏"],
}
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class TextStyle:
    """How one customer types; drawn once per ticket so all their messages look alike."""

    lower: bool
    caps: bool
    no_punct: bool
    typo_rate: float
    emoji: bool
    slang: bool
    translit: bool


def draw_style(rng: random.Random, locale: str) -> TextStyle:
    """Return a customer's typing habits, drawn at the corpus's noise rates."""
    return TextStyle(
        lower=rng.random() < 0.35,
        caps=rng.random() < 0.03,
        no_punct=rng.random() < 0.15,
        typo_rate=rng.choices([0.0, 0.03, 0.08], weights=[55, 30, 15])[0],
        emoji=rng.random() < 0.1,
        slang=rng.random() < 0.2,
        translit=locale == "ru" and rng.random() < 0.04,
    )


def roughen(rng: random.Random, text: str, locale: str, style: TextStyle, praise: bool) -> str:
    """Return `text` as this customer would have typed it."""
    if style.slang:
        text = _WORD.sub(lambda m: _slang(rng, m.group(0), locale), text)
    if locale == "ru" and rng.random() < 0.5:
        text = text.replace("ё", "е")
    if style.typo_rate:
        text = _WORD.sub(lambda m: _typo(rng, m.group(0), style.typo_rate), text)
    if style.no_punct and any(c.isalnum() for c in text):  # "???" stays a message
        text = re.sub(r"[.,!?;:]+", "", text)
    if style.translit:
        text = text.lower().translate(_TRANSLIT)
    if style.caps:
        text = text.upper()
    elif style.lower:
        text = text.lower()
    if style.emoji:
        text += " " + rng.choice(_EMOJI["praise" if praise else "complaint"])
    return text


def _slang(rng: random.Random, word: str, locale: str) -> str:
    swap = _SLANG[locale].get(word.lower())
    return swap if swap is not None and rng.random() < 0.6 else word


def _typo(rng: random.Random, word: str, rate: float) -> str:
    if len(word) < 4 or rng.random() >= rate:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]
