"""The whole fine-tune command under torchrun: 2 processes, gloo on the CPU, tiny BERT."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.bundle import load_bundle
from rules.rulebook import DEFAULT_ROOT
from tests.models.helpers import tiny_encoder, write_corpus

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_two_process_fine_tune_writes_one_valid_bundle(tmp_path):
    config = {
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
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "training", "--config", str(path)]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    bundle = load_bundle(tmp_path / "bundle")
    training = bundle.metrics["training"]
    assert training["world_size"] == 2 and training["mode"] == "fine-tune"
    assert [h["step"] for h in training["history"]] == [1, 2]
    assert bundle.training["config"]["max_steps"] == 2
    assert (tmp_path / "bundle.work" / "last.pt").is_file()
    assert (tmp_path / "bundle" / "report" / "report.md").is_file()
