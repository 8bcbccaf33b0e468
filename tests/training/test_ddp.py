"""The whole fine-tune under torchrun (as retrain launches it): 2 processes, gloo on the CPU, tiny BERT."""

import json

import pytest

from models.bundle import load_bundle
from rules.rulebook import DEFAULT_ROOT
from tests.models.helpers import tiny_encoder, write_corpus
from training.args import load_config
from training.retrain import train_challenger

pytestmark = pytest.mark.slow


def test_two_process_fine_tune_writes_one_valid_bundle(tmp_path, monkeypatch):
    """Launched as `autoreply retrain --processes 2` launches it."""
    config = load_config(
        None,
        {
            "data_dir": str(write_corpus(tmp_path / "corpus", per_leaf=2)),
            "rulebook": str(DEFAULT_ROOT),
            "encoder_dir": str(tiny_encoder(tmp_path / "encoder")),
            "output_dir": str(tmp_path / "bundle"),
            "max_length": 32,
            "batch_size": 4,
            "max_steps": 2,
            "eval_every": 1,
            "progress": False,
            "baseline": False,
        },
    )
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert train_challenger(config, 2, tmp_path) == tmp_path / "bundle"
    assert json.loads((tmp_path / "config.json").read_text())["output_dir"] == str(
        tmp_path / "bundle"
    )
    bundle = load_bundle(tmp_path / "bundle")
    training = bundle.metrics["training"]
    assert training["world_size"] == 2 and training["mode"] == "fine-tune"
    assert [h["step"] for h in training["history"]] == [1, 2]
    assert bundle.training["config"]["max_steps"] == 2
    assert (tmp_path / "bundle.work" / "last.pt").is_file()
    assert (tmp_path / "bundle" / "report" / "report.md").is_file()
