"""The CPU fine-tune: frozen bottom layers cached once, the top and the heads trained."""

from pathlib import Path

import numpy as np
import pytest
import torch

from training.args import TrainArguments
from training.checkpoint import Checkpointer
from training.distributed import DistContext
from training.infer import run_model, run_network
from training.loop import FineTuner
from training.partial import (
    TokenStates,
    TopStack,
    cached_states,
    compute_states,
    freeze_bottom,
    state_inputs,
)

CPU = DistContext(rank=0, world=1, local_rank=0, device=torch.device("cpu"))


@pytest.mark.parametrize("frozen", [0, 1, 2])
def test_cached_bottom_and_top_compute_what_the_whole_network_does(tiny_networks, frozen):
    make, pad = tiny_networks
    network, train = make(design="conditional", task_layers=1)
    network.eval()
    states = compute_states(network, train, frozen, pad, CPU.device)
    whole = run_network(network, train, pad, CPU.device)
    split = run_model(
        TopStack(network, frozen), network.spec, train, state_inputs(states, train, CPU.device)
    )
    for line, out in whole.items():
        # float16 states: close, not bit-equal
        np.testing.assert_allclose(split[line].scores, out.scores, atol=2e-2)
        np.testing.assert_allclose(split[line].guard, out.guard, atol=2e-2)
        assert split[line].indices == out.indices


def test_states_keep_each_text_unpadded(tiny_networks):
    make, pad = tiny_networks
    network, train = make()
    states = compute_states(network, train, 1, pad, CPU.device)
    assert len(states) == len(train)
    assert [len(states.row(i)) for i in range(len(train))] == train.lengths()


def test_training_the_top_leaves_the_frozen_bottom_untouched(tiny_networks, tmp_path):
    make, pad = tiny_networks
    network, train = make()
    freeze_bottom(network, 1)
    states = cached_states(network, train, 1, pad, CPU.device, tmp_path, Path("tiny"))
    before = {k: v.clone() for k, v in network.state_dict().items()}
    FineTuner(
        network,
        train,
        lambda n: {"score": 0.0},
        TrainArguments(batch_size=4, max_steps=3, progress=False, eval_every=3),
        CPU,
        Checkpointer(tmp_path / "ck", "k"),
        state_inputs(states, train, CPU.device),
        TopStack(network, 1),
    ).run()
    changed = {k for k, v in network.state_dict().items() if not torch.equal(v, before[k])}
    assert any(k.startswith("encoder.encoder.layer.1.") for k in changed)
    assert any(k.startswith("heads.") for k in changed)
    assert not any(
        k.startswith(("encoder.embeddings.", "encoder.encoder.layer.0.")) for k in changed
    )


def test_the_state_cache_is_reused_and_keyed_by_the_layer_count(tiny_networks, tmp_path):
    make, pad = tiny_networks
    network, train = make()
    first = cached_states(network, train, 1, pad, CPU.device, tmp_path, Path("tiny"))
    files = sorted(tmp_path.glob("states-*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob("*.part*"))
    again = cached_states(network, train, 1, pad, CPU.device, tmp_path, Path("tiny"))
    np.testing.assert_array_equal(first.flat, again.flat)
    assert isinstance(TokenStates.load(files[0]), TokenStates)
    cached_states(network, train, 2, pad, CPU.device, tmp_path, Path("tiny"))
    assert len(list(tmp_path.glob("states-*.npz"))) == 2


def test_freezing_more_layers_than_the_encoder_has_is_refused(tiny_networks):
    make, _ = tiny_networks
    network, _ = make()
    with pytest.raises(ValueError, match="between 0 and the encoder's 2 layers"):
        freeze_bottom(network, 3)
