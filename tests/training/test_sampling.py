"""Multitask batches: one line per batch, deterministic, sharded evenly across processes."""

from training.sampling import LineBatchSampler

BY_LINE = {"riders": list(range(0, 90)), "drivers": list(range(90, 100))}
LENGTHS = [i % 17 for i in range(100)]


def test_each_batch_holds_one_line_and_an_epoch_covers_everything():
    sampler = LineBatchSampler(BY_LINE, LENGTHS, batch_size=8, seed=3)
    batches = sampler.epoch(0)
    assert len(batches) == len(sampler) == 12 + 2
    for batch in batches:
        assert all((i >= 90) == (batch.line == "drivers") for i in batch.indices)
    assert sorted(i for b in batches for i in b.indices) == list(range(100))
    assert sampler.epoch(0) == batches and sampler.epoch(1) != batches


def test_processes_get_disjoint_equal_shares():
    shards = [
        LineBatchSampler(BY_LINE, LENGTHS, 8, seed=3, rank=r, world=3).epoch(0) for r in range(3)
    ]
    assert len({len(s) for s in shards}) == 1
    seen = [b.indices for s in shards for b in s]
    assert len(seen) == len(set(seen))


def test_alpha_below_one_revisits_the_small_line():
    quotas = LineBatchSampler(BY_LINE, LENGTHS, 8, seed=3, alpha=0.0).quotas()
    assert quotas["drivers"] == quotas["riders"] == 7


def test_batches_are_length_bucketed():
    batch = LineBatchSampler(BY_LINE, LENGTHS, 8, seed=3).epoch(0)[0]
    lengths = [LENGTHS[i] for i in batch.indices]
    assert lengths == sorted(lengths)
