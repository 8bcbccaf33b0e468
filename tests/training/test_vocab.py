"""Vocabulary adaptation: Russian pieces learned, appended, initialised, and trained end to end."""

import json

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

from models.textenc import TextEncoder
from tests.models.helpers import tiny_encoder, write_corpus
from training.args import load_config
from training.main import run
from training.vocab import adapt_encoder, learn_pieces, piece_sources

RUSSIAN = [
    "Водитель не приехал, а деньги списали, верните оплату пожалуйста",
    "Списали деньги за поездку, которой не было, водитель отменил заказ",
    "Промокод не применился к поездке, верните скидку",
    "Водитель нагрубил мне в поездке и отказался включить кондиционер",
    "Оплата прошла дважды за одну поездку, прошу вернуть деньги",
] * 20


def pieces_per_word(encoder: TextEncoder, texts: list[str]) -> float:
    pieces = sum(len(row) for row in encoder.pieces(texts))
    return pieces / sum(len(t.split()) for t in texts)


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    base = tiny_encoder(root / "encoder")
    return base, adapt_encoder(base, RUSSIAN, 400, False, root / "work")


def test_learned_pieces_cut_russian_words_into_fewer_pieces(adapted):
    base, out = adapted
    before = pieces_per_word(TextEncoder.from_dir(base, 128), RUSSIAN)
    after = pieces_per_word(TextEncoder.from_dir(out, 128), RUSSIAN)
    assert before > 3 and after < 1.6
    english = ["my driver never came and I was charged"]
    assert TextEncoder.from_dir(out, 128).pieces(english) == TextEncoder.from_dir(base, 128).pieces(
        english
    )


def test_new_embeddings_start_from_the_mean_of_the_old_pieces(adapted):
    base, out = adapted
    old = load_file(str(base / "model.safetensors"))["embeddings.word_embeddings.weight"]
    new = load_file(str(out / "model.safetensors"))["embeddings.word_embeddings.weight"]
    config = json.loads((out / "config.json").read_text())
    assert new.shape[0] == config["vocab_size"] > old.shape[0]
    assert torch.equal(new[: old.shape[0]], old)
    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    base_tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    base_tokenizer.no_padding()
    piece = "водитель"
    assert tokenizer.token_to_id(piece) is not None
    (sources,) = piece_sources(base_tokenizer, [piece])
    assert len(sources) > 1
    torch.testing.assert_close(new[tokenizer.token_to_id(piece)], old[sources].mean(0))


def test_an_adapted_encoder_is_reused_not_rebuilt(adapted, tmp_path):
    base, out = adapted
    stamp = (out / "model.safetensors").stat().st_mtime_ns
    assert adapt_encoder(base, RUSSIAN, 400, False, out.parent) == out
    assert (out / "model.safetensors").stat().st_mtime_ns == stamp
    assert not list(out.parent.glob("*.part"))


def test_pieces_already_in_the_vocabulary_are_not_added_twice(adapted):
    base, _ = adapted
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    learned = learn_pieces(["hello driver " * 5] * 10, tokenizer, 200)
    assert "driver" not in learned and "hello" not in learned


def test_a_bundle_trained_with_added_pieces_carries_them_and_serves(tmp_path):
    from models.runtime import load_classifier

    corpus = write_corpus(tmp_path / "corpus", per_leaf=2)
    bundle = run(
        load_config(
            None,
            {
                "data_dir": str(corpus),
                "rulebook": "rules/book",
                "output_dir": str(tmp_path / "bundle"),
                "encoder_dir": str(tiny_encoder(tmp_path / "encoder")),
                "max_length": 32,
                "vocab_pieces": 300,
                "transliterate": False,
                "max_steps": 2,
                "freeze_layers": 0,
                "progress": False,
                "baseline": False,
                "report": False,
            },
        )
    )
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["spec"]["encoder_name"] == "encoder+ru pieces"
    vocab = Tokenizer.from_file(str(bundle / "tokenizer.json")).get_vocab_size()
    assert vocab > 30522
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["export"]  # the ONNX export and its parity check ran on the resized graph
    classifier = load_classifier(bundle, "onnx-int8")
    (prediction,) = classifier.predict(["Водитель не приехал"], "riders", k=1)
    assert prediction.candidates[0].path.startswith("riders/")


def test_alignment_teaches_only_the_new_pieces_to_read_like_the_old(adapted, tmp_path):
    from transformers import AutoModel

    from training.vocab import align_embeddings

    base, out = adapted
    model = AutoModel.from_pretrained(str(out))
    before = model.get_input_embeddings().weight.detach().clone()
    old_rows = load_file(str(base / "model.safetensors"))["embeddings.word_embeddings.weight"]
    new_ids = list(range(old_rows.shape[0], before.shape[0]))
    losses = align_embeddings(
        model,
        Tokenizer.from_file(str(base / "tokenizer.json")),
        Tokenizer.from_file(str(out / "tokenizer.json")),
        RUSSIAN[:5],
        new_ids,
        epochs=4,
        progress=False,
    )
    after = model.get_input_embeddings().weight.detach()
    assert losses[-1] < losses[0]
    assert torch.equal(after[: old_rows.shape[0]], before[: old_rows.shape[0]])
    assert not torch.equal(after[new_ids], before[new_ids])
    assert all(not p.requires_grad for p in model.parameters())
