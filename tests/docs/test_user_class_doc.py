"""docs/user-class.md, checked against the real server code: every table row and every example.

The tables are read from the page itself (by their header rows), so a row that stops being true,
or a new row, is tested without touching this file. Prose claims that are not in a table are
tested one by one below, each with the page's own words.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2, json_format

from seldon_core.flask_utils import SeldonMicroserviceException as LegacySeldonMicroserviceException
from seldon_core.user_model import SeldonComponent as LegacySeldonComponent
from seldon_core.user_model import SeldonResponse as LegacySeldonResponse
from seldon_wrapper.component import Component, SeldonComponent, SeldonResponse
from seldon_wrapper.errors import SeldonMicroserviceException, SeldonNotImplementedError, StartupError
from seldon_wrapper.loader import parameters_from_json, parse_parameters
from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc
from seldon_wrapper.settings import Settings
from tests.docs.doc_examples import (
    DOCS,
    ENTRIES,
    code,
    grpc_server,
    parse_page,
    rest_client,
    run_example,
    tables,
)

PAGE = "user-class.md"
TEXT = (DOCS / PAGE).read_text(encoding="utf-8")
NAMES = {
    "np": np,
    "SeldonResponse": SeldonResponse,
    "SeldonMicroserviceException": SeldonMicroserviceException,
    "SeldonNotImplementedError": SeldonNotImplementedError,
}
PREDICT = "/api/v1.0/predictions"


def evaluate(expression: str) -> Any:
    return eval(expression, dict(NAMES))


def in_page(*phrases: str) -> None:
    """The page says these words (a claim tested next to it)."""
    flat = " ".join(TEXT.split())
    for phrase in phrases:
        assert " ".join(phrase.split()) in flat, phrase


def post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


# -- a class whose behaviour each test sets --------------------------------------------------


class Board:
    """What the switchboard class does on the next call, and what it saw."""

    def __init__(self) -> None:
        self.answer: Any = lambda: "ok"
        self.seen: list = []
        self.lock = threading.Lock()


BOARD = Board()


class Switchboard:
    def predict(self, X, names, meta):
        BOARD.seen.append((X, names, meta))
        return BOARD.answer()


@pytest.fixture(params=ENTRIES)
def rest(request):
    """The REST app of the switchboard (through Flask, and through the fast entry)."""
    BOARD.answer, BOARD.seen = (lambda: "ok"), []
    return rest_client(Switchboard(), request.param)


@pytest.fixture(scope="module")
def grpc_stub():
    with grpc_server(Switchboard()) as address, grpc.insecure_channel(address) as channel:
        yield prediction_pb2_grpc.ModelStub(channel)


@pytest.fixture
def stub(grpc_stub):
    BOARD.answer, BOARD.seen = (lambda: "ok"), []
    return grpc_stub


def grpc_predict(stub: Any, request_json: str) -> Any:
    return stub.Predict(json_format.Parse(request_json, prediction_pb2.SeldonMessage()), timeout=10)


def check_x(actual: Any, expected_code: str, type_cell: str) -> None:
    expected = evaluate(expected_code)
    if type_cell.startswith("ndarray"):
        assert isinstance(actual, np.ndarray)
        assert str(actual.dtype) == type_cell.split()[1]
        assert actual.shape == expected.shape and np.array_equal(actual, expected)
    else:
        assert type(actual).__name__ == type_cell
        assert actual == expected


# -- constructor parameters ------------------------------------------------------------------


PARAMETER_ROWS = tables(PAGE, ["type", "value", "your constructor gets"])


@pytest.mark.parametrize("row", PARAMETER_ROWS, ids=lambda row: " ".join(row))
def test_parameter_types(row):
    ptype, value, gets = code(row[0])[0], json.loads(code(row[1])[0]), evaluate(code(row[2])[0])
    kwargs = parse_parameters([{"name": "p", "value": value, "type": ptype}])
    assert kwargs == {"p": gets} and type(kwargs["p"]) is type(gets)


def test_parameter_rules_of_the_page():
    in_page(
        "`BOOL` takes `y`, `yes`, `t`, `true`, `on`, `1` and `n`, `no`, `f`, `false`, `off`, `0`,"
        " in any case."
    )
    for word in ("y", "yes", "t", "true", "on", "1", "Y", "YES", "True", "On"):
        assert parse_parameters([{"name": "b", "value": word, "type": "BOOL"}]) == {"b": True}
    for word in ("n", "no", "f", "false", "off", "0", "N", "No", "FALSE", "Off"):
        assert parse_parameters([{"name": "b", "value": word, "type": "BOOL"}]) == {"b": False}
    in_page("A parameter without a `type` is a `STRING`.")
    assert parse_parameters([{"name": "s", "value": "7"}]) == {"s": "7"}
    in_page("`Bad model parameter: threshold with value abc can't be parsed as a FLOAT`")
    with pytest.raises(
        StartupError, match="^Bad model parameter: threshold with value abc can't be parsed as a FLOAT$"
    ):
        parameters_from_json('[{"name": "threshold", "value": "abc", "type": "FLOAT"}]')
    with pytest.raises(StartupError, match="Bad model parameter type: NUMBER"):
        parameters_from_json('[{"name": "x", "value": "1", "type": "NUMBER"}]')
    in_page("""`PREDICTIVE_UNIT_PARAMETERS='[{"name": "threshold", "value": "0.7", "type": "FLOAT"}]'`""")
    assert parameters_from_json('[{"name": "threshold", "value": "0.7", "type": "FLOAT"}]') == {
        "threshold": 0.7
    }


# -- life cycle --------------------------------------------------------------------------------


def test_load_ignores_attribute_and_not_implemented_errors():
    in_page("`AttributeError` and `NotImplementedError` raised in it are ignored")
    for error in (AttributeError, NotImplementedError):

        class Lazy:
            def load(self, error=error):
                raise error("not now")

            def predict(self, X, names):
                return X

        component = Component(Lazy())
        component.load()
        assert component.ready


# -- signatures --------------------------------------------------------------------------------


SIGNATURE_ROWS = tables(PAGE, ["your method", "the wrapper calls"])
ROUTES = {
    "predict": (PREDICT, {"data": {"ndarray": [[1]]}, "meta": {"puid": "p"}}),
    "transform_input": ("/transform-input", {"data": {"ndarray": [[1]]}}),
    "route": ("/route", {"data": {"ndarray": [[1]]}}),
    "aggregate": ("/aggregate", [{"data": {"ndarray": [[1]]}}]),
    "send_feedback": ("/api/v1.0/feedback", {"request": {"data": {"ndarray": [[1]]}}, "reward": 1}),
}


def recording_method(definition: str, calls: list) -> tuple[str, Any]:
    """The documented ``def`` with a recorder around it that keeps its signature."""
    namespace: dict[str, Any] = {}
    exec(f"{definition}:\n    pass\n", namespace)
    (real,) = (value for key, value in namespace.items() if key != "__builtins__")

    @functools.wraps(real)
    def recorder(self, *args, **kwargs):
        calls.append((args, kwargs))
        real(self, *args, **kwargs)
        return 0 if real.__name__ == "route" else [1]

    return real.__name__, recorder


@pytest.mark.parametrize("row", SIGNATURE_ROWS, ids=lambda row: code(row[0])[0])
def test_signature_forms(row):
    definition, call = code(row[0])[0], code(row[1])[0]
    calls: list = []
    name, method = recording_method(definition, calls)
    user = type("Signed", (), {name: method})()
    path, body = ROUTES[name]
    response = post(rest_client(user), path, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert call.split("(")[0] == name
    arguments = [part.strip() for part in call.split("(", 1)[1].rstrip(")").split(",")]
    positional = [part for part in arguments if "=" not in part]
    keywords = [part.split("=")[0] for part in arguments if "=" in part]
    ((args, kwargs),) = calls
    assert (len(args), sorted(kwargs)) == (len(positional), sorted(keywords))


def test_too_few_parameters_fail_with_the_type_error():
    in_page("A method that takes fewer arguments than it is given (`def predict(self, X)`) fails every call")

    class Short:
        def predict(self, X):
            return X

    response = post(rest_client(Short()), PREDICT, {"data": {"ndarray": [1]}})
    assert response.status_code == 500
    assert "takes 2 positional arguments but 3 were given" in response.json["status"]["info"]


def test_type_error_inside_is_reported_once():
    in_page(
        "A `TypeError` raised inside your method is reported once as a 500;"
        " the method is never called a second time."
    )
    calls = []

    class Faulty:
        def predict(self, X, names, meta=None):
            calls.append(meta)
            raise TypeError("unsupported operand")

    response = post(rest_client(Faulty()), PREDICT, {"data": {"ndarray": [1]}})
    assert (response.status_code, response.json["status"]["info"], len(calls)) == (
        500,
        "unsupported operand",
        1,
    )


# -- what the method receives ------------------------------------------------------------------


@pytest.mark.parametrize(
    "row", tables(PAGE, ["request (REST)", "X", "type of X", "names"]), ids=lambda r: r[0]
)
def test_rest_inputs(rest, row):
    request, x_code, type_cell, names_code = (
        code(row[0])[0],
        code(row[1])[0],
        code(row[2])[0],
        code(row[3])[0],
    )
    response = rest.post(PREDICT, data=request, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    ((x, names, _),) = BOARD.seen
    check_x(x, x_code, type_cell)
    assert names == evaluate(names_code)


@pytest.mark.parametrize(
    "row", tables(PAGE, ["request (gRPC, as protobuf JSON)", "X", "type of X"]), ids=lambda r: r[0]
)
def test_grpc_inputs(stub, row):
    request, x_code, type_cell = code(row[0])[0], code(row[1])[0], code(row[2])[0]
    grpc_predict(stub, request)
    ((x, names, _),) = BOARD.seen
    check_x(x, x_code, type_cell)
    assert list(names) == json.loads(request).get("data", {}).get("names", [])


def test_grpc_names_custom_data_and_empty_messages(stub):
    in_page("your method gets the `Any` message itself")
    payload = any_pb2.Any(type_url="type.example/x", value=b"\x01")
    stub.Predict(prediction_pb2.SeldonMessage(customData=payload), timeout=10)
    ((x, _, _),) = BOARD.seen
    assert isinstance(x, any_pb2.Any) and x == payload
    BOARD.seen.clear()
    stub.Predict(
        json_format.Parse('{"data":{"names":["a","b"],"ndarray":[[1,2]]}}', prediction_pb2.SeldonMessage())
    )
    ((_, names, _),) = BOARD.seen
    assert list(names) == ["a", "b"] and all(type(name) is str for name in names)
    in_page(
        "A gRPC message with no payload at all is refused"
        " (`INVALID_ARGUMENT`, `Unknown data in SeldonMessage`)."
    )
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(prediction_pb2.SeldonMessage(), timeout=10)
    assert (error.value.code(), error.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "Unknown data in SeldonMessage",
    )


@pytest.mark.parametrize("row", tables(PAGE, ["request", "meta on REST", "meta on gRPC"]), ids=lambda r: r[0])
def test_meta_received(rest, stub, row):
    request, on_rest, on_grpc = code(row[0])[0], code(row[1])[0], code(row[2])[0]
    rest.post(PREDICT, data=request, content_type="application/json")
    grpc_predict(stub, request)
    (_, _, rest_meta), (_, _, grpc_meta) = BOARD.seen
    assert rest_meta == evaluate(on_rest) and grpc_meta == evaluate(on_grpc)
    if rest_meta is not None:
        assert json.dumps(grpc_meta) == json.dumps(evaluate(on_grpc))  # floats stay floats


# -- what the return value becomes -------------------------------------------------------------


@pytest.mark.parametrize(
    "row", tables(PAGE, ["your method returns", "request", "REST answer"]), ids=lambda r: f"{r[0]} {r[1]}"
)
def test_rest_answers(rest, row):
    returns, request, answer = code(row[0])[0], code(row[1])[0], code(row[2])[0]
    BOARD.answer = lambda: evaluate(returns)
    response = rest.post(PREDICT, data=request, content_type="application/json")
    status = 400 if '"status":{"code":-1' in answer else 200
    assert (response.status_code, response.get_data(as_text=True).rstrip("\n")) == (status, answer)


def test_other_return_values_are_not_payloads(rest):
    in_page(
        "Any other return value (`None`, a number, a tuple, a numpy scalar) is not a payload:"
        " the call answers 400"
    )
    for value in (None, 3, (1, 2), np.float64(0.5), np.int64(2)):
        BOARD.answer = lambda value=value: value
        response = post(rest, PREDICT, {"data": {"ndarray": [1]}})
        assert response.status_code == 400
        assert response.json["status"]["info"].startswith(
            "Unknown data type returned as payload (must be list or np array):"
        )


@pytest.mark.parametrize(
    "row",
    tables(PAGE, ["your method returns", "request (protobuf JSON)", "gRPC answer (protobuf JSON)"]),
    ids=lambda r: f"{r[0]} {r[1]}",
)
def test_grpc_answers(stub, row):
    returns, request, answer = code(row[0])[0], code(row[1])[0], code(row[2])[0]
    BOARD.answer = lambda: evaluate(returns)
    response = grpc_predict(stub, request)
    assert json_format.MessageToDict(response) == json.loads(answer)


def test_any_return_is_custom_data(stub):
    in_page("a `google.protobuf.Any` return becomes `customData`")
    payload = any_pb2.Any(type_url="type.example/y", value=b"\x02")
    BOARD.answer = lambda: payload
    response = grpc_predict(stub, '{"strData":"x"}')
    assert response.WhichOneof("data_oneof") == "customData" and response.customData == payload


def test_seldon_response_is_the_same_class_everywhere():
    in_page(
        "can be imported from `seldon_core.user_model` (as with the original) or `seldon_wrapper.component`"
    )
    assert LegacySeldonResponse is SeldonResponse
    assert LegacySeldonComponent is SeldonComponent
    assert LegacySeldonMicroserviceException is SeldonMicroserviceException


def test_class_names_attribute_still_works():
    in_page("A plain list attribute `class_names = [...]` still works")

    class Old:
        class_names = ["x", "y"]

        def predict(self, X, names):
            return np.array([[1, 2]])

    response = post(rest_client(Old()), PREDICT, {"data": {"ndarray": [[1]]}})
    assert response.json["data"]["names"] == ["x", "y"]


def test_numpy_integers_are_not_routes():
    in_page("a numpy integer is refused: 400 `Routing response must be int but got <value>`")

    class NumpyRouter:
        def route(self, X, names):
            return np.int64(1)

    response = post(rest_client(NumpyRouter()), "/route", {"data": {"ndarray": [[1]]}})
    assert (response.status_code, response.json["status"]["info"]) == (
        400,
        "Routing response must be int but got 1",
    )


def test_feedback_routing_is_the_routers_branch():
    in_page(
        "the entry of the feedback's `response.meta.routing` under the router's `PREDICTIVE_UNIT_ID`"
        ' (`"0"` when unset), or `None`'
    )
    seen = []

    class Router:
        def route(self, X, names):
            return 0

        def send_feedback(self, features, names, reward, truth, routing=None):
            seen.append((features.dtype, names, type(reward), routing))

    client = rest_client(Router())
    body = {
        "request": {"data": {"names": ["a"], "ndarray": [[1]]}},
        "response": {"meta": {"routing": {"0": 1}}},
        "reward": 1,
    }
    assert post(client, "/api/v1.0/feedback", body).status_code == 200
    body["response"] = {}
    assert post(client, "/api/v1.0/feedback", body).status_code == 200
    assert seen == [(np.float64, ["a"], float, 1), (np.float64, ["a"], float, None)]


# -- the methods table: what happens without a method ------------------------------------------


class Empty:
    pass


@pytest.mark.parametrize(
    "path, body, status, answer, phrase",
    [
        (
            PREDICT,
            {"data": {"ndarray": [[1]]}},
            200,
            {"data": {"names": [], "ndarray": []}, "meta": {}},
            "the answer is an empty array (`[]`)",
        ),
        (
            "/transform-input",
            {"data": {"ndarray": [[1]]}},
            200,
            {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}},
            "the input is answered unchanged",
        ),
        (
            "/transform-output",
            {"data": {"ndarray": [[1]]}},
            200,
            {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}},
            "the input is answered unchanged",
        ),
        ("/route", {"data": {"ndarray": [[1]]}}, 400, "Route not defined", "400 `Route not defined`"),
        (
            "/aggregate",
            [{"data": {"ndarray": [[1]]}}],
            400,
            "Aggregate not defined",
            "400 `Aggregate not defined`",
        ),
        (
            "/api/v1.0/feedback",
            {"request": {"data": {"ndarray": [[1]]}}, "reward": 1},
            200,
            {"data": {"ndarray": []}, "meta": {}},
            "an empty answer",
        ),
    ],
)
def test_without_the_method(path, body, status, answer, phrase):
    in_page(phrase)
    response = post(rest_client(Empty()), path, body)
    assert response.status_code == status
    assert (response.json if status == 200 else response.json["status"]["info"]) == answer


def test_health_without_the_method():
    response = rest_client(Empty()).get("/health/status")
    assert response.json == {"meta": {}, "strData": "healthy"}


def test_not_implemented_means_absent():
    in_page(
        "raised from `predict`, `transform_input`, `transform_output`, `send_feedback`, `tags()`,"
        " `metrics()` or a raw"
        ' method it means "not implemented here"',
        "from `route` or `aggregate` it is a 400 with its message",
    )

    def refuse(*args, **kwargs):
        raise SeldonNotImplementedError("not here")

    class Refuser:
        predict = transform_input = transform_output = send_feedback = tags = metrics = route = aggregate = (
            refuse
        )
        predict_raw = refuse

    client = rest_client(Refuser())
    assert post(client, PREDICT, {"data": {"ndarray": [[1]]}}).json == {
        "data": {"names": [], "ndarray": []},
        "meta": {},
    }
    assert post(client, "/transform-input", {"data": {"ndarray": [[1]]}}).json["data"]["ndarray"] == [[1]]
    assert post(client, "/transform-output", {"data": {"ndarray": [[1]]}}).json["data"]["ndarray"] == [[1]]
    feedback = post(client, "/api/v1.0/feedback", {"request": {"data": {"ndarray": [[1]]}}, "reward": 1})
    assert feedback.json == {"data": {"ndarray": []}, "meta": {}}
    for path, body in (
        ("/route", {"data": {"ndarray": [[1]]}}),
        ("/aggregate", [{"data": {"ndarray": [[1]]}}]),
    ):
        response = post(client, path, body)
        assert (response.status_code, response.json["status"]["info"]) == (400, "not here")


def test_seldon_component_defaults():
    in_page(
        "`route is not implemented` / `aggregate is not implemented` instead of `Route not defined` /",
        'its `health_status` answers `"not implemented - assuming healthy"`',
    )

    class Sub(SeldonComponent):
        def predict(self, X, names):
            return X

    client = rest_client(Sub())
    for path, body, info in (
        ("/route", {"data": {"ndarray": [[1]]}}, "route is not implemented"),
        ("/aggregate", [{"data": {"ndarray": [[1]]}}], "aggregate is not implemented"),
    ):
        response = post(client, path, body)
        assert (response.status_code, response.json["status"]["info"]) == (400, info)
    assert client.get("/health/status").json == {"meta": {}, "strData": "not implemented - assuming healthy"}
    assert post(client, PREDICT, {"data": {"ndarray": [[1, 2]]}}).json["data"]["ndarray"] == [[1, 2]]


# -- errors ------------------------------------------------------------------------------------


ERROR_ROWS = tables(PAGE, ["your method raises", "REST status", "REST body", "gRPC status: details"])


@pytest.mark.parametrize("row", ERROR_ROWS, ids=lambda r: code(r[0])[0])
def test_errors(rest, stub, row):
    raises, status, body, grpc_answer = (code(cell)[0] for cell in row)

    def fail():
        raise evaluate(raises)

    BOARD.answer = fail
    response = post(rest, PREDICT, {"data": {"ndarray": [1]}})
    assert (response.status_code, response.get_data(as_text=True).rstrip("\n")) == (int(status), body)
    with pytest.raises(grpc.RpcError) as error:
        grpc_predict(stub, '{"data":{"ndarray":[1]}}')
    assert f"{error.value.code().name}: {error.value.details()}" == grpc_answer


# -- the examples ------------------------------------------------------------------------------


EXAMPLES = parse_page(PAGE)


def test_every_block_of_the_page_is_a_tested_example():
    assert EXAMPLES.problems == []
    assert len(EXAMPLES.examples) >= 10


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("example", EXAMPLES.examples, ids=str)
def test_examples(example, entry):
    run_example(example, entry)


def test_deprecated_rest_and_grpc_methods():
    in_page(
        "`predict_rest` serves REST only and `predict_grpc` gRPC only; for the other methods the `_rest`"
        " variant serves both transports, and wins over `_grpc`."
    )
    calls = []

    class Legacy:
        def predict_rest(self, request):
            calls.append("predict_rest")
            return request

        def predict_grpc(self, request):
            calls.append("predict_grpc")
            return request

        def transform_input_rest(self, request):
            calls.append("transform_input_rest")
            return request

        def transform_input_grpc(self, request):
            calls.append("transform_input_grpc")
            return request

    client = rest_client(Legacy())
    assert post(client, PREDICT, {"strData": "x"}).json == {"strData": "x"}
    assert post(client, "/transform-input", {"strData": "x"}).json == {"strData": "x"}
    with grpc_server(Legacy()) as address, grpc.insecure_channel(address) as channel:
        request = prediction_pb2.SeldonMessage(strData="x")
        assert prediction_pb2_grpc.ModelStub(channel).Predict(request, timeout=10) == request
        assert prediction_pb2_grpc.GenericStub(channel).TransformInput(request, timeout=10) == request
    assert calls == ["predict_rest", "transform_input_rest", "predict_grpc", "transform_input_rest"]


# -- health, metadata, raw methods, metrics: the rest of the page's claims ----------------------


class Recorder:
    """A metrics recorder that keeps what the dataplane records."""

    def __init__(self) -> None:
        self.metrics: list = []
        self.rewards: list = []

    def record(self, metrics, method):
        self.metrics.append((method, [dict(metric) for metric in metrics]))

    def record_feedback(self, reward):
        self.rewards.append(reward)

    def record_request(self, *args):
        pass

    def record_refused(self, limit):
        pass


def test_health_status_forms():
    in_page(
        "`health_status_raw()` is answered as it returns, without encoding.",
        "A returned `SeldonResponse` works the same from `predict`, `transform_input`, `transform_output`,"
        " `route` (its `data` must be the branch `int`), `aggregate`, `send_feedback` and `health_status`.",
    )

    class Raw:
        def health_status_raw(self):
            return {"custom": ["shape"]}

    class Wrapped:
        def health_status(self):
            return SeldonResponse("fine", tags={"checked": "yes"})

    assert rest_client(Raw()).get("/health/status").json == {"custom": ["shape"]}
    wrapped = rest_client(Wrapped()).get("/api/v1.0/health/status").json
    assert wrapped == {"meta": {"tags": {"checked": "yes"}}, "strData": "fine"}


def test_seldon_response_from_route_aggregate_and_feedback():
    class Everything:
        def route(self, X, names):
            return SeldonResponse(1, tags={"by": "route"})

        def aggregate(self, features_list, names_list):
            return SeldonResponse(features_list[0], tags={"by": "aggregate"})

        def send_feedback(self, features, names, reward, truth, routing=None):
            return SeldonResponse([], tags={"by": "feedback"})

    client = rest_client(Everything())
    route = post(client, "/route", {"data": {"ndarray": [[1]]}}).json
    assert route == {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {"tags": {"by": "route"}}}
    aggregate = post(client, "/aggregate", [{"data": {"ndarray": [[1]]}}]).json
    assert aggregate["meta"] == {"tags": {"by": "aggregate"}}
    feedback = post(client, "/api/v1.0/feedback", {"request": {"data": {"ndarray": [[1]]}}, "reward": 1}).json
    assert feedback["meta"] == {"tags": {"by": "feedback"}}


def test_metadata_rules():
    in_page(
        "The top-level keys of `MODEL_METADATA` (YAML or JSON) win over those of `init_metadata()`.",
        "with invalid metadata `/metadata` answers 500 `MICROSERVICE_BAD_METADATA`",
        "A return value that is not a dict is logged and ignored.",
    )

    class Named:
        def init_metadata(self):
            return {"name": "from-class", "platform": "numpy"}

    settings = Settings.from_env({"MODEL_METADATA": "name: from-env\nversions: [v2]\n"})
    metadata = rest_client(Named(), settings=settings).get("/metadata").json
    assert (metadata["name"], metadata["versions"], metadata["platform"]) == ("from-env", ["v2"], "numpy")

    class Invalid:
        def init_metadata(self):
            return {"inputs": "not a list"}

    response = rest_client(Invalid()).get("/metadata")
    assert (response.status_code, response.json["status"]["reason"]) == (500, "MICROSERVICE_BAD_METADATA")

    class NotADict:
        def init_metadata(self):
            return ["not", "a", "dict"]

    assert rest_client(NotADict()).get("/metadata").json["name"] == ""


def test_what_raw_methods_get():
    seen = []

    class Raw:
        def predict_raw(self, msg):
            seen.append(("predict_raw", type(msg).__name__))
            return msg

        def aggregate_raw(self, msgs):
            seen.append(("aggregate_raw", type(msgs).__name__))
            if isinstance(msgs, prediction_pb2.SeldonMessageList):
                return prediction_pb2.SeldonMessage(strData="combined")
            return {"strData": "combined"}

        def send_feedback_raw(self, feedback):
            seen.append(("send_feedback_raw", type(feedback).__name__))
            return prediction_pb2.SeldonMessage(strData="thanks")

    client = rest_client(Raw())
    assert post(client, PREDICT, {"strData": "x"}).json == {"strData": "x"}
    assert post(client, "/aggregate", [{"strData": "x"}]).json == {"strData": "combined"}
    assert post(client, "/aggregate", {"seldonMessages": [{"strData": "x"}]}).json == {"strData": "combined"}
    feedback = post(client, "/api/v1.0/feedback", {"request": {"strData": "x"}, "reward": 1})
    assert feedback.json == {"strData": "thanks"}
    with grpc_server(Raw()) as address, grpc.insecure_channel(address) as channel:
        request = prediction_pb2.SeldonMessage(strData="y")
        assert prediction_pb2_grpc.ModelStub(channel).Predict(request, timeout=10) == request
        messages = prediction_pb2.SeldonMessageList(seldonMessages=[request])
        assert prediction_pb2_grpc.CombinerStub(channel).Aggregate(messages, timeout=10).strData == "combined"
    assert seen == [
        ("predict_raw", "dict"),
        ("aggregate_raw", "list"),
        ("aggregate_raw", "dict"),
        ("send_feedback_raw", "Feedback"),
        ("predict_raw", "SeldonMessage"),
        ("aggregate_raw", "SeldonMessageList"),
    ]


def test_passthrough_hands_predict_raw_the_body():
    in_page(
        "with `PAYLOAD_PASSTHROUGH=true`, `predict_raw` gets the body's `bytes`"
        " (or the `json=` field's `str`)",
        "with passthrough, `bytes` or `str` are sent verbatim",
    )
    seen = []

    class Passthrough:
        def predict_raw(self, msg):
            seen.append(msg)
            return b"raw answer" if isinstance(msg, bytes) else "text answer"

    client = rest_client(Passthrough(), settings=Settings.from_env({"PAYLOAD_PASSTHROUGH": "true"}))
    assert (
        client.post(PREDICT, data=b"\x00anything", content_type="application/octet-stream").data
        == b"raw answer"
    )
    assert client.post("/predict", data={"json": '{"a": 1}'}).data == b"text answer"
    assert seen == [b"\x00anything", '{"a": 1}']


def test_metrics_are_recorded():
    in_page(
        "Custom metrics in the answer's `meta.metrics` are recorded in Prometheus.",
        "`metrics` are recorded in Prometheus and listed in `meta.metrics` after those of `metrics()`",
        "A non-zero `reward` is also added to the `seldon_api_model_feedback_reward_total` counter",
    )
    runtime = {"type": "GAUGE", "key": "runtime", "value": 2}
    static = {"type": "COUNTER", "key": "static", "value": 1}
    raw = {"type": "COUNTER", "key": "raw", "value": 1}

    class Measured:
        def predict(self, X, names):
            return SeldonResponse(X, metrics=[dict(runtime)])

        def metrics(self):
            return [dict(static)]

        def transform_input_raw(self, msg):
            return {"strData": "x", "meta": {"metrics": [dict(raw)]}}

    recorder = Recorder()
    client = rest_client(Measured(), recorder=recorder)
    answer = post(client, PREDICT, {"data": {"ndarray": [1]}}).json
    assert answer["meta"]["metrics"] == [static, runtime]
    assert post(client, "/transform-input", {"strData": "x"}).json["meta"]["metrics"] == [raw]
    post(client, "/api/v1.0/feedback", {"request": {"data": {"ndarray": [1]}}, "reward": 0.5})
    post(client, "/api/v1.0/feedback", {"request": {"data": {"ndarray": [1]}}, "reward": 0})
    assert recorder.metrics[:3] == [("predict", [runtime]), ("predict", [static]), ("inputtransform", [raw])]
    assert recorder.rewards == [0.5]
