"""V0Adapter: the pre-Core API's recommend and classify over a v1 user class."""

import numpy as np
import pytest

from seldon_wrapper.codecs import v0
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.settings import Settings
from seldon_wrapper.v0_adapter import V0Adapter


class Recommender:
    CANDIDATES = {"k": [1, 2, 3, 4]}

    def __init__(self):
        self.calls = []

    def get_items(self, data_key):
        return self.CANDIDATES[data_key]

    def recommend(self, user_id, items, recent_interactions, client, limit):
        self.calls.append((user_id, list(items), recent_interactions, client, limit))
        return [(item, float(item)) for item in items]


class Classifier:
    feature_names = ["f1", "f2"]

    def predict(self, X, feature_names):
        assert feature_names == ["f1", "f2"]
        total = X.sum()
        return [[X[0, 0] / total, X[0, 1] / total]]

    def class_names(self):
        return ["setosa", "other"]


def adapter(user, **settings):
    return V0Adapter(Dataplane(Component(user), Settings(**settings)))


def test_recommend_gets_the_candidates_minus_exclusions():
    user = Recommender()
    request = v0.parse_recommend(
        {"client": "c", "user_id": "7", "recent_interactions": "3", "exclusion_items": "4", "data_key": "k"}
    )
    answer = adapter(user).recommend(request)
    assert user.calls == [(7, [1, 2, 3], [3], "c", 30)]
    assert answer == {
        "recommended": [{"item": 3, "score": 1}, {"item": 2, "score": 2 / 3}, {"item": 1, "score": 1 / 3}]
    }


def test_unknown_data_key_is_a_404():
    with pytest.raises(SeldonMicroserviceException) as info:
        adapter(Recommender()).recommend(v0.parse_recommend({"data_key": "nope"}))
    assert info.value.status_code == 404 and "nope" in info.value.message


def test_a_class_without_recommend_is_not_a_recommender():
    with pytest.raises(SeldonMicroserviceException) as info:
        adapter(Classifier()).recommend(v0.parse_recommend({}))
    assert info.value.status_code == 404 and "no recommend" in info.value.message


def test_classify_in_the_class_feature_order_with_class_names():
    answer = adapter(Classifier()).classify({"f2": 1.0, "f1": 3.0, "extra": 9})
    assert [(p.class_id, p.score, p.confidence) for p in answer] == [
        ("setosa", 0.75, 0.75),
        ("other", 0.25, 0.75),
    ]


def test_classify_without_class_names_uses_column_indexes():
    class Plain:
        def predict(self, X, feature_names):
            return np.array([0.2, 0.8])

    answer = adapter(Plain()).classify({"a": 1.0})
    assert [(p.class_id, p.score) for p in answer] == [("0", 0.2), ("1", 0.8)]


def test_model_name():
    assert adapter(Classifier()).model_name == "Classifier"
    assert adapter(Classifier(), predictive_unit_id="iris").model_name == "iris"


def test_a_failing_data_handler_is_a_400():
    class Handler:
        def getData(self, request):
            raise ValueError("wrong message type")

    class WithHandler(Classifier):
        data_handler = Handler()

    with pytest.raises(SeldonMicroserviceException) as info:
        adapter(WithHandler()).unpack(object())
    assert info.value.status_code == 400 and "wrong message type" in info.value.message
    with pytest.raises(SeldonMicroserviceException) as info:
        adapter(Classifier()).unpack(object())
    assert info.value.status_code == 501
