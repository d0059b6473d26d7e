"""An item-similarity recommender for the pre-Core Seldon ``/recommend`` API.

Two items are alike when the same users interacted with both: the cosine of their user sets in
``interactions.csv`` (user,item rows, oldest first). A candidate's score is the sum of its
similarities to the user's recent interactions; the wrapper scales the scores to 0..1 (1 best),
sorts them and keeps ``limit`` of them.
"""

import csv
import math
import pathlib
from collections import defaultdict

HERE = pathlib.Path(__file__).resolve().parent

# The data_key of the pre-Core Seldon example call: the server's RecentItems:test1:0:100000.
RECENT_ITEMS_KEY = "ce136f0d0fac274a7d353e672bf4b187"
RECENT_ROWS = 20


class Recommender:
    def __init__(self, interactions: str = "interactions.csv"):
        with open(HERE / interactions, newline="") as handle:
            rows = [(int(row["user"]), int(row["item"])) for row in csv.DictReader(handle)]
        self.users_of = defaultdict(set)
        self.items_of = defaultdict(set)
        for user, item in rows:
            self.users_of[item].add(user)
            self.items_of[user].add(item)
        recent = sorted({item for _, item in rows[-RECENT_ROWS:]})
        self.item_lists = {"all": sorted(self.users_of), RECENT_ITEMS_KEY: recent}

    def get_items(self, data_key):
        """The candidate items a data_key names; a KeyError (HTTP 404) for any other key."""
        return self.item_lists[data_key]

    def similarity(self, a, b):
        users_a, users_b = self.users_of.get(a), self.users_of.get(b)
        if not users_a or not users_b:
            return 0.0
        return len(users_a & users_b) / math.sqrt(len(users_a) * len(users_b))

    def recommend(self, user_id, items, recent_interactions, client, limit):
        """(item, score) for the candidates like the recent items (or, without any, like the
        user's own history), leaving out what the user just saw and what nothing resembles."""
        seen = [item for item in recent_interactions if item in self.users_of]
        if not seen:
            seen = sorted(self.items_of.get(user_id, ()))
        scored = []
        for item in items:
            if item in recent_interactions or item in seen:
                continue
            score = sum(self.similarity(item, other) for other in seen)
            if score > 0:
                scored.append((item, score))
        return scored
