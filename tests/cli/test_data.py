"""`autoreply data generate` through Typer."""

import json

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_generate_writes_the_splits_and_the_card_and_prints_a_summary(tmp_path):
    out = tmp_path / "corpus"
    result = runner.invoke(
        app, ["data", "generate", "--n", "120", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["tickets"] == 120 and sum(summary["splits"].values()) == 120
    for name in ("train.jsonl", "valid.jsonl", "test.jsonl", "card.json"):
        assert (out / name).is_file()
    lines = sum(
        len((out / f"{s}.jsonl").read_text().splitlines()) for s in ("train", "valid", "test")
    )
    assert lines == 120


def test_generate_is_deterministic_for_a_seed(tmp_path):
    for name in ("a", "b"):
        runner.invoke(
            app, ["data", "generate", "--n", "80", "--seed", "9", "--out", str(tmp_path / name)]
        )
    for split in ("train.jsonl", "valid.jsonl", "test.jsonl", "card.json"):
        assert (tmp_path / "a" / split).read_bytes() == (tmp_path / "b" / split).read_bytes()


def test_generate_refuses_a_broken_rulebook(book_copy, tmp_path):
    root = book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_ratng < 4.5"))
    result = runner.invoke(
        app, ["data", "generate", "--n", "10", "--out", str(tmp_path), "--rulebook", str(root)]
    )
    assert result.exit_code == 1 and "did you mean 'driver_rating'" in result.stderr


def test_help_on_the_data_commands():
    for args in (["data", "--help"], ["data", "generate", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.stdout, args
