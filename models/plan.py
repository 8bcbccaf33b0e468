"""A prediction as steps: the model's one native call is yielded, so a caller can run it elsewhere.

`TopicClassifier.plan` tokenizes, yields each encoded batch with its line, is sent the backend's
(scores, guard) for it, and returns the predictions. `run_plan` drives a plan in the calling
thread; the service drives it from its event loop and runs only the native call in a thread
(`service.predictions`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.prediction import Prediction
    from models.textenc import EncodedBatch

Scored = tuple[np.ndarray, np.ndarray]  # [batch, scores], [batch, guard classes]
Plan = Generator[tuple["EncodedBatch", str], Scored, list["Prediction"]]


def run_plan(plan: Plan, score: Callable[[EncodedBatch, str], Scored]) -> list[Prediction]:
    """Drive a plan to its predictions, scoring each batch it yields with `score`."""
    try:
        step = next(plan)
        while True:
            step = plan.send(score(*step))
    except StopIteration as done:
        predictions: list[Prediction] = done.value
        return predictions
