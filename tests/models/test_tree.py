"""The label tree and both hierarchical designs: consistent distributions, same math in torch."""

import numpy as np
import pytest
import torch

from models.heads import HierarchicalHead
from models.tree import LabelTree

LEAVES = (
    "riders/ride_cost/promo_not_applied",
    "riders/ride_cost/overcharge",
    "riders/payment/receipt",
    "riders/payment/card/declined",
    "riders/other",
)


@pytest.fixture
def tree():
    return LabelTree("riders", LEAVES)


def test_nodes_list_parents_before_children_and_siblings_together(tree):
    assert tree.nodes[:3] == ("riders/ride_cost", "riders/payment", "riders/other")
    for i, parent in enumerate(tree.parents):
        assert parent < i
    assert tree.path_nodes(3) == [
        tree.nodes.index(p) for p in ("riders/payment", "riders/payment/card", LEAVES[3])
    ]


@pytest.mark.parametrize(
    ("leaves", "message"),
    [
        (("riders/a", "riders/a/b"), "both a leaf and a parent"),
        (("drivers/a",), "not below line"),
        (("riders/a", "riders/a"), "twice"),
        ((), "no leaves"),
    ],
)
def test_bad_leaf_sets_are_refused(leaves, message):
    with pytest.raises(ValueError, match=message):
        LabelTree("riders", leaves)


@pytest.mark.parametrize("design", ["flat", "conditional"])
def test_distribution_is_consistent_at_every_level(tree, design):
    scores = np.random.default_rng(0).normal(size=(4, tree.n_scores(design))) * 3
    probs = np.exp(tree.leaf_log_probs(scores, design, temperature=1.7))
    assert np.allclose(probs.sum(axis=1), 1.0)
    nodes = tree.node_probs(probs)
    for i, node in enumerate(tree.nodes):
        leaves = [
            j for j, leaf in enumerate(tree.leaves) if leaf.startswith(node + "/") or leaf == node
        ]
        assert np.allclose(nodes[:, i], probs[:, leaves].sum(axis=1))
    top = [i for i, node in enumerate(tree.nodes) if tree.depth(node) == 1]
    assert np.allclose(nodes[:, top].sum(axis=1), 1.0)


def test_conditional_leaf_is_the_product_of_its_path_conditionals(tree):
    scores = np.random.default_rng(1).normal(size=(1, tree.n_scores("conditional")))
    probs = np.exp(tree.leaf_log_probs(scores, "conditional"))[0]
    z = scores[0]

    def cond(node):  # softmax of `node` among its siblings
        parent = tree.parents[node]
        siblings = [i for i, p in enumerate(tree.parents) if p == parent]
        return np.exp(z[node]) / np.exp(z[siblings]).sum()

    expected = np.prod([cond(n) for n in tree.path_nodes(3)])
    assert probs[3] == pytest.approx(expected)


@pytest.mark.parametrize("design", ["flat", "conditional"])
def test_torch_head_matches_numpy_math(tree, design):
    head = HierarchicalHead(tree, design, hidden=8, dropout=0.0)
    scores = torch.randn(5, tree.n_scores(design)) * 4
    expected = tree.leaf_log_probs(scores.numpy(), design, temperature=0.7)
    assert np.allclose(head.leaf_log_probs(scores, temperature=0.7).numpy(), expected, atol=1e-5)
    targets = torch.tensor([0, 1, 2, 3, 4])
    loss = head.loss(scores, targets)
    plain = tree.leaf_log_probs(scores.numpy(), design)
    assert loss.item() == pytest.approx(-plain[range(5), range(5)].mean(), rel=1e-4)


def test_per_level_nodes_pad_shallow_leaves(tree):
    names = [tree.nodes[i] for i in tree.level_of_nodes(2)]
    assert "riders/other" in names and "riders/payment/card" in names
    assert tree.max_depth == 3
