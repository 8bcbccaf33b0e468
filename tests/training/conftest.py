"""A small generated corpus shared by the corpus tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.loader import load_rulebook
from training.corpus.generate import CorpusConfig, write_corpus
from training.corpus.schema import SPLITS, TicketRecord, read_jsonl
from training.corpus.world import World, load_world

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
