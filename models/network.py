"""The multitask topic network: one BERT-family encoder, a hierarchical head per line, a guard head.

Hard sharing by default: every line reads the same pooled encoder output. With `task_layers = N`
each line gets its own copy of the encoder's top N layers (soft, per-task capacity at the cost of
N extra layers per line at inference).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import cast

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.masking_utils import create_bidirectional_mask

from models.heads import HierarchicalHead
from models.spec import ModelSpec

WEIGHTS_FILE = "model.safetensors"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return the mean of the unmasked token states (how all-MiniLM-L6-v2 was trained)."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class TopicNetwork(nn.Module):
    """Encoder + per-line hierarchical heads + guard head; outputs raw scores and guard logits."""

    def __init__(self, spec: ModelSpec, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.spec = spec
        if getattr(encoder, "pooler", None) is not None:
            setattr(encoder, "pooler", None)  # noqa: B010 -- mean pooling; an unused pooler only confuses DDP
        self.encoder = encoder
        self.branches: nn.ModuleDict | None = None
        if spec.task_layers:
            layers = _layer_list(encoder)
            if spec.task_layers >= len(layers):
                raise ValueError(f"task_layers must be below the encoder's {len(layers)} layers")
            keep = len(layers) - spec.task_layers
            top = nn.ModuleList(layers[keep:])
            self.branches = nn.ModuleDict({line: copy.deepcopy(top) for line in spec.lines})
            encoder.encoder.layer = nn.ModuleList(layers[:keep])  # type: ignore[union-attr]
        hidden = int(encoder.config.hidden_size)
        self.heads = nn.ModuleDict(
            {
                line: HierarchicalHead(tree, spec.design, hidden, spec.dropout)
                for line, tree in spec.trees.items()
            }
        )
        self.guard = nn.Sequential(
            nn.Dropout(spec.dropout), nn.Linear(hidden, len(spec.guard_classes))
        )
        self.uses_token_types = int(getattr(encoder.config, "type_vocab_size", 0)) >= 2

    @classmethod
    def from_encoder_dir(cls, spec: ModelSpec, encoder_dir: Path) -> TopicNetwork:
        """Return a network on a pre-trained encoder with freshly initialised heads.

        Always in float32, whatever the checkpoint's dtype (transformers 5 keeps an fp16
        checkpoint in fp16, and an encoder carried to a GPU machine as fp16 must train in fp32).
        """
        return cls(spec, AutoModel.from_pretrained(str(encoder_dir), dtype=torch.float32))

    @classmethod
    def from_weights(
        cls, spec: ModelSpec, model_dir: Path, attn_implementation: str | None = None
    ) -> TopicNetwork:
        """Return a trained network from a directory with `config.json` and the weights file."""
        kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
        config = AutoConfig.from_pretrained(str(model_dir), **kwargs)
        network = cls(spec, AutoModel.from_config(config, **kwargs))
        network.load_state_dict(load_file(str(model_dir / WEIGHTS_FILE)))
        return network.eval()

    def head(self, line: str) -> HierarchicalHead:
        """Return the hierarchical head of one line."""
        return cast(HierarchicalHead, self.heads[line])

    def pooled(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        line: str | None = None,
    ) -> torch.Tensor:
        """Return the mean-pooled states the heads of `line` read (any line when hard sharing)."""
        types = token_type_ids if self.uses_token_types else torch.zeros_like(token_type_ids)
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types
        ).last_hidden_state
        return self._branch_pooled(hidden, attention_mask, line)

    def layers(self) -> nn.ModuleList:
        """Return the shared encoder's transformer layers, bottom first."""
        return _layer_list(self.encoder)

    def bottom_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        n_layers: int,
    ) -> torch.Tensor:
        """Return the token states after the embeddings and the bottom `n_layers` layers.

        With `pooled_from(states, mask, n_layers, line)` it computes exactly what `pooled` does,
        so a CPU fine-tune can cache the frozen bottom once and train only the top.
        """
        types = token_type_ids if self.uses_token_types else torch.zeros_like(token_type_ids)
        hidden = self.encoder.embeddings(input_ids=input_ids, token_type_ids=types)  # type: ignore[operator]
        return self._run_layers(hidden, attention_mask, self.layers()[:n_layers])

    def pooled_from(
        self, states: torch.Tensor, attention_mask: torch.Tensor, start: int, line: str | None
    ) -> torch.Tensor:
        """Return the pooled states from token states that enter shared layer `start`."""
        hidden = self._run_layers(states, attention_mask, self.layers()[start:])
        return self._branch_pooled(hidden, attention_mask, line)

    def _run_layers(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, layers: nn.ModuleList
    ) -> torch.Tensor:
        if len(layers):
            mask = create_bidirectional_mask(
                config=self.encoder.config, inputs_embeds=hidden, attention_mask=attention_mask
            )
            for layer in layers:
                hidden = layer(hidden, mask)
        return hidden

    def _branch_pooled(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, line: str | None
    ) -> torch.Tensor:
        if self.branches is not None:
            if line is None:
                raise ValueError("a network with per-line layers needs the line")
            hidden = self._run_layers(
                hidden, attention_mask, cast(nn.ModuleList, self.branches[line])
            )
        return mean_pool(hidden, attention_mask)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        line: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (raw topic scores of `line`, guard logits) for one batch of that line."""
        pooled = self.pooled(input_ids, attention_mask, token_type_ids, line)
        return self.heads[line](pooled), self.guard(pooled)


class ExportGraph(nn.Module):
    """The graph exported to ONNX: ids in, every line's scores and guard logits out."""

    def __init__(self, network: TopicNetwork) -> None:
        super().__init__()
        self.network = network
        self.lines = list(network.spec.lines)

    def output_names(self) -> list[str]:
        """Return the graph's output names, in the order `forward` returns them."""
        return [f"{kind}.{line}" for line in self.lines for kind in ("scores", "guard")]

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """Return (scores, guard) per line, flattened in `output_names` order.

        The heads run on [batch, 1, hidden] so they export as MatMul + Add rather than Gemm, and
        a shared encoder runs the guard once: onnxruntime 1.30's quantizer rewrites a Gemm whose
        weight two nodes share into a MatMul of the wrong shape.
        """
        outputs: list[torch.Tensor] = []
        shared = self.network.branches is None
        rows = guard = None
        for line in self.lines:
            if rows is None or not shared:  # a shared encoder (and guard) runs once
                pooled = self.network.pooled(input_ids, attention_mask, token_type_ids, line)
                rows = pooled.unsqueeze(1)
                guard = self.network.guard(rows).squeeze(1)
            assert guard is not None
            outputs += [self.network.heads[line](rows).squeeze(1), guard]
        return tuple(outputs)


def _layer_list(encoder: PreTrainedModel) -> nn.ModuleList:
    """Return the encoder's transformer layers, or explain why per-line layers cannot work."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList):
        raise ValueError("task_layers > 0 needs a BERT-style encoder (encoder.layer)")
    return layers
