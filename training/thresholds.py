"""Autoreply thresholds fitted on validation for the decision the service makes, with a guarantee.

The service replies with the best *template* when its probability passes the threshold of its
anchor leaf, else of the nearest ancestor that has one, else of the line
(`models.abstention.resolve_threshold`). Here every node of the topic tree (leaf, inner node,
line) gets a threshold from the validation tickets whose decision is anchored in its subtree.

The threshold is chosen Learn-then-Test style (Angelopoulos et al., 2021): candidate thresholds
are tested from the strictest down, in a fixed sequence, each with the null hypothesis "the
replies it lets through are wrong or unsafe more often than the target". The binomial test's
p-value must stay under `delta` for both risks (wrong-or-unsafe, and unsafe alone); the sequence
stops at the first threshold that fails. With probability at least 1 - delta, each node's
replies (on tickets like the validation ones) err at most at the target rate. Each entry keeps
the evidence: how many tickets, how many accepted, the errors, the point estimate and the
Clopper-Pearson upper bound at 1 - delta. A node with too little evidence has no threshold, and
its decisions back off to the parent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import beta, binom


@dataclass(frozen=True)
class RiskTargets:
    """What an automatic reply may cost: error rates and the confidence of the guarantee."""

    error: float = 0.03  # wrong template or unsafe, share of replies
    unsafe: float = 0.01  # a reply to thanks, sarcasm, two problems, off-topic: share of replies
    delta: float = 0.1  # the guarantee holds with probability 1 - delta


@dataclass(frozen=True)
class Evidence:
    """Validation tickets the threshold alone would decide (nothing else blocks their reply)."""

    anchors: list[str]  # each ticket's anchor leaf
    confidence: np.ndarray  # the best template's probability
    error: np.ndarray  # bool: the reply would be wrong or unsafe
    unsafe: np.ndarray  # bool: the reply would go to a non-actionable message


def upper_bound(errors: int, n: int, delta: float) -> float:
    """Return the one-sided Clopper-Pearson upper bound of an error rate at confidence 1 - delta."""
    if n == 0:
        return 1.0
    return 1.0 if errors >= n else float(beta.ppf(1 - delta, errors + 1, n - errors))


def least_support(rate: float, delta: float, errors: int = 0) -> int:
    """Return the fewest accepted tickets that can show `rate` is met with `errors` errors."""
    n = math.ceil(math.log(delta) / math.log(1 - rate))
    while binom.cdf(errors, n, rate) > delta:
        n += 1
    return n


def fit_threshold(
    confidence: np.ndarray, error: np.ndarray, unsafe: np.ndarray, targets: RiskTargets
) -> dict[str, Any]:
    """Return one node's threshold entry: the lowest threshold the fixed-sequence test accepts."""
    order = np.argsort(-confidence, kind="stable")
    conf = confidence[order]
    errors, unsafes = np.cumsum(error[order]), np.cumsum(unsafe[order])
    count = np.arange(1, len(conf) + 1)
    last_of_tie = np.append(conf[1:] < conf[:-1], True) if len(conf) else np.zeros(0, bool)
    # The sequence starts where one error of either kind does not end it by itself: a start
    # that depends on counts only (never on the labels) keeps the guarantee, and a single
    # unlucky reply among the most confident no longer refuses a whole node.
    start = max(
        least_support(targets.error, targets.delta, 1),
        least_support(targets.unsafe, targets.delta, 1),
    )
    cut = None
    for i in np.flatnonzero(last_of_tie & (count >= start)):
        n = int(count[i])
        p_error = binom.cdf(int(errors[i]), n, targets.error)
        p_unsafe = binom.cdf(int(unsafes[i]), n, targets.unsafe)
        if max(p_error, p_unsafe) > targets.delta:
            break
        cut = int(i)
    entry: dict[str, Any] = {"threshold": None, "support": len(conf), "accepted": 0}
    if cut is not None:
        n, e, u = int(count[cut]), int(errors[cut]), int(unsafes[cut])
        entry.update(
            threshold=float(conf[cut]),
            accepted=n,
            errors=e,
            unsafe=u,
            error_rate=e / n,
            error_bound=upper_bound(e, n, targets.delta),
            unsafe_bound=upper_bound(u, n, targets.delta),
        )
    return entry


def node_paths(leaves: tuple[str, ...]) -> list[str]:
    """Return every node of a line's tree: the line, inner nodes, leaves (parents first)."""
    nodes: dict[str, None] = {}
    for leaf in leaves:
        parts = leaf.split("/")
        for depth in range(1, len(parts) + 1):
            nodes.setdefault("/".join(parts[:depth]))
    return list(nodes)


def fit_thresholds(
    leaves: tuple[str, ...], evidence: Evidence, targets: RiskTargets
) -> dict[str, dict[str, Any]]:
    """Return a threshold entry for every node of one line's tree, from its subtree's tickets."""
    anchors = np.array(evidence.anchors, dtype=object)
    entries = {}
    for node in node_paths(leaves):
        inside = np.array([a == node or a.startswith(node + "/") for a in anchors], dtype=bool)
        entries[node] = fit_threshold(
            evidence.confidence[inside], evidence.error[inside], evidence.unsafe[inside], targets
        )
    return entries


def fit_actionable_floor(
    actionable_prob: np.ndarray, guards: list[str | None], recall: float
) -> float | None:
    """Return the `actionable` probability under which the guard flags a message, chosen so that
    at least `recall` of every non-actionable class's validation messages are flagged.

    None when the data has no guard labels.
    """
    labels = np.array([g or "" for g in guards], dtype=object)
    floors = []
    for name in sorted({g for g in guards if g and g != "actionable"}):
        probs = np.sort(actionable_prob[labels == name])
        # The floor must exceed the `recall` quantile of this class's actionable probabilities.
        index = min(len(probs) - 1, math.ceil(recall * len(probs)) - 1)
        floors.append(float(np.nextafter(probs[index], 1.0)))
    return max(floors) if floors else None
