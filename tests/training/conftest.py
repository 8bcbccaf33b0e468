"""Shared by the training tests: a small generated corpus (once per session), and tiny networks on
a two-layer random BERT over a small rulebook corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.network import TopicNetwork
from models.spec import ModelSpec
from models.textenc import TextEncoder
from rules.loader import load_rulebook
from tests.models.helpers import tiny_encoder
from tests.models.helpers import write_corpus as write_tiny_corpus
from training.args import DataArguments
from training.corpus.generate import CorpusConfig, write_corpus
from training.corpus.schema import SPLITS, TicketRecord, read_jsonl
from training.corpus.world import World, load_world
from training.data import load_splits
from training.features import build_label_space, featurize

N = 4000
SEED = 3


@pytest.fixture(scope="session")
def world() -> World:
    return load_world(load_rulebook())


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory, world) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(out, CorpusConfig(n=N, seed=SEED), world)
    return out


@pytest.fixture(scope="session")
def records(corpus_dir) -> list[TicketRecord]:
    return [r for split in SPLITS for r in read_jsonl(corpus_dir / f"{split}.jsonl")]


@pytest.fixture(scope="session")
def tiny_networks(tmp_path_factory):
    """Return (make, pad id): make(**spec_args) -> (a fresh tiny network, its training features)."""
    root = tmp_path_factory.mktemp("tiny")
    encoder_dir = tiny_encoder(root / "encoder")  # two layers
    corpus = write_tiny_corpus(root / "corpus", per_leaf=2)
    splits = load_splits(DataArguments(data_dir=str(corpus)), 0)
    labels = build_label_space(splits, "rules/book")
    text_encoder = TextEncoder.from_dir(encoder_dir, 32)

    def make(**spec_args):
        spec = ModelSpec(lines=labels.lines, max_length=32, **spec_args)
        torch.manual_seed(0)
        network = TopicNetwork.from_encoder_dir(spec, encoder_dir)
        return network, featurize(splits.train, text_encoder, spec)

    return make, text_encoder.pad_id
