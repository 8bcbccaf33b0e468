"""Noise rates in a generated corpus stay within bounds of the configured ones."""

import random
from collections import Counter

from training.corpus.generate import CorpusConfig
from training.corpus.noise import TextStyle, draw_style, roughen

CONFIG = CorpusConfig()


def share(records, test):
    return sum(1 for r in records if test(r)) / len(records)


def test_guard_shares_are_near_the_configured_ones(records):
    counts = Counter(r.guard for r in records)
    for guard, expected in CONFIG.guard_shares.items():
        drawn = counts[guard] / len(records)
        # sarcasm on a topic that cannot be sarcastic is drawn as a plain complaint
        assert drawn <= expected + 0.02 and drawn >= expected * 0.5, (guard, drawn)


def test_agent_actions_follow_the_configured_rates(records):
    fired = [r for r in records if not r.topic.endswith("/off_topic")]
    for action, expected in CONFIG.agent.as_dict().items():
        drawn = share(fired, lambda r, a=action: r.agent_action == a)
        assert abs(drawn - expected) < 0.03, (action, drawn)


def test_csat_is_mostly_missing_and_in_range(records):
    assert abs(share(records, lambda r: r.csat is None) - CONFIG.csat_missing) < 0.04
    assert {r.csat for r in records if r.csat is not None} <= {1, 2, 3, 4, 5}


def test_label_noise_is_small_and_near_the_configured_rate(corpus_dir):
    import json

    card = json.loads((corpus_dir / "card.json").read_text(encoding="utf-8"))
    drawn = card["rates"]["label_noise"]["drawn"]
    assert abs(drawn - CONFIG.label_noise) < 0.015


def test_typing_styles_are_drawn_at_their_rates():
    rng = random.Random(0)
    styles = [draw_style(rng, "ru") for _ in range(4000)]
    assert 0.30 < sum(s.lower for s in styles) / 4000 < 0.40
    assert 0.02 < sum(s.translit for s in styles) / 4000 < 0.06
    assert not any(draw_style(rng, "en").translit for _ in range(500))


def test_roughen_keeps_the_message_recognisable():
    style = TextStyle(
        lower=True, caps=False, no_punct=True, typo_rate=0.0, emoji=False, slang=True, translit=True
    )
    text = roughen(random.Random(1), "Водитель не дал сдачи!", "ru", style, praise=False)
    assert text.isascii() and "sdachi" in text and "!" not in text
