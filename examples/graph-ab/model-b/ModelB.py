"""Model B of the A/B examples: quadruples its features, and says so in a tag.

The two models answer the same shape with visibly different numbers (A doubles, B quadruples),
so whichever branch a router or an A/B test picked can be read off the answer. Each model also
tags its answers with its own name (``{"model-a": "x2"}``, ``{"model-b": "x4"}``): the executor
merges the tags of every node that answered, so a combined answer carries both. ``send_feedback``
counts the rewards this model received (the executor sends feedback to the model that answered).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seldon_core.user_model import SeldonResponse

FACTOR = 4.0


class ModelB:
    def __init__(self) -> None:
        self.rewards: list[float] = []

    def init_metadata(self) -> dict:
        return {"name": "model-b"}

    def predict(self, X: Any, names: Any) -> SeldonResponse:
        """The features times 4, tagged ``model-b: x4``."""
        return SeldonResponse(np.asarray(X, dtype=float) * FACTOR, tags={"model-b": "x4"})

    def send_feedback(
        self, features: Any, names: Any, reward: float, truth: Any, routing: Any = None
    ) -> list:
        """Keep the reward; answer ``[[rewards received, their sum]]``."""
        self.rewards.append(float(reward))
        return [[len(self.rewards), sum(self.rewards)]]
