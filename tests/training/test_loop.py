"""The fine-tuning loop on a tiny random BERT: steps, accumulation, bf16, early stop, resume."""

import pytest
import torch

from training.args import TrainArguments
from training.checkpoint import Checkpointer
from training.distributed import DistContext
from training.infer import run_network, token_inputs
from training.loop import FineTuner

CPU = DistContext(rank=0, world=1, local_rank=0, device=torch.device("cpu"))


class Crash(Exception):
    pass


def args(**values):
    base = {"batch_size": 4, "max_steps": 2, "progress": False, "eval_every": 1, "seed": 5}
    return TrainArguments(**{**base, **values})


def counting_validator(crash_on=None, calls=None):
    calls = [] if calls is None else calls  # share it across runs to keep scores rising

    def validate(network):
        calls.append(1)
        if crash_on is not None and len(calls) == crash_on:
            raise Crash
        return {"score": float(len(calls))}  # always improving: best = last

    return validate


@pytest.mark.parametrize(
    ("spec_args", "train_args"),
    [
        ({"design": "flat"}, {"grad_accum": 2}),
        ({"design": "conditional", "task_layers": 1}, {"bf16": "true"}),
    ],
)
def test_training_steps_change_weights_and_heads_predict(
    tiny_networks, tmp_path, spec_args, train_args
):
    make, pad = tiny_networks
    network, train = make(**spec_args)
    before = {k: v.clone() for k, v in network.state_dict().items()}
    tuner = FineTuner(
        network,
        train,
        counting_validator(),
        args(**train_args),
        CPU,
        Checkpointer(tmp_path, "k"),
        token_inputs(train, pad, CPU.device),
    )
    state = tuner.run()
    assert state.step == 2 and len(state.history) == 2
    changed = [k for k, v in network.state_dict().items() if not torch.equal(v, before[k])]
    assert any(k.startswith("encoder.") for k in changed) and any(
        k.startswith("heads.") for k in changed
    )
    if spec_args.get("task_layers"):
        assert any(k.startswith("branches.riders.") for k in changed)
    outputs = run_network(network, train, pad, CPU.device)
    assert set(outputs) == {"riders", "drivers"}
    assert outputs["riders"].scores.shape[1] == network.spec.trees["riders"].n_scores(
        network.spec.design
    )


def test_early_stopping_keeps_the_best_weights(tiny_networks, tmp_path):
    make, pad = tiny_networks
    network, train = make()
    scores = iter([1.0, 0.5, 0.4, 0.3])
    tuner = FineTuner(
        network,
        train,
        lambda n: {"score": next(scores)},
        args(max_steps=4, patience=2),
        CPU,
        Checkpointer(tmp_path, "k"),
        token_inputs(train, pad, CPU.device),
    )
    state = tuner.run()
    assert state.stopped_early and state.step == 3 and state.best == 1.0


def test_resume_continues_exactly_where_the_crash_left_off(tiny_networks, tmp_path):
    make, pad = tiny_networks
    network, train = make()
    FineTuner(
        network,
        train,
        counting_validator(),
        args(max_steps=4, eval_every=2),
        CPU,
        Checkpointer(tmp_path / "a", "k"),
        token_inputs(train, pad, CPU.device),
    ).run()
    reference = network.state_dict()

    crashed, _ = make()
    calls = []
    with pytest.raises(Crash):
        FineTuner(
            crashed,
            train,
            counting_validator(crash_on=2, calls=calls),
            args(max_steps=4, eval_every=2),
            CPU,
            Checkpointer(tmp_path / "b", "k"),
            token_inputs(train, pad, CPU.device),
        ).run()
    resumed, _ = make()
    state = FineTuner(
        resumed,
        train,
        counting_validator(calls=calls),
        args(max_steps=4, eval_every=2),
        CPU,
        Checkpointer(tmp_path / "b", "k"),
        token_inputs(train, pad, CPU.device),
    ).run()
    assert state.step == 4 and [h["step"] for h in state.history] == [2, 4]
    for key, value in resumed.state_dict().items():
        assert torch.allclose(value, reference[key], atol=1e-6), key


def test_a_checkpoint_of_another_run_is_not_resumed(tiny_networks, tmp_path):
    make, pad = tiny_networks
    network, train = make()
    FineTuner(
        network,
        train,
        counting_validator(),
        args(),
        CPU,
        Checkpointer(tmp_path, "old"),
        token_inputs(train, pad, CPU.device),
    ).run()
    fresh, _ = make()
    state = FineTuner(
        fresh,
        train,
        counting_validator(),
        args(),
        CPU,
        Checkpointer(tmp_path, "new"),
        token_inputs(train, pad, CPU.device),
    ).run()
    assert [h["step"] for h in state.history] == [1, 2]
