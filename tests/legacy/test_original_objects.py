"""Objects and helpers the original's users read in their tests: what ``SeldonMetrics`` recorded,
``class_names`` and methods set on the instance, the ``utils`` response builders, the
``gunicorn_utils`` hooks and the ``microservice`` helpers."""

import atexit
import json
import logging
import multiprocessing.util
import os

import numpy as np
import pytest
from google.protobuf import json_format

from seldon_core import gunicorn_utils, microservice
from seldon_core import utils as scu
from seldon_core.metrics import BINS, SeldonMetrics
from seldon_core.proto import prediction_pb2
from seldon_core.user_model import SeldonComponent, client_class_names
from seldon_core.wrapper import SeldonModelGRPC, get_rest_microservice

METRICS = [
    {"type": "COUNTER", "key": "mycounter", "value": 1},
    {"type": "GAUGE", "key": "mygauge", "value": 100},
    {"type": "TIMER", "key": "mytimer", "value": 20.2},
    {"type": "GAUGE", "key": "customtag", "value": 200, "tags": {"mytag": "mytagvalue"}},
]


class UserObject:
    def predict(self, X, features_names):
        return X

    def metrics(self):
        return [dict(m, tags=dict(m["tags"])) if "tags" in m else dict(m) for m in METRICS]


def verify_seldon_metrics(data, counter, timer_entries, method):
    assert data["GAUGE", "mygauge", f"method-{method}"]["value"] == 100
    tagged = data["GAUGE", "customtag", f"method-{method}_mytag-mytagvalue"]
    assert tagged == {"value": 200, "tags": {"mytag": "mytagvalue", "method": method}}
    assert data["COUNTER", "mycounter", f"method-{method}"]["value"] == counter
    counts, total = data["TIMER", "mytimer", f"method-{method}"]["value"]
    assert np.allclose(np.histogram(timer_entries, BINS)[0], counts)
    assert np.isclose(total, np.sum(timer_entries))


def test_seldon_metrics_data_after_rest_predictions(client_gets_metrics):
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObject(), seldon_metrics).test_client()
    for calls in (1, 2):
        rv = client.get('/predict?json={"data": {"names": ["input"], "ndarray": ["data"]}}')
        assert rv.status_code == 200
        assert ("metrics" in rv.get_json()["meta"]) == client_gets_metrics
        verify_seldon_metrics(seldon_metrics.data[os.getpid()], calls, [0.0202] * calls, "predict")


def test_seldon_metrics_data_after_grpc_predictions(client_gets_metrics):
    seldon_metrics = SeldonMetrics()
    app = SeldonModelGRPC(UserObject(), seldon_metrics)
    datadef = prediction_pb2.DefaultData(tensor=prediction_pb2.Tensor(shape=(2, 1), values=[1, 2]))
    resp = app.Predict(prediction_pb2.SeldonMessage(data=datadef), None)
    assert ("metrics" in json.loads(json_format.MessageToJson(resp))["meta"]) == client_gets_metrics
    verify_seldon_metrics(seldon_metrics.data[os.getpid()], 1, [0.0202], "predict")


def test_seldon_metrics_data_after_feedback():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObject(), seldon_metrics).test_client()
    for total in (42.0, 84.0):
        assert client.get('/send-feedback?json={"reward": 42}').status_code == 200
        data = seldon_metrics.data[os.getpid()]
        key = ("COUNTER", "seldon_api_model_feedback_reward", "method-feedback")
        assert data[key] == {"value": total, "tags": {"method": "feedback"}}


def test_seldon_metrics_per_worker_and_clear():
    worker = {"id": 1}
    seldon_metrics = SeldonMetrics(worker_id_func=lambda: worker["id"])
    seldon_metrics.update([{"type": "COUNTER", "key": "c", "value": 1}], "predict")
    worker["id"] = 2
    seldon_metrics.update([{"type": "COUNTER", "key": "c", "value": 5}], "predict")
    assert {w: d[("COUNTER", "c", "method-predict")]["value"] for w, d in seldon_metrics.data.items()} == {
        1: 1,
        2: 5,
    }
    seldon_metrics.clear()  # worker 2's only
    assert list(seldon_metrics.data) == [1]
    text = seldon_metrics.generate_metrics()[0]
    assert 'worker_id="1"' in text and 'worker_id="2"' not in text


def test_generate_tags_key():
    assert SeldonMetrics._generate_tags_key({"b": "b", "a": "a"}) == "a-a_b-b"
    assert SeldonMetrics._generate_tags_key({"method": "predict"}) == "method-predict"
    assert SeldonMetrics._generate_tags_key({}) == ""


def test_class_names_set_on_the_instance():
    class Model(SeldonComponent):
        def __init__(self):
            self.class_names = ["a", "b"]

        def predict(self, X, names):
            return X

    assert client_class_names(Model(), np.array([[1, 2], [3, 4]])) == ["a", "b"]
    client = get_rest_microservice(Model(), SeldonMetrics()).test_client()
    answer = client.get('/predict?json={"data":{"ndarray":[[1,2]]}}').get_json()
    assert answer["data"]["names"] == ["a", "b"]


def test_method_set_on_the_instance():
    class Model(SeldonComponent):
        def __init__(self):
            self.predict = lambda X, names: X * 2

    client = get_rest_microservice(Model(), SeldonMetrics()).test_client()
    answer = client.get('/predict?json={"data":{"ndarray":[1,2]}}').get_json()
    assert answer["data"]["ndarray"] == [2, 4]


def test_create_rest_response_tensor():
    class Model:
        def predict(self, X, names):
            return X

    request = {"data": {"tensor": {"values": [1, 2, 3], "shape": [3]}, "names": []}}
    response = scu.construct_response_json(Model(), True, request, np.array([1, 2, 3]))
    assert response["data"]["tensor"] == {"values": [1, 2, 3], "shape": (3,)}
    assert np.array_equal(response["data"]["tensor"], {"values": [1, 2, 3], "shape": (3,)})
    assert json.loads(json.dumps(response))["data"]["tensor"]["shape"] == [3]


def test_gunicorn_worker_exit_clears_the_worker_metrics():
    seldon_metrics = SeldonMetrics()
    seldon_metrics.update([{"type": "GAUGE", "key": "g", "value": 3}], "predict")
    assert os.getpid() in seldon_metrics.data
    gunicorn_utils.worker_exit(None, None, seldon_metrics)
    assert seldon_metrics.data == {}
    assert seldon_metrics.generate_metrics()[0] == ""


def test_gunicorn_post_worker_init_drops_the_multiprocessing_exit_handler(mocker):
    unregister = mocker.patch.object(atexit, "unregister")
    gunicorn_utils.post_worker_init(object())
    unregister.assert_called_once_with(multiprocessing.util._exit_function)


@pytest.mark.parametrize(("flag", "expected"), [(True, "-"), (False, None)])
def test_gunicorn_accesslog(flag, expected):
    assert gunicorn_utils.accesslog(flag) == expected


@pytest.mark.parametrize(("threads", "single", "expected"), [(10, False, 10), (10, True, 1), (1, False, 1)])
def test_gunicorn_threads(threads, single, expected):
    assert gunicorn_utils.threads(threads, single) == expected


def test_standalone_application_takes_known_options():
    app = object()
    options = {"bind": "127.0.0.1:0", "workers": 3, "threads": None, "not_a_setting": 1}
    application = gunicorn_utils.StandaloneApplication(app, options)
    assert application.cfg.bind == ["127.0.0.1:0"]
    assert application.cfg.workers == 3
    assert application.cfg.threads == 1  # None is skipped: Gunicorn's default stays
    assert application.load() is app


def test_user_model_application_loads_the_model_once_per_load():
    class Model:
        loads = 0

        def load(self):
            Model.loads += 1

    class NoLoad:
        pass

    app = object()
    application = gunicorn_utils.UserModelApplication(app, Model(), 0, None, "Model", {"workers": 1})
    assert application.load() is app and Model.loads == 1
    no_load = gunicorn_utils.UserModelApplication(app, NoLoad(), 0, None, "NoLoad", {})
    assert no_load.load() is app


@pytest.mark.parametrize(("text", "value"), [("yes", 1), ("True", 1), ("1", 1), ("off", 0), ("n", 0)])
def test_strtobool(text, value):
    assert microservice.strtobool(text) == value


def test_strtobool_refuses_other_words():
    with pytest.raises(ValueError, match="invalid truth value 'maybe'"):
        microservice.strtobool("maybe")


def test_metrics_endpoint_filter_reads_the_wrapper_endpoint(monkeypatch):
    monkeypatch.setattr("seldon_core.wrapper.METRICS_ENDPOINT", "/prometheus")
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "GET /prometheus 200", None, None)
    assert microservice.MetricsEndpointFilter().filter(record) is False
    record.msg = "GET /predict 200"
    assert microservice.MetricsEndpointFilter().filter(record) is True


def test_setup_logger_sets_levels_and_filters(monkeypatch):
    monkeypatch.delenv("SELDON_LOG_LEVEL", raising=False)
    monkeypatch.delenv("FILTER_METRICS_ACCESS_LOGS", raising=False)
    root, werkzeug = logging.getLogger(), logging.getLogger("werkzeug")
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(werkzeug, "level", werkzeug.level)
    monkeypatch.setattr(werkzeug, "filters", [])
    access = logging.getLogger("gunicorn.access")
    monkeypatch.setattr(access, "filters", [])
    assert microservice.setup_logger("debug", debug_mode=False) is microservice.logger
    assert root.level == logging.DEBUG and werkzeug.level == logging.DEBUG
    assert any(isinstance(f, microservice.MetricsEndpointFilter) for f in access.filters)
    with pytest.raises(ValueError):
        microservice.setup_logger("loud", debug_mode=False)


def test_start_servers_runs_each_target(tmp_path):
    def writer(name):
        return lambda: (tmp_path / name).write_text(name)

    microservice.start_servers(writer("one"), writer("two"), writer("three"), writer("metrics"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics", "one", "three", "two"]


def test_parse_args_reads_the_original_flags(monkeypatch):
    monkeypatch.setattr(
        "sys.argv", ["seldon-core-microservice", "MyModel", "--service-type", "ROUTER", "--http-port", "9100"]
    )
    args, unknown = microservice.parse_args()
    assert (args.interface_name, args.service_type, args.http_port) == ("MyModel", "ROUTER", 9100)
    assert unknown == []
