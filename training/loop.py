"""Fine-tuning: AdamW with warm-up, clipping, accumulation, bf16 on GPUs, early stopping, resume.

Runs the same in one process or under `torchrun` (DDP): batches come from `LineBatchSampler`
sharded by rank, the main process validates and checkpoints, and the decision to stop is
broadcast so every process leaves the loop at the same step.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from models.network import TopicNetwork
from training.args import TrainArguments
from training.checkpoint import Checkpointer, TrainState
from training.distributed import DistContext
from training.features import NO_GUARD, Features
from training.infer import Inputs, model_inputs
from training.sampling import Batch, LineBatchSampler

log = logging.getLogger(__name__)
Validate = Callable[[TopicNetwork], dict[str, float]]  # returns at least {"score": ...}


def use_bf16(args: TrainArguments, device: torch.device) -> bool:
    """Return whether to autocast to bfloat16: 'auto' means on a GPU that supports it."""
    if args.bf16 == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return args.bf16 == "true"


def build_optimizer(network: TopicNetwork, args: TrainArguments) -> torch.optim.AdamW:
    """Return AdamW: encoder at `learning_rate`, heads at `head_learning_rate`, no decay on
    biases and LayerNorm weights."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, param in network.named_parameters():
        if param.requires_grad:
            is_head = name.startswith(("heads.", "guard."))
            no_decay = name.endswith("bias") or "LayerNorm" in name or "norm" in name.lower()
            groups.setdefault((is_head, no_decay), []).append(param)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "lr": args.head_learning_rate if is_head else args.learning_rate,
                "weight_decay": 0.0 if no_decay else args.weight_decay,
            }
            for (is_head, no_decay), params in groups.items()
        ]
    )


def batch_loss(
    network: TopicNetwork,
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    line: str,
    guard_weight: float,
    class_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return topic NLL + guard_weight * guard cross-entropy (unlabelled guards ignored)."""
    scores, guard = model(**model_inputs(batch), line=line)
    loss = network.head(line).loss(scores, batch["labels"])
    return loss + guard_loss(guard, batch["guards"], guard_weight, class_weights)


def guard_loss(
    logits: torch.Tensor,
    guards: torch.Tensor,
    weight: float,
    class_weights: torch.Tensor | None,
) -> torch.Tensor | float:
    """Return the weighted guard cross-entropy of a batch (0 when it holds no guard label)."""
    if not weight or not bool((guards != NO_GUARD).any()):
        return 0.0
    weights = class_weights.to(logits.device) if class_weights is not None else None
    return weight * nn.functional.cross_entropy(
        logits.float(), guards, weight=weights, ignore_index=NO_GUARD
    )


def guard_class_weights(guards: np.ndarray, classes: int, power: float) -> torch.Tensor | None:
    """Return per-class loss weights (most frequent / count) ** power; None when power is 0.

    Rare guard classes (sarcasm, two problems) then weigh more: the classes a reply must never
    go to are the rare ones, and plain cross-entropy learns to call them actionable.
    """
    labelled = guards[guards != NO_GUARD]
    if not power or not len(labelled):
        return None
    counts = np.bincount(labelled, minlength=classes).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1)) ** power
    return torch.tensor(weights, dtype=torch.float32)


class FineTuner:
    """One fine-tuning run over `train`, validating with `validate` on the main process.

    `inputs` turns example indices into a batch for `forward` (default: word pieces into the
    whole network); a CPU fine-tune passes cached token states and the network's top instead.
    Only parameters that require a gradient are optimised.
    """

    def __init__(
        self,
        network: TopicNetwork,
        train: Features,
        validate: Validate,
        args: TrainArguments,
        ctx: DistContext,
        checkpoints: Checkpointer,
        inputs: Inputs,
        forward: nn.Module | None = None,
    ) -> None:
        self.network = network.to(ctx.device)
        self.train, self.validate, self.args, self.ctx = train, validate, args, ctx
        self.checkpoints, self.inputs = checkpoints, inputs
        self.sampler = LineBatchSampler(
            train.by_line(), train.lengths(), args.batch_size, args.seed, args.line_alpha,
            ctx.rank, ctx.world,
        )  # fmt: skip
        if len(self.sampler) == 0:
            raise ValueError("too few training examples for one batch per process")
        steps_per_epoch = math.ceil(len(self.sampler) / args.grad_accum)
        self.total_steps = args.max_steps or math.ceil(args.epochs * steps_per_epoch)
        self.eval_every = args.eval_every or steps_per_epoch
        self.optimizer = build_optimizer(network, args)
        self.guard_weights = guard_class_weights(
            train.guards, len(network.spec.guard_classes), args.guard_class_weight
        )
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, round(args.warmup_ratio * self.total_steps), self.total_steps
        )
        self.model: nn.Module = network if forward is None else forward
        if ctx.distributed:  # heads of other lines sit idle in a batch: find_unused_parameters
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.model = DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=True
            )
        self.bf16 = use_bf16(args, ctx.device)

    def run(self) -> TrainState:
        """Train until the step budget or early stopping; leave the best weights loaded."""
        state = self._resume()
        bar = tqdm(
            total=self.total_steps, initial=state.step, desc="fine-tune", unit="step",
            disable=not (self.args.progress and self.ctx.is_main),
        )  # fmt: skip
        self.model.train()
        while state.step < self.total_steps and not state.stopped_early:
            for stepped, loss in self._epoch(state):
                if not stepped:
                    continue
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", epoch=state.epoch)
                if state.step % self.eval_every == 0 or state.step >= self.total_steps:
                    self._evaluate(state)
                if state.stopped_early or state.step >= self.total_steps:
                    break
        bar.close()
        if not state.history or state.history[-1]["step"] != state.step:
            self._evaluate(state)
        self.ctx.barrier()
        self.checkpoints.load_best(self.network)
        return state

    def _epoch(self, state: TrainState) -> Iterator[tuple[bool, float]]:
        """Yield (optimizer stepped, loss) per batch from the resume position to epoch end."""
        batches = self.sampler.epoch(state.epoch)
        accum, total = self.args.grad_accum, 0.0
        for position in range(state.position, len(batches)):
            final = (position + 1) % accum == 0 or position + 1 == len(batches)
            loss = self._backward(batches[position], sync=final) / accum
            total += loss
            state.position = position + 1
            if final:
                self._step()
                state.step += 1
                yield True, total
                total = 0.0
                if state.stopped_early or state.step >= self.total_steps:
                    return
            else:
                yield False, loss
        state.epoch, state.position = state.epoch + 1, 0

    def _backward(self, batch: Batch, sync: bool) -> float:
        tensors = self.inputs(batch.indices)
        no_sync = getattr(self.model, "no_sync", None)
        quiet = no_sync() if no_sync is not None and not sync else contextlib.nullcontext()
        autocast = torch.autocast(self.ctx.device.type, dtype=torch.bfloat16, enabled=self.bf16)
        with quiet:
            with autocast:
                loss = batch_loss(
                    self.network,
                    self.model,
                    tensors,
                    batch.line,
                    self.args.guard_loss_weight,
                    self.guard_weights,
                )
            (loss / self.args.grad_accum).backward()
        return float(loss.detach())

    def _step(self) -> None:
        if self.args.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.network.parameters(), self.args.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _evaluate(self, state: TrainState) -> None:
        metrics: dict[str, Any] | None = None
        if self.ctx.is_main:
            metrics = {"step": state.step, "epoch": state.epoch, **self.validate(self.network)}
            self.model.train()
            if metrics["score"] > state.best:
                state.best, state.bad_evals = metrics["score"], 0
                self.checkpoints.save_best(self.network)
            else:
                state.bad_evals += 1
            state.stopped_early = state.bad_evals >= self.args.patience
            state.history.append(metrics)
            self.checkpoints.save(self.network, self.optimizer, self.scheduler, state)
            log.info("validation %s", metrics)
        shared = self.ctx.broadcast(
            (state.best, state.bad_evals, state.stopped_early, state.history)
        )
        state.best, state.bad_evals, state.stopped_early, state.history = shared

    def _resume(self) -> TrainState:
        if not self.args.resume:
            return TrainState()
        state = self.checkpoints.restore(self.network, self.optimizer, self.scheduler)
        if state is None:
            return TrainState()
        log.info("resumed at step %d (epoch %d, batch %d)", state.step, state.epoch, state.position)
        return state
