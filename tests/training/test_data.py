"""Reading the corpus and public JSONL: lines, label paths, locales, splits, bad rows."""

import json

import pytest

from training.args import DataArguments
from training.data import DataError, detect_locale, load_splits
from training.features import build_label_space


def write(path, rows):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


def test_public_dataset_without_lines_becomes_one_line_tree(tmp_path):
    root = tmp_path / "Bitext-CS"
    root.mkdir()
    rows = [{"text": f"cancel order {i}", "label": "ORDER/cancel_order"} for i in range(10)]
    rows += [{"text": f"refund please {i}", "label": "REFUND/get_refund"} for i in range(10)]
    write(root / "train.jsonl", rows)
    write(root / "test.jsonl", [*rows[:2], {"text": "card arrived?", "label": "card_arrival"}])
    splits = load_splits(DataArguments(data_dir=str(root), valid_fraction=0.2), seed=1)
    assert {e.line for e in splits.all()} == {"bitext_cs"}
    assert splits.train[0].label.startswith("bitext_cs/")
    assert len(splits.valid) == 4 and len(splits.train) == 16  # 20% of each label carved out
    assert splits.test_source == "test" and len(splits.fingerprint["sha256"]) == 64
    labels = build_label_space(splits, "")
    assert labels.lines["bitext_cs"] == (
        "bitext_cs/ORDER/cancel_order",
        "bitext_cs/REFUND/get_refund",
        "bitext_cs/card_arrival",
    )


def test_corpus_rows_keep_line_locale_guard_and_dialogue(tmp_path):
    row = {
        "id": "1", "line": "riders", "locale": "ru", "text": "Промокод не сработал",
        "dialogue": [{"role": "customer", "text": "привет"}, "ещё"],
        "topic": "riders/ride_cost/promo_not_applied", "label": "riders/ride_cost/promo_not_applied",
        "guard": "actionable",
    }  # fmt: skip
    write(tmp_path / "train.jsonl", [row] * 3)
    write(tmp_path / "valid.jsonl", [row])
    splits = load_splits(DataArguments(data_dir=str(tmp_path)), seed=1)
    example = splits.train[0]
    assert (example.line, example.locale, example.guard) == ("riders", "ru", "actionable")
    assert example.dialogue == ("привет", "ещё")
    assert splits.test_source == "valid" and splits.test == splits.valid
    labels = build_label_space(splits, "rules/book")
    assert "riders/payment/receipt" in labels.lines["riders"]  # every leaf of the rulebook
    assert labels.source.startswith("rulebook rb-")


def test_labels_outside_the_rulebook_are_refused(tmp_path):
    write(tmp_path / "train.jsonl", [{"text": "x", "label": "riders/nope", "line": "riders"}])
    splits = load_splits(DataArguments(data_dir=str(tmp_path)), seed=1)
    with pytest.raises(DataError, match="riders/nope"):
        build_label_space(splits, "rules/book")


def test_bad_rows_name_file_and_line(tmp_path):
    write(tmp_path / "train.jsonl", [{"text": "ok", "label": "a"}, {"text": "", "label": "b"}])
    with pytest.raises(DataError, match=r"train.jsonl:2: 'text' must be a non-empty string"):
        load_splits(DataArguments(data_dir=str(tmp_path)), seed=1)
    with pytest.raises(DataError, match=r"has no train\.jsonl"):
        load_splits(DataArguments(data_dir=str(tmp_path / "none")), seed=1)


def test_locale_detection():
    assert detect_locale("Водитель взял деньги, promo") == "ru"
    assert detect_locale("the driver took 100 rub") == "en"


def test_several_folders_become_several_lines(tmp_path):
    for name, label in (("bank", "card_arrival"), ("shop", "ORDER/cancel")):
        (tmp_path / name).mkdir()
        write(
            tmp_path / name / "train.jsonl",
            [{"text": f"{label} {i}", "label": label} for i in range(10)],
        )
    args = DataArguments(
        data_dir=f"{tmp_path / 'bank'}, {tmp_path / 'shop'}", default_line="ignored"
    )
    splits = load_splits(args, seed=1)
    assert {e.line for e in splits.train} == {"bank", "shop"}
    assert splits.test_source == "valid" and len(splits.valid) == 2
    assert set(splits.fingerprint["files"]) == {"bank/train", "shop/train"}
