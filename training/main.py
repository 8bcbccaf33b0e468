"""`autoreply train`: one command from JSONL to a validated bundle with its report.

`run(config)` goes through labelled sections, like transformers' run_glue.py: arguments -> seed
and devices -> data -> labels -> model -> train -> evaluate -> save. Under `torchrun` every
process trains; the main process evaluates and writes the bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from models.bundle import actionable_leaves
from models.encoder import resolve_encoder_dir
from models.network import TopicNetwork
from models.runtime import lexical_text
from models.spec import ModelSpec
from models.textenc import TextEncoder
from rules.loader import load_rulebook
from rules.rulebook import Rulebook
from training.args import Config, EvalArguments, ModelArguments, TrainArguments, load_config
from training.baseline import tfidf_baseline
from training.checkpoint import Checkpointer
from training.data import SPLITS, Example, Splits, load_splits
from training.decisions import (
    evaluate_bundle,
    fit_policy,
    fit_served_policy,
    output_predictions,
    output_rows,
)
from training.distributed import DistContext, init_distributed, shutdown, single_process
from training.evaluate import LexicalInputs, evaluate_outputs, token_stats, validation_score
from training.features import Features, LabelSpace, build_label_space, featurize
from training.infer import Outputs, run_model, token_inputs
from training.lexical import fit_lexical
from training.loop import FineTuner, use_bf16
from training.package import write_bundle, write_thresholds
from training.partial import TopStack, cached_states, freeze_bottom, state_inputs
from training.quick import cached_embeddings, embedding_key, head_outputs, train_heads
from training.report import write_decisions, write_report
from training.vocab import adapt_encoder

log = logging.getLogger("training")
PARITY_PER_GROUP = 32  # validation texts per (line, language) checked after the ONNX export


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (every device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_key(config: Config, splits: Splits) -> str:
    """Return a hash of everything that makes a checkpoint resumable by this run.

    What only acts after training (calibration, thresholds, the operating point, reports:
    `EvalArguments`) is left out, so a finished run rerun with another `risk_target` or
    `guard_recall` reuses its weights and refits the decisions in minutes.
    """
    volatile = {"output_dir", "checkpoint_dir", "resume", "progress", "threads", "device"}
    volatile |= {f.name for f in fields(EvalArguments)}
    stable = {k: v for k, v in config.to_json().items() if k not in volatile}
    payload = json.dumps({"config": stable, "data": splits.fingerprint["sha256"]}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def run(config: Config) -> Path:
    """Train, evaluate and write one bundle as `config` says; return the bundle's path."""
    # --- arguments -------------------------------------------------------------------------
    started = time.time()
    margs, dargs, targs, eargs = config.sections()
    out_dir = Path(targs.output_dir)
    work_dir = Path(targs.checkpoint_dir or f"{out_dir}.work")
    # --- seed, threads, devices ------------------------------------------------------------
    set_seed(targs.seed)
    if targs.threads:
        torch.set_num_threads(targs.threads)
    ctx = single_process() if targs.quick else init_distributed(targs.device)
    if ctx.rank > 0 and targs.quick:  # heads on cached embeddings: one process is plenty
        return out_dir
    # --- data ------------------------------------------------------------------------------
    splits = load_splits(dargs, targs.seed)
    encoder_dir = resolve_encoder_dir(margs.encoder_dir)
    if margs.vocab_pieces:
        locales = set(margs.vocab_locales.split(","))
        texts = [e.text for e in splits.train if e.locale in locales]
        encoder_dir = adapt_encoder(
            encoder_dir,
            texts,
            margs.vocab_pieces,
            margs.transliterate,
            work_dir,
            margs.vocab_align_epochs,
            targs.progress and ctx.is_main,
        )
    text_encoder = TextEncoder.from_dir(encoder_dir, margs.max_length, margs.transliterate)
    # --- labels ----------------------------------------------------------------------------
    labels = build_label_space(splits, dargs.rulebook)
    spec = ModelSpec(
        lines=labels.lines,
        design=margs.design,  # ModelSpec checks it
        task_layers=0 if targs.quick else margs.task_layers,
        max_length=margs.max_length,
        transliterate=margs.transliterate,
        dropout=margs.dropout,
        guard_trained=any(e.guard for e in splits.train),
        encoder_name=_encoder_name(margs),
    )
    features = {name: featurize(getattr(splits, name), text_encoder, spec) for name in SPLITS}
    # --- model -----------------------------------------------------------------------------
    network = TopicNetwork.from_encoder_dir(spec, encoder_dir)
    if targs.freeze_embeddings:
        network.encoder.get_input_embeddings().requires_grad_(False)
    # --- train -----------------------------------------------------------------------------
    trained = (
        _train_quick(network, features, encoder_dir, work_dir, text_encoder.pad_id, targs)
        if targs.quick
        else _fine_tune(network, features, Checkpointer(work_dir, run_key(config, splits)),
                        text_encoder.pad_id, config, ctx, encoder_dir)
    )  # fmt: skip
    if trained is None:  # a DDP worker: the main process evaluates and saves
        shutdown(ctx)
        return out_dir
    history, valid_out, test_out = trained
    # --- evaluate --------------------------------------------------------------------------
    log.info("calibrating and fitting the autoreply thresholds on validation...")
    lexical = (
        _lexical_inputs(spec, splits, valid_out, test_out, targs.seed, eargs.lexical_c)
        if eargs.lexical
        else {}
    )
    evaluation = evaluate_outputs(spec, valid_out, test_out, eargs, lexical)
    rulebook = load_rulebook(Path(dargs.rulebook)) if dargs.rulebook else None
    fitted = fit_policy(
        spec, output_predictions(spec, valid_out, evaluation.temperature),
        output_rows(valid_out, splits.valid), rulebook, actionable_leaves(labels.snapshot), eargs,
    )  # fmt: skip
    evaluation.thresholds = fitted.thresholds
    if eargs.baseline:
        log.info("training the TF-IDF baseline beside it (a minute or two)...")
    evaluation.metrics.update(
        test_source=splits.test_source,
        tokens=token_stats(text_encoder, splits.test),
        baseline=_baselines(spec, splits, config) if eargs.baseline else {},
        training={
            "mode": "quick" if targs.quick else "fine-tune",
            "history": history,
            "seconds": round(time.time() - started, 1),
            "world_size": ctx.world,
            "device": str(ctx.device),
            "bf16": use_bf16(targs, ctx.device),
        },
    )
    # --- save ------------------------------------------------------------------------------
    title = f"Topic model ({'quick' if targs.quick else 'fine-tune'}) on {dargs.data_dir}"
    reporter = (lambda d, m: write_report(d, m, evaluation.plots, title)) if eargs.report else None
    log.info("writing the bundle: ONNX export, int8 quantisation, parity check...")
    manifest = _manifest(config, splits, labels, fitted.policy)

    def refit(bundle_dir: Path) -> dict[str, Any]:
        log.info("refitting the thresholds on validation as the int8 bundle answers it...")
        served = fit_served_policy(bundle_dir, splits.valid, rulebook, eargs)
        write_thresholds(bundle_dir, served.thresholds, manifest["thresholds"])
        return {"policy": served.policy}

    path = write_bundle(
        out_dir, network.cpu(), encoder_dir, labels.snapshot, evaluation, manifest,
        _parity_sample(splits.valid), reporter, refit,
    )  # fmt: skip
    log.info("replaying the test split through the service's decision code...")
    _report_decisions(path, splits.test, rulebook, eargs)
    shutdown(ctx)
    log.info("bundle written to %s in %.0f s", path, time.time() - started)
    return path


Trained = tuple[list[dict[str, float]], Outputs, Outputs]


def _lexical_inputs(
    spec: ModelSpec, splits: Splits, valid: Outputs, test: Outputs, seed: int, c: float
) -> dict[str, LexicalInputs]:
    """Train each line's lexical head on its training texts; return it with the texts of the
    line's validation and test outputs, in their order."""
    log.info("training the lexical head (word and character n-grams) of each line...")
    inputs = {}
    for line, tree in spec.trees.items():
        if line not in valid or line not in test:
            continue
        index = {leaf: i for i, leaf in enumerate(tree.leaves)}
        train = [e for e in splits.train if e.line == line and e.label in index]
        head = fit_lexical(
            [lexical_text(e.text, e.dialogue) for e in train],
            np.array([index[e.label] for e in train], dtype=np.int64),
            len(tree.leaves),
            seed,
            c,
        )
        if head is not None:
            inputs[line] = LexicalInputs(
                head,
                [lexical_text(splits.valid[i].text, splits.valid[i].dialogue)
                 for i in valid[line].indices],
                [lexical_text(splits.test[i].text, splits.test[i].dialogue)
                 for i in test[line].indices],
            )  # fmt: skip
    return inputs


def _train_quick(
    network: TopicNetwork,
    features: dict[str, Features],
    encoder_dir: Path,
    work_dir: Path,
    pad_id: int,
    targs: TrainArguments,
) -> Trained:
    """Embed every split once with the frozen encoder (cached), then train the heads."""
    cpu = torch.device("cpu")
    pooled = {
        name: cached_embeddings(
            network,
            f,
            pad_id,
            cpu,
            work_dir / f"embed-{embedding_key(encoder_dir, f)}.npy",
            f"embedding {name}" if targs.progress else None,
        )
        for name, f in features.items()
    }
    history = train_heads(
        network,
        (pooled["train"], features["train"]),
        (pooled["valid"], features["valid"]),
        targs,
        targs.guard_loss_weight,
    )
    valid = head_outputs(network, pooled["valid"], features["valid"])
    return history, valid, head_outputs(network, pooled["test"], features["test"])


def _fine_tune(
    network: TopicNetwork,
    features: dict[str, Features],
    checkpoints: Checkpointer,
    pad_id: int,
    config: Config,
    ctx: DistContext,
    encoder_dir: Path,
) -> Trained | None:
    """Fine-tune (the top, when `freeze_layers` > 0); return the main process's outputs (None on
    other processes)."""
    frozen, spec = config.train.freeze_layers, network.spec
    freeze_bottom(network, frozen)
    forward: nn.Module = network.to(ctx.device)
    if frozen:
        forward = TopStack(network, frozen)
        inputs = {}
        for name, f in features.items():
            label = f"encoding {name} (bottom {frozen} layers)" if config.train.progress else None
            states = cached_states(
                network, f, frozen, pad_id, ctx.device, checkpoints.directory, encoder_dir, label
            )
            inputs[name] = state_inputs(states, f, ctx.device)
    else:
        inputs = {name: token_inputs(f, pad_id, ctx.device) for name, f in features.items()}

    def validate(_: TopicNetwork) -> dict[str, float]:
        return validation_score(spec, run_model(forward, spec, features["valid"], inputs["valid"]))

    tuner = FineTuner(
        network, features["train"], validate, config.train, ctx, checkpoints, inputs["train"],
        forward,
    )  # fmt: skip
    state = tuner.run()
    if not ctx.is_main:
        return None
    valid = run_model(forward, spec, features["valid"], inputs["valid"])
    return state.history, valid, run_model(forward, spec, features["test"], inputs["test"])


def _report_decisions(
    bundle_dir: Path, test: list[Example], rulebook: Rulebook | None, args: EvalArguments
) -> None:
    """Replay the test split through the written bundle (int8) and the service's decision code."""
    out_dir = bundle_dir / "report" if args.report else None
    report = evaluate_bundle(bundle_dir, test, rulebook, out_dir=out_dir, delta=args.risk_delta)
    if out_dir is not None:
        write_decisions(out_dir, report)
    overall = report["overall"]
    log.info(
        "test decisions: coverage %s, agreement %s, unsafe %s of %s replies, error bound %s",
        overall["coverage"], overall["agreement"], overall["unsafe"], overall["replies"],
        overall["error_bound"],
    )  # fmt: skip


def _manifest(
    config: Config, splits: Splits, labels: LabelSpace, policy: dict[str, Any]
) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for name in SPLITS:
        bucket = counts.setdefault(name, {})
        for example in getattr(splits, name):
            for key in (example.line, example.locale):
                bucket[key] = bucket.get(key, 0) + 1
    evaluation = config.eval
    return {
        "data_fingerprint": {**splits.fingerprint, "counts": counts, "labels": labels.source},
        "policy": policy,
        "training": {
            "mode": "quick" if config.train.quick else "fine-tune",
            "config": config.to_json(),
        },
        "thresholds": {
            "risk_target": evaluation.risk_target,
            "unsafe_target": evaluation.unsafe_target,
            "delta": evaluation.risk_delta,
        },
    }


def _baselines(spec: ModelSpec, splits: Splits, config: Config) -> dict[str, Any]:
    return {
        line: tfidf_baseline(
            tree,
            [e for e in splits.train if e.line == line],
            [e for e in splits.test if e.line == line],
            config.eval.top_k,
            config.eval.ece_bins,
            config.train.seed,
        )
        for line, tree in spec.trees.items()
    }


def _encoder_name(margs: ModelArguments) -> str:
    name = Path(margs.encoder_dir).name if margs.encoder_dir else "all-MiniLM-L6-v2"
    return f"{name}+{margs.vocab_locales} pieces" if margs.vocab_pieces else name


def _parity_sample(valid: list[Example]) -> list[Example]:
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in valid:
        groups.setdefault((example.line, example.locale), []).append(example)
    return [e for group in groups.values() for e in group[:PARITY_PER_GROUP]]


def main(argv: list[str] | None = None) -> int:
    """`python -m training --config FILE [--quick] [--out DIR]` (the entry point for torchrun)."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run(load_config(args.config, cli_overrides(args.quick, args.out, args.set)))
    return 0


def cli_overrides(quick: bool, out: Path | None, pairs: list[str]) -> dict[str, Any]:
    """Return config overrides from --quick, --out and KEY=VALUE pairs (values parsed as JSON)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got '{pair}'")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw
    if quick:
        values["quick"] = True
    if out is not None:
        values["output_dir"] = str(out)
    return values
