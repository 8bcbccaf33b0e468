"""Feedback merged into the base data: agent's label wins, escalations lose their template,
duplicates go, the newest feedback is held out, the frozen sets are untouched."""

from __future__ import annotations

from training.merge import merge_feedback, read_rows, write_rows


def row(text, topic="riders/a/b", template="t.x", action="sent", line="riders"):
    return {"id": text, "line": line, "locale": "en", "text": text, "topic": topic,
            "label": topic, "template": template, "agent_action": action}  # fmt: skip


def test_feedback_is_merged_labelled_deduplicated_and_held_out_in_time_order(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    write_rows(base / "train.jsonl", [row("old text"), row("Relabel  me"), row("old text")])
    write_rows(base / "valid.jsonl", [row("valid text")])
    write_rows(base / "test.jsonl", [row("test text")])
    feedback = [
        row("relabel me", topic="riders/c/d"),
        row("escalated one", action="escalated"),
        row("TEST text"),  # repeats the frozen test set: never trained on
        row("new 1"),
        row("new 1", topic="riders/e/f"),  # the later label wins
        row("new 2", action="other_template"),
    ]
    counts = merge_feedback(base, feedback, tmp_path / "out", holdout=0.25)
    train = {r["text"]: r for r in read_rows(tmp_path / "out" / "train.jsonl")}
    holdout = [r["text"] for r in read_rows(tmp_path / "out" / "holdout.jsonl")]
    assert holdout == ["new 2"]  # the agent's choice over the model's is the reply to learn
    assert read_rows(tmp_path / "out" / "holdout.jsonl")[0]["agent_action"] == "sent"
    assert set(train) == {"old text", "relabel me", "escalated one", "new 1"}
    assert train["relabel me"]["topic"] == "riders/c/d" and train["new 1"]["topic"] == "riders/e/f"
    assert train["escalated one"]["template"] is None
    assert read_rows(tmp_path / "out" / "test.jsonl") == [row("test text")]
    assert counts == {
        "base_train": 3, "base_kept": 1, "feedback": 6, "duplicates_dropped": 2,
        "relabelled_by_feedback": 1, "in_frozen_sets": 1, "escalations_untemplated": 1,
        "feedback_trained": 3, "holdout": 1,
    }  # fmt: skip
