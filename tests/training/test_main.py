"""A training run: what makes its checkpoint resumable, and refitting the decisions of a finished
run without training it again."""

import json
import logging

from tests.models.helpers import tiny_encoder, write_corpus
from training.args import load_config
from training.main import run


def settings(tmp_path, **extra):
    return {
        "data_dir": str(tmp_path / "corpus"),
        "rulebook": "rules/book",
        "encoder_dir": str(tmp_path / "encoder"),
        "checkpoint_dir": str(tmp_path / "work"),
        "max_length": 32,
        "max_steps": 2,
        "eval_every": 1,
        "freeze_layers": 0,
        "progress": False,
        "baseline": False,
        "report": False,
        **extra,
    }


def test_a_finished_run_refits_another_operating_point_without_training_again(tmp_path, caplog):
    write_corpus(tmp_path / "corpus", per_leaf=2)
    tiny_encoder(tmp_path / "encoder")
    first = run(load_config(None, settings(tmp_path, output_dir=str(tmp_path / "a"))))
    with caplog.at_level(logging.INFO):
        second = run(
            load_config(
                None,
                settings(
                    tmp_path, output_dir=str(tmp_path / "b"), risk_target=0.2, guard_recall=0.5
                ),
            )
        )
    assert "resumed at step 2" in caplog.text
    old = json.loads((first / "bundle.json").read_text())
    new = json.loads((second / "bundle.json").read_text())
    assert (
        old["files"]["model.safetensors"] == new["files"]["model.safetensors"]
    )  # the same weights
    assert new["training"]["config"]["risk_target"] == 0.2


def test_a_change_to_training_itself_starts_over(tmp_path, caplog):
    write_corpus(tmp_path / "corpus", per_leaf=2)
    tiny_encoder(tmp_path / "encoder")
    run(load_config(None, settings(tmp_path, output_dir=str(tmp_path / "a"))))
    with caplog.at_level(logging.INFO):
        run(load_config(None, settings(tmp_path, output_dir=str(tmp_path / "b"), seed=7)))
    assert "resumed" not in caplog.text


def test_the_bundle_s_thresholds_are_fitted_on_what_the_service_computes(tmp_path):
    from rules.loader import load_rulebook
    from training.data import read_examples
    from training.decisions import fit_served_policy

    write_corpus(tmp_path / "corpus", per_leaf=2)
    tiny_encoder(tmp_path / "encoder")
    config = load_config(None, settings(tmp_path, output_dir=str(tmp_path / "a")))
    bundle = run(config)
    valid = read_examples(tmp_path / "corpus" / "valid.jsonl", config.data, "corpus")
    served = fit_served_policy(bundle, valid, load_rulebook(), config.eval)
    stored = json.loads((bundle / "thresholds.json").read_text())["topics"]
    assert stored == json.loads(json.dumps(served.thresholds))
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert manifest["policy"]["actionable_floor"] == served.policy["actionable_floor"]


def test_the_lexical_head_is_trained_beside_the_encoder_unless_switched_off(tmp_path):
    from models.lexical import lexical_file
    from models.runtime import load_classifier

    write_corpus(tmp_path / "corpus", per_leaf=2)
    tiny_encoder(tmp_path / "encoder")
    pooled = run(load_config(None, settings(tmp_path, output_dir=str(tmp_path / "a"))))
    alone = run(
        load_config(None, settings(tmp_path, output_dir=str(tmp_path / "b"), lexical=False))
    )
    lines = load_classifier(pooled).lines
    assert all((pooled / lexical_file(line)).is_file() for line in lines)
    metrics = json.loads((pooled / "metrics.json").read_text())["lines"]
    assert {"latin", "cyrillic"} <= set(metrics[lines[0]]["lexical"])
    assert load_classifier(alone).lexical == {} and not (alone / "lexical").exists()
