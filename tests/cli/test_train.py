"""`autoreply train` through Typer: help lists the config keys, bad input is a clear exit 2."""

import json

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_help_lists_config_keys():
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for key in ("--config", "--quick", "--out", "task_layers", "precision_target"):
        assert key in result.output


def test_bad_config_is_refused_before_training(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"data_dir": str(tmp_path), "epoch": 3}))
    result = runner.invoke(app, ["train", "--config", str(path)])
    assert result.exit_code == 2
    assert "did you mean 'epochs'" in result.stderr


def test_missing_data_is_reported(tmp_path):
    result = runner.invoke(app, ["train", "--set", f"data_dir={tmp_path / 'none'}", "--quick"])
    assert result.exit_code == 2
    assert "has no train.jsonl" in result.stderr
