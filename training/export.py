"""Export the network to ONNX (fp32) and quantize it to int8, then check both against torch.

Export uses the TorchScript exporter (`dynamo=False`: no onnxscript needed) with eager
attention; int8 is ONNX Runtime dynamic quantization with per-channel weight scales (per-tensor
scales cost Russian inputs far more accuracy than English ones).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from models.backends import OnnxBackend
from models.network import ExportGraph, TopicNetwork
from models.spec import ModelSpec
from models.textenc import TextEncoder
from training.data import Example

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OPSET = 17


def export_onnx(model_dir: Path, spec: ModelSpec, fp32_path: Path, int8_path: Path) -> None:
    """Write the fp32 graph and its int8 (per-channel) quantization from a saved model dir."""
    network = TopicNetwork.from_weights(spec, model_dir, attn_implementation="eager")
    graph = ExportGraph(network).eval()
    ids = torch.tensor([[101, 2000, 2001, 102], [101, 2002, 102, 0]])
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "length"} for name in INPUTS}
    axes.update({name: {0: "batch"} for name in graph.output_names()})
    fp32_path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's tracer and deprecation chatter
        torch.onnx.export(
            graph,
            (ids, mask, torch.zeros_like(ids)),
            str(fp32_path),
            input_names=INPUTS,
            output_names=graph.output_names(),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger
    try:
        quantize_dynamic(
            str(fp32_path),
            str(int8_path),
            per_channel=True,
            weight_type=QuantType.QInt8,
            # onnxruntime 1.30 loses some output types in shape inference and then refuses to
            # quantize without a default; every tensor in this graph is float32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        quiet.setLevel(level)


def export_parity(
    model_dir: Path, spec: ModelSpec, onnx_files: dict[str, Path], examples: list[Example]
) -> dict[str, Any]:
    """Return, per backend and language, top-1 agreement with torch fp32 and score cosine."""
    network = TopicNetwork.from_weights(spec, model_dir)
    encoder = TextEncoder.from_dir(model_dir, spec.max_length, spec.transliterate)
    backends = {name: OnnxBackend(path) for name, path in onnx_files.items()}
    result: dict[str, Any] = {name: {} for name in backends}
    groups: dict[tuple[str, str], list[Example]] = {}
    for example in examples:
        groups.setdefault((example.line, example.locale), []).append(example)
    for (line, locale), group in sorted(groups.items()):
        batch = encoder.encode([e.text for e in group], [e.dialogue for e in group])
        with torch.inference_mode():
            reference = network(*(torch.from_numpy(a) for a in batch.feeds().values()), line)[0]
        ref = reference.numpy().astype(np.float64)
        for name, backend in backends.items():
            scores = backend.run(batch, line)[0].astype(np.float64)
            cosine = (scores * ref).sum(1) / (
                np.linalg.norm(scores, axis=1) * np.linalg.norm(ref, axis=1) + 1e-12
            )
            entry = result[name].setdefault(
                locale, {"n": 0, "agree": 0, "cos": 0.0, "max_abs": 0.0}
            )
            entry["n"] += len(group)
            entry["agree"] += int((scores.argmax(1) == ref.argmax(1)).sum())
            entry["cos"] += float(cosine.sum())
            entry["max_abs"] = max(entry["max_abs"], float(np.abs(scores - ref).max()))
    return {
        name: {
            locale: {
                "n": e["n"],
                "top1_agreement": e["agree"] / e["n"],
                "mean_score_cosine": e["cos"] / e["n"],
                "max_abs_score_diff": e["max_abs"],
            }
            for locale, e in per_locale.items()
        }
        for name, per_locale in result.items()
    }
