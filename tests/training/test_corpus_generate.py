"""The generated corpus: deterministic, valid against the rulebook, split by held-out families."""

import json
from collections import defaultdict

from rules.loader import load_rulebook
from training.corpus.generate import CorpusConfig, generate
from training.corpus.schema import CARD_FILE, SPLITS, TicketRecord, problems_of

BOOK = load_rulebook()


def test_the_same_seed_gives_the_same_corpus_and_another_seed_another(world):
    first = [g.record.to_json() for g in generate(CorpusConfig(n=300, seed=5), world)]
    again = [g.record.to_json() for g in generate(CorpusConfig(n=300, seed=5), world)]
    other = [g.record.to_json() for g in generate(CorpusConfig(n=300, seed=6), world)]
    assert first == again
    assert first != other


def test_every_record_is_valid_against_the_rulebook(records):
    assert [p for r in records for p in problems_of(r, BOOK)] == []


def test_records_round_trip_through_json(records):
    for record in records[:50]:
        assert TicketRecord.from_dict(json.loads(record.to_json())) == record


def test_no_family_is_in_two_splits_and_test_families_are_never_trained_on(records, world):
    splits_of_family = defaultdict(set)
    for record in records:
        splits_of_family[record.family].add(record.split)
        assert world.split_of[record.family] == record.split
    assert all(len(s) == 1 for s in splits_of_family.values())
    train = {f for f, s in splits_of_family.items() if "train" in s}
    test = {f for f, s in splits_of_family.items() if "test" in s}
    assert test and not train & test


def test_corpora_of_different_seeds_can_be_mixed_without_leaking_test_wording(world):
    def families(seed, split):
        return {
            g.record.family
            for g in generate(CorpusConfig(n=800, seed=seed), world)
            if g.record.split == split
        }

    assert families(1, "test") and not families(1, "test") & families(2, "train")
    assert not families(2, "test") & families(1, "train")


def test_every_leaf_and_locale_has_families_in_every_split(world):
    for leaves in world.leaves.values():
        for leaf in leaves:
            for locale in ("ru", "en"):
                for split in SPLITS:
                    assert world.by_split.get((leaf, locale, split)), (leaf, locale, split)


def test_both_lines_locales_and_all_guard_kinds_appear(records):
    assert {r.line for r in records} == {"riders", "drivers"}
    assert {r.locale for r in records} == {"ru", "en"}
    assert {r.guard for r in records} == {
        "actionable",
        "gratitude",
        "off_topic",
        "multi_problem",
        "sarcasm",
        "unclear",
    }
    assert any(r.dialogue and 2 <= len(r.dialogue) <= 3 for r in records)


def test_guards_match_their_true_topic(world):
    other_leaf = {"gratitude": "thanks", "off_topic": "off_topic", "unclear": "unclear"}
    for item in generate(CorpusConfig(n=1500, seed=9), world):
        record, truth = item.record, item.true_topic
        if record.guard in other_leaf:
            assert truth == f"{record.line}/other/{other_leaf[record.guard]}"
        else:
            assert BOOK.topics.index[truth].actionable, (record.guard, truth)
        if record.guard == "sarcasm":
            assert world.stories[truth].sarcasm


def test_the_card_counts_what_was_written(corpus_dir, records):
    card = json.loads((corpus_dir / CARD_FILE).read_text(encoding="utf-8"))
    assert card["tickets"] == len(records)
    assert sum(card["splits"].values()) == len(records)
    assert card["splits"]["train"] > card["splits"]["test"] > 0
    assert card["rulebook"] == BOOK.version
