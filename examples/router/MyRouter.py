"""The example router: sends every request to child 0, or splits on one feature and a threshold.

Without parameters it behaves like the Seldon template router (`route` always answers 0). With
the `threshold` parameter (and optionally `feature`, the column to look at, default 0) a request
goes to child 1 when that feature of its first row is greater than the threshold, else to
child 0. `send_feedback` records the rewards each child earned and answers the mean reward per
child so far, `[[mean of child 0, mean of child 1]]`.
"""

import numpy as np

from seldon_core.flask_utils import SeldonMicroserviceException

CHILDREN = 2


class MyRouter:
    def __init__(self, threshold=None, feature=0):
        self.threshold = None if threshold is None else float(threshold)
        self.feature = int(feature)
        self.reward_totals = [0.0] * CHILDREN
        self.reward_counts = [0] * CHILDREN

    def route(self, features, feature_names):
        """The child (0 or 1) that should answer this request; must be a Python int."""
        if self.threshold is None:
            return 0
        rows = np.atleast_2d(np.asarray(features, dtype=float))
        if rows.shape[1] <= self.feature:
            raise SeldonMicroserviceException(
                f"MyRouter routes on feature {self.feature} but the request has {rows.shape[1]} feature(s)"
            )
        return 1 if rows[0, self.feature] > self.threshold else 0

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        """Record ``reward`` for the child that answered (``routing``, else routed again)."""
        child = self.route(features, feature_names) if routing is None else int(routing)
        if not 0 <= child < CHILDREN:
            raise SeldonMicroserviceException(f"MyRouter has children 0 and 1, feedback is for child {child}")
        self.reward_totals[child] += reward
        self.reward_counts[child] += 1
        pairs = zip(self.reward_totals, self.reward_counts, strict=True)
        return [[total / count if count else 0.0 for total, count in pairs]]
