"""A class served on both APIs: v1 predict (class probabilities) and the pre-Core /recommend."""

import numpy as np

# The published example's data_key, and a small list.
ITEMS = {
    "ce136f0d0fac274a7d353e672bf4b187": [16, 260, 31742, 32156, 500, 501, 502],
    "small": [1, 2, 3],
}


class V0Legacy:
    feature_names = ["f1", "f2", "f3", "f4"]

    def predict(self, X, feature_names):
        """Softmax of fixed linear scores: one row of three class probabilities per input row."""
        X = np.asarray(X, dtype=np.float64)
        logits = X @ np.array([[1.0, 0.0, -1.0], [0.5, 0.2, 0.0], [-1.0, 0.5, 1.0], [-1.0, 0.0, 2.0]])
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def class_names(self):
        return ["1", "2", "3"]

    def get_items(self, data_key):
        return ITEMS[data_key]

    def recommend(self, user_id, items, recent_interactions, client, limit):
        """Items closer (by id) to a recent one score higher; recent items are not recommended."""
        recent = [r for r in recent_interactions if isinstance(r, int)] or [0]
        return [(item, 1 / (1 + min(abs(item - r) for r in recent))) for item in items if item not in recent]
