"""The lexical head: n-grams as the baseline's vectorizers cut them, hashed features, the pool."""

import numpy as np
import pytest

from models.lexical import LexicalHead, bucket_counts, ngrams, pool, script


def test_ngrams_are_word_1_2_grams_and_character_2_5_grams_inside_word_boundaries():
    words, chars = ngrams("Водитель  ХАМ!")
    assert words == ["водитель", "хам", "водитель хам"]
    assert " в" in chars and "ль " in chars and " хам" in chars and "хам!" in chars
    assert all(2 <= len(g) <= 5 for g in chars)
    assert not any(" " in g.strip() for g in chars)  # never across two words


def test_a_word_shorter_than_an_n_gram_is_counted_once_whole():
    _, chars = ngrams("a")
    assert chars == [" a", "a ", " a "]


def test_word_and_character_buckets_never_collide():
    words, chars = bucket_counts("оплата картой")
    assert words and chars and not set(words) & set(chars)


def head(columns, weights, alpha=(1.0, 1.0), temperature=(1.0, 1.0)):
    columns = np.array(columns, dtype=np.int64)
    return LexicalHead(
        columns=columns,
        idf=np.ones(len(columns), dtype=np.float32),
        weights=np.array(weights, dtype=np.float16),
        bias=np.zeros(np.shape(weights)[1], dtype=np.float32),
        alpha=alpha,
        temperature=temperature,
    )


def test_features_are_l2_normalised_per_block_and_unknown_buckets_dropped():
    words, chars = bucket_counts("hello world")
    columns = sorted([*words, *list(chars)[:3]])
    h = head(columns, np.zeros((len(columns), 2)))
    [(rows, values)] = h.features(["hello world again"])
    word_part = values[np.isin(h.columns[rows], list(words))]
    char_part = values[~np.isin(h.columns[rows], list(words))]
    assert np.isclose(np.linalg.norm(word_part), 1) and np.isclose(np.linalg.norm(char_part), 1)
    assert len(rows) == 3 + 3  # hello, world, 'hello world' + 3 n-grams; 'again' is unknown
    assert h.features(["zzz"])[0][0].size == 0  # nothing known: empty, not an error


def test_the_pool_is_a_distribution_and_alpha_zero_leaves_the_encoder_alone():
    enc = np.array([[0.7, 0.2, 0.1]])
    lex = np.log(np.array([[0.1, 0.8, 0.1]]))
    fused = pool(np.log(enc), lex, 1.0, 1.0)
    assert np.isclose(fused.sum(), 1) and fused[0].argmax() == 1  # 0.56 vs 0.16 unnormalised
    h = head([1], [[0.0, 5.0, 0.0]], alpha=(0.0, 0.0))
    assert np.array_equal(h.fuse(enc, ["anything"]), enc)


def test_the_pool_weighs_each_script_with_its_own_alpha():
    words, _ = bucket_counts("возврат refund")
    h = head(sorted(words), np.tile([0.0, 3.0, 0.0], (len(words), 1)), alpha=(0.0, 1.0))
    enc = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    fused = h.fuse(enc, ["refund please", "возврат денег"])
    assert np.array_equal(fused[0], enc[0])  # Latin: alpha 0, the encoder's own
    assert fused[1].argmax() == 1  # Cyrillic: the n-grams weigh in
    assert [script(t) for t in ("refund", "возврат", "Ok, спасибо", "123")] == [0, 1, 1, 0]


def test_save_and_load_round_trip(tmp_path):
    words, _ = bucket_counts("refund please")
    h = head(sorted(words), np.eye(len(words), 3), alpha=(0.7, 0.2), temperature=(1.3, 0.9))
    h.save(tmp_path / "h.npz")
    back = LexicalHead.load(tmp_path / "h.npz")
    assert (back.alpha, back.temperature) == ((0.7, 0.2), (1.3, 0.9))
    enc = np.full((1, 3), 1 / 3)
    assert np.allclose(back.fuse(enc, ["refund please"]), h.fuse(enc, ["refund please"]))
    assert h.log_probs(["refund please"])[0].argmax() in (0, 1, 2)
    with pytest.raises(FileNotFoundError):
        LexicalHead.load(tmp_path / "missing.npz")
