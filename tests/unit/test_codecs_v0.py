"""The pre-Core microservice API's requests and answers (seldon_wrapper/codecs/v0.py)."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seldon_wrapper.codecs import v0
from seldon_wrapper.errors import SeldonMicroserviceException


def test_the_published_recommend_call_is_typed():
    args = {
        "client": "test1",
        "user_id": "1",
        "recent_interactions": "16,260",
        "exclusion_items": "",
        "data_key": "ce136f0d0fac274a7d353e672bf4b187",
        "limit": "30",
    }
    assert v0.parse_recommend(args) == v0.RecommendRequest(
        client="test1",
        user_id=1,
        recent_interactions=[16, 260],
        exclusion_items=[],
        data_key="ce136f0d0fac274a7d353e672bf4b187",
        limit=30,
    )


def test_ids_that_are_not_ints_stay_text_and_blanks_are_skipped():
    request = v0.parse_recommend({"user_id": "u-7", "recent_interactions": "16, x9,,", "limit": ""})
    assert (request.user_id, request.recent_interactions, request.limit) == (
        "u-7",
        [16, "x9"],
        v0.DEFAULT_LIMIT,
    )
    assert v0.parse_recommend({}).user_id is None


@pytest.mark.parametrize(("limit", "message"), [("-1", "must not be negative"), ("ten", "whole number")])
def test_a_bad_limit_is_a_400(limit, message):
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.parse_recommend({"limit": limit})
    assert info.value.status_code == 400 and message in info.value.message


def test_recommended_are_normalised_sorted_limited_and_never_excluded():
    scored = [(1, 2.0), {"item": 2, "score": 8.0}, (3, 4.0), (4, 6.0), (5, -1.0)]
    answer = v0.encode_recommended(scored, exclusions=[4], limit=3)
    assert answer == {
        "recommended": [{"item": 2, "score": 1}, {"item": 3, "score": 0.5}, {"item": 1, "score": 0.25}]
    }


def test_recommended_all_zero_and_empty():
    assert v0.encode_recommended([(1, 0), (2, 0)], [], 5) == {
        "recommended": [{"item": 1, "score": 0}, {"item": 2, "score": 0}]
    }
    assert v0.encode_recommended([], [], 5) == {"recommended": []}
    assert v0.encode_recommended([(1, 1.0)], [], 0) == {"recommended": []}


@pytest.mark.parametrize("bad", [[(1, "high")], [(1, float("nan"))], ["item"], [(1, 2, 3)]])
def test_a_recommender_returning_nonsense_is_a_500(bad):
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.encode_recommended(bad, [], 5)
    assert info.value.status_code == 500


@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(-1e6, 1e6, allow_nan=False)), max_size=30),
    st.lists(st.integers(0, 50), max_size=10),
    st.integers(0, 40),
)
def test_recommended_properties(scored, exclusions, limit):
    answer = v0.encode_recommended(scored, exclusions, limit)["recommended"]
    assert len(answer) <= limit
    assert not {entry["item"] for entry in answer} & set(exclusions)
    scores = [entry["score"] for entry in answer]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    if scores and max(s for _, s in scored if _ not in set(exclusions)) > 0:
        assert scores[0] == 1
    json.dumps(answer)


def test_v0_predict_is_told_apart_from_v1():
    assert v0.is_v0_predict({"client": "test1"}, {"f1": 4.8})
    assert not v0.is_v0_predict({}, {"f1": 4.8})
    assert not v0.is_v0_predict({"client": "test1"}, {"data": {"ndarray": [[1]]}})
    assert not v0.is_v0_predict({"client": "test1"}, {"strData": "x"})
    assert not v0.is_v0_predict({"client": "test1"}, [1, 2])


def test_features_in_the_objects_order_or_the_class_order():
    message = {"f1": 4.8, "f2": 3.0, "f3": 1.4, "f4": 0.1}
    names, row = v0.parse_features(message)
    assert names == ["f1", "f2", "f3", "f4"] and row.tolist() == [[4.8, 3.0, 1.4, 0.1]]
    names, row = v0.parse_features(message, ["f4", "f1"])
    assert names == ["f4", "f1"] and row.tolist() == [[0.1, 4.8]]


@pytest.mark.parametrize(
    ("message", "order", "text"),
    [
        ({"f1": "abc"}, None, "'f1' must be a number"),
        ({"f1": True}, None, "'f1' must be a number"),
        ({"f1": [1]}, None, "'f1' must be a number"),
        ({"f1": 1.0}, ["f1", "f2"], "Missing feature 'f2'"),
        ({}, None, "No features"),
    ],
)
def test_bad_features_are_a_400(message, order, text):
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.parse_features(message, order)
    assert info.value.status_code == 400 and text in info.value.message


def test_predictions_and_their_answer():
    scores = v0.class_scores([[0.9, 0.1]])
    answer = v0.encode_predictions(v0.predictions(scores, ["1", "2"]))
    assert answer == {
        "predictions": [
            {"score": 0.9, "classId": "1", "confidence": 0.9},
            {"score": 0.1, "classId": "2", "confidence": 0.9},
        ]
    }


@pytest.mark.parametrize("result", [[[0.1, 0.9], [0.5, 0.5]], [], "text", [[]]])
def test_class_scores_need_one_row(result):
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.class_scores(result)
    assert info.value.status_code == 500


def test_class_scores_accept_a_flat_row():
    assert v0.class_scores(np.array([0.2, 0.8])).tolist() == [0.2, 0.8]
