"""Fixtures shared by every test package: rulebook copies, a quick real model bundle, and a fresh
PostgreSQL database and Redis database (named by AUTOREPLY_TEST_POSTGRES_URL / _REDIS_URL)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from rules.rulebook import DEFAULT_ROOT

POSTGRES_URL = os.environ.get(
    "AUTOREPLY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AUTOREPLY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def book_copy(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that copies the shipped rulebook and applies (file, old, new) edits."""

    def make(*edits: tuple[str, str, str]) -> Path:
        root = tmp_path / "book"
        if not root.exists():
            shutil.copytree(DEFAULT_ROOT, root)
        for rel, old, new in edits:
            path = root / rel
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            if old:
                assert old in text, f"{old!r} not in {rel}"
                text = text.replace(old, new, 1)
            else:
                text += new
            path.write_text(text, encoding="utf-8")
        return root

    return make


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick real bundle (frozen encoder, heads only) on a small generated corpus, trained once.

    Such a bundle cannot meet the shipped targets (3% wrong, 1% unsafe, 70% guard recall) on the
    held-out wordings of the validation split, so it is trained with looser ones: the thresholds
    are still fitted on validation by the same code, only less strictly. About a minute here.
    """
    from rules.loader import load_rulebook
    from training.corpus.generate import CorpusConfig, write_corpus
    from training.corpus.world import load_world
    from training.quick import train_quick_bundle

    root = tmp_path_factory.mktemp("e2e")
    corpus = CorpusConfig(
        n=6000,
        seed=3,
        line_shares={"riders": 0.8, "drivers": 0.2},
        locale_shares={"en": 0.8, "ru": 0.2},
        label_noise=0.0,
        subject_rate=0.0,
        dialogue_rate=0.0,
    )
    write_corpus(root / "corpus", corpus, load_world(load_rulebook()))
    return train_quick_bundle(
        root / "corpus",
        root / "bundle",
        risk_target=0.2,
        unsafe_target=0.2,
        guard_recall=0.6,
        report=False,
        baseline=False,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (created and dropped around it)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"autoreply_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis database, flushed before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
