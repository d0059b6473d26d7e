"""The example epsilon-greedy router: learns from feedback which branch earns the best reward.

A multi-armed bandit over the children ("branches") of a Seldon Core v1 ROUTER node:

- `route` explores with probability `epsilon`: it picks a branch at random, drawn from a
  `random.Random(seed)` generator, so a run is repeatable. Otherwise it exploits: it picks the
  branch with the best mean reward so far (the lowest index on a tie). A branch without feedback
  yet counts as `initial` (default 1.0, above any reward in [0, 1]), so each branch gets tried.
  The answer's tag `epsilon_greedy` says which of the two happened;
- `send_feedback` adds the reward to the branch that answered the request (the executor names
  it in `response.meta.routing`, under the router's `PREDICTIVE_UNIT_ID`, `"0"` when unset) and
  answers the mean reward of every branch, `[[branch 0, branch 1, ...]]`.

Parameters: `n_branches` (INT, default 2), `epsilon` (FLOAT, default 0.1), `seed` (INT, default
0), `initial` (FLOAT, default 1.0). The state lives in the serving process.
"""

from __future__ import annotations

import random
from typing import Any

from seldon_wrapper.component import SeldonResponse
from seldon_wrapper.errors import SeldonMicroserviceException


class EpsilonGreedy:
    def __init__(
        self, n_branches: int = 2, epsilon: float = 0.1, seed: int = 0, initial: float = 1.0
    ) -> None:
        if int(n_branches) < 1:
            raise ValueError(f"n_branches must be at least 1, got {n_branches}")
        if not 0.0 <= float(epsilon) <= 1.0:
            raise ValueError(f"epsilon must be within [0, 1], got {epsilon}")
        self.n_branches = int(n_branches)
        self.epsilon = float(epsilon)
        self.initial = float(initial)
        self.rng = random.Random(int(seed))
        self.totals = [0.0] * self.n_branches
        self.counts = [0] * self.n_branches

    def means(self) -> list[float]:
        """The mean reward of each branch so far (`initial` for a branch without feedback)."""
        return [
            total / count if count else self.initial
            for total, count in zip(self.totals, self.counts, strict=True)
        ]

    def route(self, features: Any, feature_names: Any) -> SeldonResponse:
        """The branch for this request: a Python `int`, with a tag saying why."""
        if self.rng.random() < self.epsilon:
            return SeldonResponse(self.rng.randrange(self.n_branches), tags={"epsilon_greedy": "explore"})
        means = self.means()
        best = max(range(self.n_branches), key=means.__getitem__)  # the first best on a tie
        return SeldonResponse(best, tags={"epsilon_greedy": "exploit"})

    def send_feedback(
        self, features: Any, feature_names: Any, reward: float, truth: Any, routing: int | None = None
    ) -> list[list[float]]:
        """Credit `reward` to the branch that answered; answer every branch's mean reward."""
        if routing is None:
            raise SeldonMicroserviceException(
                "EpsilonGreedy needs the branch that answered: response.meta.routing of the feedback"
            )
        if not 0 <= routing < self.n_branches:
            raise SeldonMicroserviceException(
                f"EpsilonGreedy has branches 0 to {self.n_branches - 1}, feedback is for branch {routing}"
            )
        self.totals[routing] += reward
        self.counts[routing] += 1
        return [self.means()]
