"""The committed sample corpus (tests/fixtures/corpus_sample.jsonl) stays readable and valid.

Regenerate it after changing the generator or the rulebook (docs/dataset.md):
    autoreply data generate --n 250 --seed 7 --out var/sample
    cat var/sample/{train,valid,test}.jsonl > tests/fixtures/corpus_sample.jsonl
"""

from pathlib import Path

from rules.loader import load_rulebook
from training.corpus.schema import problems_of, read_jsonl

SAMPLE = Path(__file__).parents[1] / "fixtures" / "corpus_sample.jsonl"


def test_the_sample_is_small_and_valid_against_the_rulebook():
    assert SAMPLE.stat().st_size < 300_000
    book = load_rulebook()
    records = list(read_jsonl(SAMPLE))
    assert 200 <= len(records) <= 400
    assert [p for r in records for p in problems_of(r, book)] == []
    assert {r.split for r in records} == {"train", "valid", "test"}
    assert {r.line for r in records} == {"riders", "drivers"}
