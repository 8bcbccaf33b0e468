"""`autoreply retrain`: feedback in, a challenger trained, evaluated beside the champion, gated,
promoted (or, with `shadow`, put in shadow to meet live traffic first) or rejected with its
reasons, every step recorded in the bundle history.

Sections: lock (file; PostgreSQL: advisory too) -> champion -> export -> merge -> train ->
register -> check topics -> evaluate -> gate -> promote, shadow or reject. Everything before
"register" happens under `<registry>/.work/`, so a run killed at any point leaves no visible
bundle, and the next run starts clean.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models.bundle import BundleMismatchError, check_against_topics, load_bundle
from models.registry import DATA_DIR, POINTER, SHADOW, Registry, RegistryError
from rules.rulebook import Rulebook
from service.db.history import REGISTERED, REJECTED, BundleEvent, data_cutoff, record_event
from service.db.repository import utcnow
from training.args import Config, DataArguments, load_config, with_overrides
from training.data import read_examples
from training.decisions import evaluate_bundle
from training.feedback import export_feedback
from training.gate import Gate, Verdict, decide
from training.joblock import database_lock, job_lock
from training.main import cli_overrides, run
from training.merge import HOLDOUT_FILE, merge_feedback, read_rows
from training.promotion import bundle_facts, promote

log = logging.getLogger("training")
LOCK_FILE = ".retrain.lock"
SETS = {"frozen": "test.jsonl", "holdout": HOLDOUT_FILE}


@dataclass(frozen=True)
class RetrainJob:
    """What one retrain run uses: the training config, registry, gate, rulebook and who runs it."""

    config: Path
    registry: Registry
    gate: Gate
    rulebook: Rulebook
    rulebook_dir: Path
    overrides: list[str] = field(default_factory=list)
    holdout: float = 0.2
    actor: str = "retrain"
    force: bool = False
    shadow: bool = False  # a challenger that passes the gate goes to `shadow`, not `current`
    processes: int = 1  # > 1: the challenger trains under torchrun with this many processes


def retrain(job: RetrainJob, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Run the whole loop once under the registry's lock; return what happened, with reasons."""
    registry = job.registry
    registry.root.mkdir(parents=True, exist_ok=True)
    with job_lock(registry.root / LOCK_FILE), database_lock(_engine(sessions)):
        scratch = registry.work / "run"
        shutil.rmtree(scratch, ignore_errors=True)  # a killed run's leftovers
        champion = registry.current()
        if champion is None:
            raise RegistryError(
                "no champion: register and promote a first bundle "
                "(`autoreply bundles add DIR`, then `autoreply bundles promote VERSION`)"
            )
        summary = _train_and_judge(job, sessions, champion, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        return summary


def _engine(sessions: sessionmaker[Session]) -> Engine:
    """Return the engine the sessions are bound to (the database lock needs its own connection)."""
    with sessions() as session:
        bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _train_and_judge(
    job: RetrainJob, sessions: sessionmaker[Session], champion: str, scratch: Path
) -> dict[str, Any]:
    registry = job.registry
    config = load_config(job.config, cli_overrides(False, None, job.overrides))
    with sessions() as session:
        since = data_cutoff(session, version=champion)
    cutoff = utcnow()
    rows, export = _export(sessions, job.rulebook, since)
    summary: dict[str, Any] = {"champion": champion, "since": since, "cutoff": cutoff,
                               "feedback_refused": export.problems}  # fmt: skip
    if not rows and not job.force:
        return {**summary, "decision": "skipped", "reasons": [f"no usable feedback since {since}"]}
    base = registry.root / DATA_DIR / champion
    base = base if base.is_dir() else Path(config.data.data_dir.split(",")[0])
    data_dir = scratch / "data"
    summary["data"] = merge_feedback(base, rows, data_dir, job.holdout)
    trained = train_challenger(
        with_overrides(
            config, data_dir=str(data_dir), output_dir=str(scratch / "bundle"),
            rulebook=str(job.rulebook_dir), checkpoint_dir=str(registry.work / "checkpoints"),
        ),
        job.processes, scratch,
    )  # fmt: skip
    version = registry.add(trained, move=True)
    summary["challenger"] = version
    if version == champion:
        return {**summary, "decision": "unchanged", "reasons": ["the challenger is the champion"]}
    _keep_data(registry, version, data_dir)
    verdict, figures = _judge(job, champion, version, registry.root / DATA_DIR / version)
    _settle(job, sessions, version, verdict, figures, cutoff)
    decision = ("shadowed" if job.shadow else "promoted") if verdict.promote else "rejected"
    return {**summary, "decision": decision, "reasons": verdict.reasons, "figures": figures}


def train_challenger(config: Config, processes: int, scratch: Path) -> Path:
    """Train the challenger: in this process, or under `torchrun` with `processes` processes (DDP:
    gloo on CPUs, NCCL on GPUs) from the same config written out; return its bundle."""
    if processes <= 1 or config.train.quick:  # quick trains heads on cached states: one process
        return run(config)
    path = scratch / "config.json"
    path.write_text(json.dumps(config.to_json(), indent=2) + "\n")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", "-m", "training", "--config", str(path)]  # fmt: skip
    log.info("training the challenger under torchrun: %s", " ".join(command))
    finished = subprocess.run(command, check=False)  # noqa: S603 - our own interpreter and module
    if finished.returncode != 0:
        raise RuntimeError(f"the challenger's training under torchrun exited {finished.returncode}")
    return Path(config.train.output_dir)


def _export(
    sessions: sessionmaker[Session], rulebook: Rulebook, since: datetime | None
) -> tuple[list[dict[str, Any]], Any]:
    """Return the feedback since `since` as corpus rows (oldest first) and the export report."""
    buffer = io.StringIO()
    report = export_feedback(sessions, rulebook, buffer, since)
    for problem in report.problems:
        log.warning("feedback left out: %s", problem)
    return [json.loads(line) for line in buffer.getvalue().splitlines()], report


def _keep_data(registry: Registry, version: str, data_dir: Path) -> None:
    """Keep the merged data beside the registry: the next retrain builds on the champion's."""
    target = registry.root / DATA_DIR / version
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        data_dir.rename(target)


def _judge(
    job: RetrainJob, champion: str, challenger: str, data_dir: Path
) -> tuple[Verdict, dict[str, Any]]:
    """Refuse a challenger that does not fit the rulebook; else evaluate both and apply the gate."""
    try:
        check_against_topics(load_bundle(job.registry.path(challenger)), job.rulebook.topics)
    except BundleMismatchError as exc:
        return Verdict(False, [f"refused before evaluation: {exc}"], []), {}
    reports: dict[str, dict[str, Any]] = {champion: {}, challenger: {}}
    for name, file in SETS.items():
        if not read_rows(data_dir / file):  # no feedback held out: the frozen set alone
            continue
        examples = read_examples(data_dir / file, DataArguments(), "")
        for version in reports:
            path = job.registry.path(version)
            reports[version][name] = evaluate_bundle(path, examples, job.rulebook)
    verdict = decide(job.gate, reports[champion], reports[challenger])
    figures = {
        role: {name: report["overall"] for name, report in reports[v].items()}
        for role, v in (("champion", champion), ("challenger", challenger))
    }
    return verdict, figures


def _settle(
    job: RetrainJob,
    sessions: sessionmaker[Session],
    version: str,
    verdict: Verdict,
    figures: dict[str, Any],
    cutoff: datetime,
) -> None:
    """Record the challenger (with its data cut-off) and promote it (or shadow it) or reject it."""
    gate = {**verdict.as_dict(), "figures": figures}
    facts = bundle_facts(job.registry, version)
    with sessions.begin() as session:
        record_event(
            session,
            event=BundleEvent(version, REGISTERED, job.actor, "trained by retrain",
                              data_cutoff=cutoff, **facts),
        )  # fmt: skip
        if not verdict.promote:
            why = "; ".join(verdict.reasons)
            record_event(
                session, event=BundleEvent(version, REJECTED, job.actor, why, gate=gate, **facts)
            )
    if verdict.promote:
        promote(sessions, job.registry, version, actor=job.actor, gate=gate,
                reason="gate passed: " + "; ".join(verdict.reasons),
                pointer=SHADOW if job.shadow else POINTER)  # fmt: skip
