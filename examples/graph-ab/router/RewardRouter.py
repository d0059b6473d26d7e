"""A router that learns from feedback which branch to use, with no randomness.

Unlike a RANDOM_ABTEST, which splits traffic by a fixed ratio, this ROUTER moves the traffic to
the branch that earns the best rewards, and does it deterministically, so a walk-through gives
the same answers every time:

- warm-up: while a branch has fewer than ``warmup`` rewards (parameter, default 1), requests go
  round-robin over the branches still warming up, so each one gets tried;
- then every request goes to the branch with the best mean reward (the lowest index on a tie).

``send_feedback`` credits the reward to the branch that answered, which the executor names in
``response.meta.routing`` under this node's name, and answers ``[[mean of branch 0, mean of
branch 1, ...]]`` with the number of rewards per branch in the tag ``feedback_counts``. The state
lives in the serving process: keep one worker (the default) and one replica.
"""

from __future__ import annotations

from typing import Any

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.user_model import SeldonResponse


class RewardRouter:
    def __init__(self, n_branches: int = 2, warmup: int = 1) -> None:
        if int(n_branches) < 1:
            raise ValueError(f"n_branches must be at least 1, got {n_branches}")
        if int(warmup) < 0:
            raise ValueError(f"warmup must not be negative, got {warmup}")
        self.n_branches = int(n_branches)
        self.warmup = int(warmup)
        self.totals = [0.0] * self.n_branches
        self.counts = [0] * self.n_branches
        self.routed = 0  # requests routed during warm-up: the round-robin position

    def means(self) -> list[float]:
        """The mean reward of each branch so far (0 for a branch without feedback)."""
        return [
            total / count if count else 0.0 for total, count in zip(self.totals, self.counts, strict=True)
        ]

    def route(self, features: Any, feature_names: Any) -> int:
        """The branch for this request, a Python ``int`` as the wrapper requires."""
        warming = [branch for branch in range(self.n_branches) if self.counts[branch] < self.warmup]
        if warming:
            branch = warming[self.routed % len(warming)]
            self.routed += 1
            return branch
        means = self.means()
        return max(range(self.n_branches), key=means.__getitem__)  # the first best on a tie

    def send_feedback(
        self, features: Any, feature_names: Any, reward: float, truth: Any, routing: int | None = None
    ) -> SeldonResponse:
        """Credit ``reward`` to the branch that answered; answer every branch's mean reward."""
        if routing is None:
            raise SeldonMicroserviceException(
                "RewardRouter needs the branch that answered: response.meta.routing of the feedback"
            )
        branch = int(routing)
        if not 0 <= branch < self.n_branches:
            raise SeldonMicroserviceException(
                f"RewardRouter has branches 0 to {self.n_branches - 1}, feedback is for branch {branch}"
            )
        self.totals[branch] += float(reward)
        self.counts[branch] += 1
        return SeldonResponse([self.means()], tags={"feedback_counts": list(self.counts)})
