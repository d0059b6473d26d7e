"""Large ndarrays parsed straight to numpy give exactly what json + np.array give, or nothing."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.settings import Settings
from seldon_wrapper.speedups import ndarrays
from tests.conftest import app_with_speedups

PARSER = ndarrays.NdarrayParser()


@pytest.fixture
def any_size(monkeypatch):
    monkeypatch.setattr(ndarrays, "MIN_BODY_BYTES", 0)


def _oracle(body: bytes):
    """What the original did: the stdlib parser, then np.array on the list."""
    message = json.loads(body)
    return message, np.array(message["data"]["ndarray"])


def _check_same(body: bytes) -> bool:
    """Asserts the fast parse equals the oracle when it answers; returns whether it answered."""
    message = PARSER.loads_message(body)
    if message is None:
        return False
    expected_message, expected = _oracle(body)
    features = seldon_json.decode_message(message).features
    assert features.dtype == expected.dtype
    assert features.shape == expected.shape
    assert features.tobytes() == expected.tobytes()  # bit for bit, -0.0 included
    assert features.flags.writeable and features.flags.owndata
    rest = {k: v for k, v in message.items() if k != "data"}
    assert rest == {k: v for k, v in expected_message.items() if k != "data"}
    expected_names = expected_message["data"].get("names")
    assert message["data"].get("names") == expected_names
    return True


def test_a_large_float_matrix_takes_the_numpy_path():
    rows = np.random.default_rng(0).uniform(-1000, 1000, (1000, 100)).round(4)
    body = json.dumps(
        {"meta": {"puid": "p", "tags": {"a": [1, 2]}}, "data": {"names": [], "ndarray": rows.tolist()}}
    )
    assert _check_same(body.encode())


def test_small_bodies_are_left_to_orjson():
    assert PARSER.loads_message(b'{"data":{"ndarray":[[1.0,2.0]]}}') is None


@pytest.mark.parametrize(
    "ndarray",
    [
        [[1, 2], [3, 4]],
        [[1, 2.5], [3, 4]],
        [1, -2, 9223372036854775807, -9223372036854775808],
        [[[1.5, -0.0], [1e-300, 2e300]], [[0.1, 0.2], [5e-324, 3]]],
        [[1e2, 1e-2]],
        [[2**62, 0.5]],
    ],
)
def test_numeric_arrays_match_numpy(any_size, ndarray):
    assert _check_same(json.dumps({"data": {"ndarray": ndarray}}).encode())


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":{"ndarray":[[1,2],[3,[4]]]}}',  # a hidden nested leaf: numpy refuses it
        b'{"data":{"ndarray":[[1,[2,3]],[[],4]]}}',
        b'{"data":{"ndarray":[[1,2],[3,4,5],[6]]}}',  # ragged
        b'{"data":{"ndarray":[[1,2],3]}}',
        b'{"data":{"ndarray":[true, 1]}}',  # numpy's bool/int promotion is left to numpy
        b'{"data":{"ndarray":[1, null]}}',
        b'{"data":{"ndarray":["a", 1]}}',
        b'{"data":{"ndarray":[18446744073709551615, 1]}}',  # uint64 in numpy
        b'{"data":{"ndarray":[123456789012345678901234567890]}}',  # exact big integer in Python
        b'{"data":{"ndarray":[]}}',
        b'{"data":{"ndarray":[[],[]]}}',
        b'{"data":{"ndarray":5}}',
        b'{"data":{"ndarray":[1,2]},"data":{"ndarray":[3]}}',  # duplicate keys: the last one counts
        b'{"data":{"ndarray":[1],"ndarray":[2,3]}}',
        b'{"data":{"ndarray":[1],"tensor":{"shape":[1],"values":[2]}}}',  # tensor has priority
        b'{"meta":{"tags":{"x":"[["}},"data":{"ndarray":[1]}}',
        b'{"meta":{"t":"\\ud800"},"data":{"ndarray":[1]}}',  # a lone surrogate, which json keeps
        b'{"data":{"ndarray":[NaN]}}',
        b'{"data":{"ndarray":[1e400]}}',
        b'{"data":{"ndarray":[1,2]}',
        b"[1, 2]",
    ],
)
def test_doubtful_bodies_take_the_ordinary_path(any_size, body):
    assert PARSER.loads_message(body) is None


_leaf = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(st.lists(_leaf, max_size=4), lambda inner: st.lists(inner, max_size=3), max_leaves=24),
    st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.lists(st.integers(), max_size=2))),
)
def test_random_arrays_match_numpy_or_are_declined(ndarray, meta):
    body = json.dumps({"meta": meta, "data": {"names": ["a"], "ndarray": ndarray}}).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ndarrays, "MIN_BODY_BYTES", 0)
        try:
            _oracle(body)
        except ValueError:  # numpy refuses ragged input: so must we
            assert PARSER.loads_message(body) is None
            return
        _check_same(body)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 4),
    # Integral floats from 2**63 on are declined (they might be uint64 integers): not drawn here.
    st.lists(st.one_of(st.integers(-(2**62), 2**62), st.floats(-1e18, 1e18))),
)
def test_rectangular_numbers_are_never_declined(rows, cols, pool):
    values = (pool or [0]) * (rows * cols)
    ndarray = [values[r * cols : (r + 1) * cols] for r in range(rows)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ndarrays, "MIN_BODY_BYTES", 0)
        assert _check_same(json.dumps({"data": {"ndarray": ndarray}}).encode())


class RawModel:
    def predict_raw(self, request):
        return {"jsonData": {"type": type(request["data"]["ndarray"]).__name__}}


class IdentityModel:
    def predict(self, X, names, meta=None):
        return X


def _client(model):
    component = Component(model)
    component.load()
    return app_with_speedups(Dataplane(component, Settings())).test_client()


def test_a_raw_method_still_receives_lists():
    body = json.dumps({"data": {"ndarray": [[0.5] * 100] * 200}})
    response = _client(RawModel()).post("/api/v1.0/predictions", data=body, content_type="application/json")
    assert response.get_json() == {"jsonData": {"type": "list"}}


def test_large_answers_are_the_flask_routes_answers():
    client = _client(IdentityModel())
    rows = np.random.default_rng(1).normal(size=(300, 50)).tolist()
    for ndarray in (rows, [[int(v * 1000) for v in row] for row in rows]):
        body = json.dumps({"meta": {"puid": "x"}, "data": {"names": ["n"], "ndarray": ndarray}})
        assert len(body) > ndarrays.MIN_BODY_BYTES
        fast = client.post("/api/v1.0/predictions", data=body, content_type="application/json")
        flask = client.post("/api/v1.0/predictions?via=flask", data=body, content_type="application/json")
        assert fast.status_code == 200
        assert fast.data == flask.data
        assert json.loads(fast.data)["data"]["ndarray"] == ndarray


def test_parsers_are_reused_and_released():
    rows = [[float(i)] * 50 for i in range(300)]
    body = json.dumps({"data": {"ndarray": rows}}).encode()
    PARSER.release()
    assert _check_same(body)
    assert len(PARSER.idle) == 1
    pooled = PARSER.idle[0]
    assert PARSER.loads_message(b"[" * 70000) is None  # a failed parse returns its parser too
    assert PARSER.idle == [pooled]
    assert _check_same(body)
    PARSER.release()
    assert PARSER.idle == []


# -- V2 requests --------------------------------------------------------------------------------


def _v2_outcome(body: bytes, parse):
    """Everything the V2 codec makes of a request: tensors (bit for bit) or the error."""
    from seldon_wrapper.errors import SeldonMicroserviceException
    from seldon_wrapper.rest import v2 as rest_v2

    try:
        request = rest_v2.parse_infer_request(body, None, "", parse)
    except SeldonMicroserviceException as exc:
        return ("refused", exc.status_code, exc.message)
    tensors = [
        (t.name, t.datatype, t.shape, t.array.dtype.str, t.array.tobytes(), t.parameters)
        for t in request.inputs
    ]
    return (request.id, request.parameters, request.outputs, tensors)


def _v2_same(body: bytes) -> bool:
    """The fast parse gives what the ordinary one gives; returns whether it took the body."""
    assert _v2_outcome(body, PARSER.loads_v2_request) == _v2_outcome(body, None)
    return PARSER.loads_v2_request(body) is not None


def test_a_large_v2_float_tensor_takes_the_numpy_path():
    rows = np.random.default_rng(1).uniform(-1000, 1000, (1000, 100)).round(4).tolist()
    tensor = {"name": "input-0", "shape": [1000, 100], "datatype": "FP64", "data": rows}
    body = json.dumps({"id": "a", "inputs": [tensor], "parameters": {"p": [1]}}).encode()
    assert len(body) > ndarrays.MIN_BODY_BYTES
    assert _v2_same(body)
    assert _v2_same(body.replace(b'"FP64"', b'"FP32"'))


v2_values = st.one_of(
    st.floats(width=64),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.sampled_from(["1.5", 1e39, -0.0]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda w: st.lists(st.lists(v2_values, min_size=w, max_size=w), min_size=1, max_size=4)
    )
    | st.lists(v2_values, max_size=6)
    | st.lists(st.lists(v2_values, max_size=3), max_size=3),
    st.sampled_from(["FP64", "FP32", "INT64", "BOOL"]),
    st.lists(st.integers(0, 4), max_size=3),
)
def test_random_v2_tensors_read_as_the_ordinary_path_reads_them(data, datatype, shape):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ndarrays, "MIN_BODY_BYTES", 0)
        body = json.dumps({"inputs": [{"name": "x", "datatype": datatype, "shape": shape, "data": data}]})
        _v2_same(body.encode())


@pytest.mark.parametrize(
    "data",
    [[[1.0, 2.0], [3.0]], [[1.0, [2.0]], [3.0, 4.0]], [1.0, True], [1.0, None], [], [[]], [1.0, "2"]],
)
def test_doubtful_v2_data_takes_the_ordinary_path(any_size, data):
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP64", "shape": [2, 2], "data": data}]}).encode()
    assert not _v2_same(body)


def test_v2_over_rest_gives_the_flask_routes_answer_for_large_tensors(any_size):
    from seldon_wrapper.rest.app import create_app

    class Identity:
        def predict(self, X, names):
            return X

    dataplane = Dataplane(Component(Identity()), Settings())
    dataplane.component.load()
    rows = np.random.default_rng(2).uniform(-5, 5, (50, 20)).tolist()
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [50, 20], "datatype": "FP32", "data": rows}]})
    answers = []
    for app in (app_with_speedups(dataplane), create_app(dataplane)):
        response = app.test_client().post(
            "/v2/models/Identity/infer", data=body, content_type="application/json"
        )
        answers.append((response.status_code, response.data))
    assert answers[0] == answers[1] and answers[0][0] == 200
