"""The evaluation report: Markdown with PNG plots (reliability, coverage-precision, confusion)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot state, no display backend

MAX_HISTORY_ROWS = 20


def write_report(out_dir: Path, metrics: dict[str, Any], plots: dict[str, Any], title: str) -> Path:
    """Write report.md and its plots into `out_dir`; return the Markdown file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _reliability(out_dir / "reliability.png", plots["reliability"])
    _coverage(out_dir / "coverage_precision.png", plots["coverage"])
    for line, (labels, matrix) in plots["confusion"].items():
        _confusion(out_dir / f"confusion_{line}.png", labels, matrix, line)
    text = "\n".join(_markdown(metrics, list(plots["confusion"]), title)) + "\n"
    path = out_dir / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


def _pct(value: Any) -> str:
    return f"{100 * value:.1f}" if isinstance(value, int | float) else "-"


def _markdown(metrics: dict[str, Any], lines: list[str], title: str) -> list[str]:
    out = [
        f"# {title}",
        "",
        f"Test split: `{metrics.get('test_source', 'test')}`. Figures in %. What the service "
        "would decide on it, per template: [decisions.md](decisions.md).",
        "",
    ]
    out += ["## Topic accuracy per line and language (calibrated)", ""]
    out += [
        "| line | lang | n | leaf acc | per-level acc | macro-F1 | hier. F1 | top-k | ECE before | ECE after | leaf coverage @ target precision |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        for lang, m in metrics["lines"][line]["test"].items():
            topk = next(
                (v for k, v in m.items() if k.startswith("top") and k.endswith("_accuracy")), None
            )
            levels = " / ".join(_pct(v) for v in m["level_accuracy"].values())
            out.append(
                f"| {line} | {lang} | {m['n']} | {_pct(m['leaf_accuracy'])} | {levels} | {_pct(m['macro_f1'])} "
                f"| {_pct(m['hierarchical_f1'])} | {_pct(topk)} | {_pct(m['ece_before'])} | {_pct(m['ece'])} "
                f"| {_pct(m['coverage_at_target_precision'])} |"
            )
    out += ["", "## Against the baselines (leaf accuracy / macro-F1 on test)", ""]
    out += ["| line | lang | this model | TF-IDF baseline |", "|---|---|---|---|"]
    for line in lines:
        base = metrics.get("baseline", {}).get(line, {})
        for lang, m in metrics["lines"][line]["test"].items():
            b = base.get(lang, {})
            out.append(
                f"| {line} | {lang} | {_pct(m['leaf_accuracy'])} / {_pct(m['macro_f1'])} "
                f"| {_pct(b.get('leaf_accuracy'))} / {_pct(b.get('macro_f1'))} |"
            )
    out += _lexical(metrics, lines)
    out += _guard_and_tokens(metrics)
    out += [
        "",
        "## Plots",
        "",
        "![reliability](reliability.png)",
        "",
        "![coverage](coverage_precision.png)",
        "",
    ]
    out += [f"![confusion {line}](confusion_{line}.png)" for line in lines]
    return out


def _lexical(metrics: dict[str, Any], lines: list[str]) -> list[str]:
    """The n-gram head pooled with the encoder: its weight per script and what it did on
    validation (empty when the bundle has none)."""
    rows = [
        f"| {line} | {script} | {f['n']} | {f['alpha']} | {f['temperature']} "
        f"| {_pct(f['valid_accuracy_encoder'])} | {_pct(f['valid_accuracy_lexical'])} "
        f"| {_pct(f['valid_accuracy_fused'])} |"
        for line in lines
        for script, f in metrics["lines"][line].get("lexical", {}).items()
    ]
    if not rows:
        return []
    return [
        "",
        "## Lexical head (word + character n-grams pooled with the encoder, validation)",
        "",
        "| line | script | n | weight a | temperature t | encoder acc | n-grams acc | pooled acc |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def _guard_and_tokens(metrics: dict[str, Any]) -> list[str]:
    out = ["", "## Guard head (is the message answerable at all?)", ""]
    guard = metrics.get("guard", {})
    if not guard.get("trained"):
        out.append(
            "Not trained: the data carried no guard labels; the service must not autoreply on it."
        )
    else:
        out += ["| lang | n | accuracy | macro-F1 |", "|---|---|---|---|"]
        for lang, m in guard["test"].items():
            out.append(
                f"| {lang} | {m['n']} | {_pct(m.get('accuracy'))} | {_pct(m.get('macro_f1'))} |"
            )
    out += ["", "## Tokens per language (test texts)", ""]
    out += ["| lang | n | word pieces / word | mean pieces | truncated |", "|---|---|---|---|---|"]
    for lang, s in metrics.get("tokens", {}).items():
        out.append(
            f"| {lang} | {s['n']} | {s['tokens_per_word']:.2f} | {s['mean_tokens']:.1f} | {_pct(s['truncation_rate'])} |"
        )
    history = metrics.get("training", {}).get("history", [])
    if history:
        step = max(1, len(history) // MAX_HISTORY_ROWS)
        shown = history[::step] + ([history[-1]] if (len(history) - 1) % step else [])
        out += [
            "",
            "## Validation during training",
            "",
            "| step | epoch | score |",
            "|---|---|---|",
        ]
        out += [f"| {h['step']} | {h['epoch']} | {h['score']:.4f} |" for h in shown]
    return out


def _reliability(path: Path, data: dict[str, dict[str, list[float]]]) -> None:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], "k:", label="perfect")
    for name, rows in data.items():
        used = np.array(rows["count"]) > 0
        ax.plot(
            np.array(rows["confidence"])[used],
            np.array(rows["accuracy"])[used],
            "o-",
            label=f"{name} temperature scaling",
        )
    ax.set(xlabel="top-1 confidence", ylabel="accuracy", title="Reliability (test, all lines)")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _coverage(path: Path, curves: dict[str, dict[str, list[float]]]) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, curve in curves.items():
        ax.plot(curve["coverage"], curve["precision"], label=name)
    ax.set(
        xlabel="coverage (share answered)",
        ylabel="precision of top-1",
        title="Coverage vs precision (test)",
    )
    ax.set_ylim(
        max(0.0, min((min(c["precision"], default=1) for c in curves.values()), default=0) - 0.02),
        1.005,
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def _confusion(path: Path, labels: list[str], matrix: list[list[int]], line: str) -> None:
    size = max(4, 0.6 * len(labels) + 2)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    data = np.array(matrix)
    ax.imshow(data, cmap="Blues")
    short = [label.split("/")[-1] for label in labels]
    ax.set_xticks(range(len(labels)), short, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), short)
    for (i, j), value in np.ndenumerate(data):
        ax.text(j, i, str(value), ha="center", va="center", fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=f"Top-level categories: {line} (test)")
    fig.savefig(path, dpi=100, bbox_inches="tight")


def write_decisions(out_dir: Path, report: dict[str, Any]) -> None:
    """Write decisions.md: the test split replayed through the bundle (`autoreply evaluate`).

    It is written after the manifest (it needs the finished bundle), so bundle.json does not
    list it: it describes the bundle without being part of what the version hashes.
    """
    lines = [
        "# Decisions on test, replayed through the service's decision code (int8)",
        "",
        "Coverage: replies / actionable tickets the agent answered with a template it kept; "
        "agreement: reply = the agent's template; unsafe: replies to non-actionable messages; "
        "error bound: Clopper-Pearson upper bound of wrong-or-unsafe replies. Full figures: "
        "`decisions.json`.",
        "",
        "| group | answerable | replies | coverage | agreement | unsafe | error rate (bound) |",
        "|---|---|---|---|---|---|---|",
    ]
    groups = {"all": report["overall"], **report["by_line_locale"]}
    for name, f in groups.items():
        lines.append(
            f"| {name} | {f['answerable']} | {f['replies']} | {_pct(f['coverage'])} "
            f"| {_pct(f['agreement'])} | {f['unsafe']} ({_pct(f['unsafe_rate'])}) "
            f"| {_pct(f['error_rate'])} ({_pct(f['error_bound'])}) |"
        )
    lines += ["", "| guard class | n | flagged by the guard | handed off |", "|---|---|---|---|"]
    for name, r in report["guard_recall"].items():
        lines.append(f"| {name} | {r['n']} | {_pct(r['flagged'])} | {_pct(r['handed_off'])} |")
    lines += [
        "",
        "Where the answerable tickets went (first hand-off reason; best template = the agent's "
        "or not):",
        "",
        "| outcome | best template right | wrong |",
        "|---|---|---|",
    ]
    for where, sides in report["answerable_outcomes"].items():
        lines.append(f"| {where} | {sides['right']} | {sides['wrong']} |")
    lines += ["", "![coverage-agreement](decisions.png)", ""]
    (out_dir / "decisions.md").write_text("\n".join(lines), encoding="utf-8")
