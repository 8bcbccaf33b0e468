"""The generator's data against the rulebook: every leaf phrased, every story possible."""

from rules.loader import load_rulebook
from training.corpus.phrasing import load_phrasebook, unknown_slots
from training.corpus.splits import assign_splits
from training.corpus.world import MIN_FAMILIES, world_gaps

BOOK = load_rulebook()


def test_the_world_has_no_gaps(world):
    assert world_gaps(world) == []


def test_every_leaf_has_many_families_per_locale(world):
    for leaves in world.leaves.values():
        for leaf in leaves:
            for locale in ("ru", "en"):
                assert len(world.families(leaf, locale)) >= MIN_FAMILIES, (leaf, locale)


def test_every_slot_a_pattern_uses_is_filled():
    assert unknown_slots(load_phrasebook()) == []


def test_the_case_texts_are_in_the_world(world):
    promo = world.families("riders/ride_cost/promo_not_applied", "en")
    thanks = world.families("riders/other/thanks", "en")
    sources = {p.source for f in promo + thanks for p in f.patterns}
    assert (
        "I was given a 100 rub promo code, and the driver took the money without the discount! "
        "What is the point of a promo code!"
    ) in {s.replace("{coupon}", "100") for s in sources}
    assert "Loved everything! The car came on time, good driver, fair prices! Thanks." in sources
    ru = {
        p.source
        for f in world.families("riders/ride_cost/promo_not_applied", "ru")
        for p in f.patterns
    }
    assert any(
        s.startswith("Мне дали промокод на {coupon} рублей, а водитель взял деньги") for s in ru
    )


def test_every_story_leads_to_a_rule_that_exists(world):
    for topic in world.stories:
        assert BOOK.topics.get(topic) is not None and BOOK.topics.index[topic].actionable


def test_split_assignment_is_a_property_of_the_family_not_the_order(world):
    families = world.phrasebook.all_families()
    assert assign_splits(reversed(families)) == assign_splits(families) == world.split_of
