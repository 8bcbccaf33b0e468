"""Training config: one flat JSON, overrides on top, unknown keys and wrong types refused."""

import json
from pathlib import Path

import pytest

from training.args import ConfigError, config_help, load_config, with_overrides
from training.gate import load_gate
from training.main import cli_overrides


def test_defaults_then_file_then_overrides(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"data_dir": "d", "epochs": 2, "design": "conditional"}))
    config = load_config(path, {"epochs": 1.5, "quick": True})
    assert config.data.data_dir == "d" and config.model.design == "conditional"
    assert config.train.epochs == 1.5 and config.train.quick is True
    assert config.eval.precision_target == 0.95
    assert with_overrides(config, batch_size=8).train.batch_size == 8
    assert config.to_json()["design"] == "conditional"


def test_unknown_keys_and_wrong_types_are_all_listed():
    with pytest.raises(ConfigError) as error:
        load_config(None, {"epoch": 2, "quick": "yes", "batch_size": 2.5})
    message = str(error.value)
    assert "unknown argument 'epoch'; did you mean 'epochs'?" in message
    assert "'quick' must be bool" in message and "'batch_size' must be int" in message


def test_unreadable_file(tmp_path):
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="one JSON object"):
        load_config(tmp_path / "c.json")


def test_command_line_overrides_parse_json_values(tmp_path):
    values = cli_overrides(True, tmp_path, ["epochs=2", "design=conditional", "resume=false"])
    assert values == {
        "epochs": 2,
        "design": "conditional",
        "resume": False,
        "quick": True,
        "output_dir": str(tmp_path),
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        cli_overrides(False, None, ["epochs"])


def test_help_lists_every_key_with_its_default():
    text = config_help()
    assert "task_layers = 0" in text and "precision_target = 0.95" in text


def test_added_word_pieces_with_frozen_embeddings_are_refused_with_the_fix():
    unaligned = {"vocab_pieces": 4000, "vocab_align_epochs": 0}
    with pytest.raises(ConfigError, match="fine-tune them"):
        load_config(None, {**unaligned, "freeze_layers": 4})
    with pytest.raises(ConfigError, match="vocab_align_epochs=2"):
        load_config(None, {**unaligned, "quick": True})
    assert load_config(None, {"vocab_pieces": 4000}).model.vocab_pieces == 4000
    # aligned pieces are trained before the encoder is frozen
    assert load_config(None, {"vocab_pieces": 4000, "quick": True}).train.quick


def test_a_lexical_head_without_regularisation_room_is_refused():
    with pytest.raises(ConfigError, match="'lexical_c' must be above 0"):
        load_config(None, {"lexical_c": 0})
    assert load_config(None, {"lexical_c": 1}).eval.lexical_c == 1.0


GATE = Path("training/configs/gate.json")  # the promotion gate's config, not a training run's


@pytest.mark.parametrize(
    "path", sorted(set(Path("training/configs").glob("*.json")) - {GATE}), ids=str
)
def test_every_shipped_training_config_loads(path):
    config = load_config(path)
    assert config.data.data_dir and config.train.freeze_layers >= 0


def test_the_shipped_gate_loads():
    assert load_gate(GATE)
