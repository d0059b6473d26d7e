"""seldon_core/batch_processor.py without a server: options, line formats, retries, the run's plumbing."""

from __future__ import annotations

import io
import json
import threading

import numpy as np
import pytest
import requests

from seldon_core import batch_processor as bp
from seldon_core.seldon_client import SeldonClientException


class Result:
    def __init__(self, response=None, success=True, msg=""):
        self.response, self.success, self.msg = response, success, msg


class FakeClient:
    """Answers each call with ``answer(kwargs, call_number)``; records the calls."""

    def __init__(self, answer=None, feedback=None):
        self.answer = answer or (lambda kwargs, n: Result(echo(kwargs)))
        self.feedback_answer = feedback or (
            lambda kwargs, n: Result({"data": {"ndarray": [[1]]}, "meta": {}})
        )
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def predict(self, **kwargs):
        with self.lock:
            self.calls.append(kwargs)
            n = len(self.calls)
        return self.answer(kwargs, n)

    def feedback(self, **kwargs):
        with self.lock:
            self.calls.append(kwargs)
            n = len(self.calls)
        return self.feedback_answer(kwargs, n)


def echo(kwargs):
    """A server's answer to a data request: the data doubled, the request's tags echoed."""
    if "raw_data" in kwargs:
        return kwargs["raw_data"]
    return {
        "data": {"names": [], "ndarray": (kwargs["data"] * 2).tolist()},
        "meta": {"tags": dict(kwargs["meta"])},
    }


def requester(client, method="predict", data_type="data", payload_type="ndarray", retries=3):
    return bp._Requester(client, method, data_type, payload_type, retries, "B")


def line(index, value, instance="id"):
    return bp._Line(
        index, f"{instance}{index}", value if isinstance(value, str) else json.dumps(value) + "\n"
    )


def parsed(outputs):
    return [(json.loads(text), ok) for text, ok in outputs]


# ------------------------------------------------------------------------------------------------
# options
# ------------------------------------------------------------------------------------------------

DEFAULTS = {
    "deployment_name": "dep",
    "gateway_type": "istio",
    "namespace": "default",
    "host": "istio-ingressgateway.istio-system.svc.cluster.local:80",
    "transport": "rest",
    "data_type": "data",
    "payload_type": "ndarray",
    "workers": 1,
    "retries": 3,
    "batch_size": 1,
    "input_data_path": "/assets/input-data.txt",
    "output_data_path": "/assets/output-data.txt",
    "method": "predict",
    "log_level": "info",
    "benchmark": False,
    "batch_interval": 0.0,
    "call_credentials_token": "",
    "use_ssl": False,
    "ssl_verify": True,
}


def test_defaults_are_the_originals():
    options = bp.parse_options(["-d", "dep"], environ={})
    batch_id = options.pop("batch_id")
    assert options == DEFAULTS
    assert len(batch_id) == 36


def test_every_option_has_the_original_flags_and_environment_variable():
    argv = "-d D -g seldon -n ns -h h:1 --transport grpc -a raw -p tensor -w 4 -r 5 -i in -o out -m feedback"
    argv += " -l debug -b -u U -s 3 --batch-interval 0.5 --use-ssl true --call-credentials-token T"
    argv += " --ssl-verify no"
    options = bp.parse_options(argv.split(), environ={})
    assert options == {
        "deployment_name": "D",
        "gateway_type": "seldon",
        "namespace": "ns",
        "host": "h:1",
        "transport": "grpc",
        "data_type": "raw",
        "payload_type": "tensor",
        "workers": 4,
        "retries": 5,
        "input_data_path": "in",
        "output_data_path": "out",
        "method": "feedback",
        "log_level": "debug",
        "benchmark": True,
        "batch_id": "U",
        "batch_size": 3,
        "batch_interval": 0.5,
        "use_ssl": True,
        "call_credentials_token": "T",
        "ssl_verify": False,
    }
    environ = {
        "SELDON_BATCH_DEPLOYMENT_NAME": "D",
        "SELDON_BATCH_GATEWAY_TYPE": "seldon",
        "SELDON_BATCH_NAMESPACE": "ns",
        "SELDON_BATCH_HOST": "h:1",
        "SELDON_BATCH_TRANSPORT": "grpc",
        "SELDON_BATCH_DATA_TYPE": "raw",
        "SELDON_BATCH_PAYLOAD_TYPE": "tensor",
        "SELDON_BATCH_WORKERS": "4",
        "SELDON_BATCH_RETRIES": "5",
        "SELDON_BATCH_INPUT_DATA_PATH": "in",
        "SELDON_BATCH_OUTPUT_DATA_PATH": "out",
        "SELDON_BATCH_METHOD": "feedback",
        "SELDON_BATCH_LOG_LEVEL": "debug",
        "SELDON_BATCH_BENCHMARK": "1",
        "SELDON_BATCH_ID": "U",
        "SELDON_BATCH_SIZE": "3",
        "SELDON_BATCH_MIN_INTERVAL": "0.5",
        "SELDON_BATCH_USE_SSL": "True",
        "SELDON_BATCH_CALL_CREDENTIALS_TOKEN": "T",
        "SELDON_BATCH_SSL_VERIFY": "off",
    }
    assert bp.parse_options([], environ=environ) == options


def test_flags_win_over_the_environment_and_empty_variables_are_unset():
    environ = {"SELDON_BATCH_WORKERS": "8", "SELDON_BATCH_RETRIES": "", "SELDON_BATCH_DEPLOYMENT_NAME": "env"}
    options = bp.parse_options(["-w", "2", "-d", "flag"], environ=environ)
    assert (options["workers"], options["retries"], options["deployment_name"]) == (2, 3, "flag")


@pytest.mark.parametrize(
    "argv, transport, interval",
    [(["-t", "grpc"], "grpc", 0.0), (["-t", "0.25"], "rest", 0.25), (["-t", "grpc", "-t", "2"], "grpc", 2.0)],
)
def test_t_sets_the_transport_or_the_interval(argv, transport, interval):
    options = bp.parse_options(["-d", "x", *argv], environ={})
    assert (options["transport"], options["batch_interval"]) == (transport, interval)


@pytest.mark.parametrize(
    "argv, environ, message",
    [
        ([], {}, "--deployment-name"),
        (["-d", "x", "-g", "nginx"], {}, "'nginx' is not one of"),
        (["-d", "x", "-w", "two"], {}, "invalid"),
        (["-d", "x", "--use-ssl", "maybe"], {}, "not a valid boolean"),
        (["-d", "x", "-t", "http"], {}, "neither rest, grpc"),
        (["-d", "x"], {"SELDON_BATCH_WORKERS": "many"}, "SELDON_BATCH_WORKERS"),
        (["-d", "x"], {"SELDON_BATCH_METHOD": "raw"}, "SELDON_BATCH_METHOD"),
        (["-d", "x", "--deploy", "y"], {}, "unrecognized"),
    ],
)
def test_bad_options_are_usage_errors(capsys, argv, environ, message):
    with pytest.raises(SystemExit) as exit_info:
        bp.parse_options(argv, environ=environ)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_is_long_only(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bp.parse_options(["--help"], environ={})
    assert exit_info.value.code == 0
    assert "SELDON_BATCH_MIN_INTERVAL" in capsys.readouterr().out
    assert bp.parse_options(["-d", "x", "-h", "host:9"], environ={})["host"] == "host:9"


def test_public_names_of_the_original_remain():
    assert bp.CHOICES_GATEWAY_TYPE == ["ambassador", "istio", "seldon"]
    assert bp.CHOICES_TRANSPORT == ["rest", "grpc"]
    assert bp.CHOICES_PAYLOAD_TYPE == ["ndarray", "tensor", "tftensor"]
    assert bp.CHOICES_DATA_TYPE == ["data", "json", "str", "raw"]
    assert bp.CHOICES_METHOD == ["predict", "feedback"]
    assert list(bp.CHOICES_LOG_LEVEL) == ["debug", "info", "warning", "error"]
    assert bp.SELDON_PUID_HEADER == "seldon-puid"
    for name in ("run_cli", "start_multithreaded_batch_worker", "setup_logging", "SeldonClient", "logger"):
        assert hasattr(bp, name)


# ------------------------------------------------------------------------------------------------
# one line at a time
# ------------------------------------------------------------------------------------------------


def test_a_data_line_is_sent_with_its_tags_and_written_as_answered():
    client = FakeClient()
    [(output, ok)] = parsed(requester(client).process([line(7, [[1, 2]])]))
    [call] = client.calls
    assert call["data"].tolist() == [[1, 2]]
    assert call["meta"] == {"batch_id": "B", "batch_instance_id": "id7", "batch_index": 7}
    assert call["headers"] == {"seldon-puid": "id7"}
    assert ok and output == {"data": {"names": [], "ndarray": [[2, 4]]}, "meta": {"tags": call["meta"]}}


def test_an_answer_without_tags_gets_them_and_server_tags_are_kept():
    client = FakeClient(
        lambda kwargs, n: Result({"meta": {"tags": {"batch_index": 7.0, "m": 1}}, "jsonData": 1})
    )
    [(output, _)] = parsed(requester(client).process([line(7, [[1]])]))
    assert output["meta"]["tags"] == {"batch_index": 7.0, "m": 1, "batch_id": "B", "batch_instance_id": "id7"}
    client = FakeClient(lambda kwargs, n: Result({"meta": {}, "data": {"ndarray": []}}))
    [(output, _)] = parsed(requester(client).process([line(3, [[1]])]))
    assert output["meta"] == {"tags": {"batch_id": "B", "batch_instance_id": "id3", "batch_index": 3}}


@pytest.mark.parametrize(
    "data_type, key, value", [("str", "str_data", "hello"), ("json", "json_data", {"a": [1]})]
)
def test_str_and_json_lines(data_type, key, value):
    client = FakeClient(lambda kwargs, n: Result({"strData": "ok"}))
    requester(client, data_type=data_type).process([line(0, json.dumps(value))])  # "hello" is a JSON string
    assert client.calls[0][key] == value


def test_raw_lines_get_the_batch_tags_over_their_own():
    client = FakeClient()
    raw = {"jsonData": {"x": 1}, "meta": {"tags": {"mine": 1, "batch_id": "theirs"}}}
    [(output, ok)] = parsed(requester(client, data_type="raw").process([line(2, raw)]))
    sent = client.calls[0]["raw_data"]
    assert sent["meta"]["tags"] == {"mine": 1, "batch_id": "B", "batch_instance_id": "id2", "batch_index": 2}
    assert ok and output["jsonData"] == {"x": 1}
    [(output, ok)] = parsed(requester(client, data_type="raw").process([line(3, [1, 2])]))
    assert not ok and "JSON objects" in output["status"]["reason"]


def failing(times, msg="500:INTERNAL SERVER ERROR", body=None):
    def answer(kwargs, n):
        if n <= times:
            return Result(body, False, msg)
        return Result(echo(kwargs))

    return answer


def test_a_failed_request_is_attempted_retries_times_in_all():
    client = FakeClient(failing(2))
    [(output, ok)] = parsed(requester(client, retries=3).process([line(0, [[1]])]))
    assert ok and len(client.calls) == 3 and output["data"]["ndarray"] == [[2]]

    body = {"status": {"code": -1, "info": "boom", "reason": "MICROSERVICE_INTERNAL_ERROR", "status": 1}}
    client = FakeClient(failing(5, body=body))
    [(output, ok)] = parsed(requester(client, retries=2).process([line(4, [[1]])]))
    assert not ok and len(client.calls) == 2
    assert output == {
        "status": {"info": "FAILURE", "reason": "500:INTERNAL SERVER ERROR: boom", "status": 1},
        "meta": {"batch_id": "B", "batch_instance_id": "id4", "batch_index": 4},
    }


@pytest.mark.parametrize("retries", [0, -1])
def test_no_retries_still_means_one_attempt(retries):
    client = FakeClient(failing(1))
    [(output, ok)] = parsed(requester(client, retries=retries).process([line(0, [[1]])]))
    assert not ok and len(client.calls) == 1 and output["status"]["reason"] == "500:INTERNAL SERVER ERROR"


def test_connection_errors_are_retried_client_errors_are_not():
    def refuse(kwargs, n):
        if n == 1:
            raise requests.exceptions.ConnectionError("refused")
        return Result(echo(kwargs))

    client = FakeClient(refuse)
    [(_, ok)] = parsed(requester(client).process([line(0, [[1]])]))
    assert ok and len(client.calls) == 2

    def reject(kwargs, n):
        raise SeldonClientException("bad arguments")

    client = FakeClient(reject)
    [(output, ok)] = parsed(requester(client).process([line(0, [[1]])]))
    assert not ok and len(client.calls) == 1 and output["status"]["reason"] == "bad arguments"


def test_unparseable_lines_fail_without_a_request():
    client = FakeClient()
    [(output, ok)] = parsed(requester(client).process([line(0, "{oops\n")]))
    assert not ok and client.calls == [] and output["meta"]["batch_index"] == 0


# ------------------------------------------------------------------------------------------------
# mini-batches
# ------------------------------------------------------------------------------------------------


def test_mini_batch_ndarray_is_one_request_split_per_line():
    client = FakeClient()
    lines = [line(10 + i, [[i, i]], instance="p") for i in range(3)]
    outputs = parsed(requester(client).process(lines))
    [call] = client.calls
    assert call["data"].tolist() == [[0, 0], [1, 1], [2, 2]]
    assert call["meta"] == {"batch_id": "B"} and call["headers"] == {"seldon-puid": "p10"}
    assert [(o["data"]["ndarray"], o["meta"]["tags"]) for o, _ in outputs] == [
        ([[2 * i, 2 * i]], {"batch_id": "B", "batch_index": 10 + i, "batch_instance_id": f"p10-item-{i}"})
        for i in range(3)
    ]


def test_mini_batch_tensor_answers_are_split_by_row():
    def tensor(kwargs, n):
        data = kwargs["data"] * 2
        values = data.ravel().tolist()
        return Result({"data": {"tensor": {"shape": list(data.shape), "values": values}}, "meta": {}})

    outputs = parsed(
        requester(FakeClient(tensor), payload_type="tensor").process([line(i, [[i, 1]]) for i in range(2)])
    )
    assert [o["data"]["tensor"] for o, _ in outputs] == [
        {"shape": [1, 2], "values": [0, 2]},
        {"shape": [1, 2], "values": [2, 2]},
    ]
    assert [o["meta"]["tags"]["batch_index"] for o, _ in outputs] == [0, 1]


def test_mini_batch_raw_rows_are_merged_and_keep_their_tags():
    client = FakeClient(lambda kwargs, n: Result({**kwargs["raw_data"], "meta": {"tags": {"model": "m"}}}))
    raws = [
        {"data": {"names": ["a", "b"], "ndarray": [[i, i]]}, "meta": {"tags": {"line": i, "model": "input"}}}
        for i in range(2)
    ]
    outputs = parsed(requester(client, data_type="raw").process([line(i, raw) for i, raw in enumerate(raws)]))
    assert client.calls[0]["raw_data"] == {
        "data": {"names": ["a", "b"], "ndarray": [[0, 0], [1, 1]]},
        "meta": {"tags": {"batch_id": "B"}},
    }
    assert [o["meta"]["tags"] for o, _ in outputs] == [
        {"line": i, "model": "m", "batch_index": i, "batch_instance_id": f"id0-item-{i}"} for i in range(2)
    ]

    tensors = [{"data": {"tensor": {"shape": [1, 2], "values": [i, i]}}} for i in range(2)]
    client = FakeClient(lambda kwargs, n: Result(kwargs["raw_data"]))
    requester(client, data_type="raw").process([line(i, raw) for i, raw in enumerate(tensors)])
    assert client.calls[0]["raw_data"]["data"] == {
        "names": [],
        "tensor": {"shape": [2, 2], "values": [0, 0, 1, 1]},
    }


@pytest.mark.parametrize(
    "values, data_type, reason",
    [
        ([[[1]], [[1], [2]]], "data", "each row should contain single instance"),
        ([[[1]], "x"], "data", "Expecting value"),
        ([{"jsonData": 1}, {"jsonData": 2}], "raw", "requires data payload"),
        (
            [{"data": {"ndarray": [[1]]}}, {"data": {"tensor": {"shape": [1, 1], "values": [1]}}}],
            "raw",
            "ndarray",
        ),
        (
            [{"data": {"names": ["a"], "ndarray": [[1]]}}, {"data": {"names": ["b"], "ndarray": [[1]]}}],
            "raw",
            "names",
        ),
    ],
)
def test_a_bad_mini_batch_fails_every_one_of_its_lines(values, data_type, reason):
    client = FakeClient()
    lines = [line(5 + i, value) for i, value in enumerate(values)]
    outputs = parsed(requester(client, data_type=data_type).process(lines))
    assert client.calls == []
    assert [ok for _, ok in outputs] == [False, False]
    assert [o["meta"]["batch_index"] for o, _ in outputs] == [5, 6]
    assert all(reason in o["status"]["reason"] for o, _ in outputs)


def test_a_short_mini_batch_answer_fails_only_the_missing_lines():
    client = FakeClient(lambda kwargs, n: Result({"data": {"ndarray": [[1]]}, "meta": {"tags": {}}}))
    outputs = parsed(requester(client).process([line(i, [[i]]) for i in range(2)]))
    assert [ok for _, ok in outputs] == [True, False]
    assert outputs[1][0]["meta"] == {"batch_index": 1, "batch_instance_id": "id0-item-1", "batch_id": "B"}


def test_mini_batch_tftensor_answers_cannot_be_split():
    outputs = parsed(
        requester(FakeClient(), payload_type="tftensor").process([line(i, [[i]]) for i in range(2)])
    )
    assert all(not ok and "Only `ndarray` and `tensor`" in o["status"]["reason"] for o, ok in outputs)


def test_an_exhausted_mini_batch_fails_each_line():
    client = FakeClient(failing(9))
    outputs = parsed(requester(client, retries=2).process([line(i, [[i]]) for i in range(3)]))
    assert len(client.calls) == 2
    assert [o["meta"]["batch_index"] for o, ok in outputs if not ok] == [0, 1, 2]


# ------------------------------------------------------------------------------------------------
# feedback
# ------------------------------------------------------------------------------------------------


def test_feedback_lines_are_sent_raw_and_tagged_in_the_output():
    client = FakeClient(feedback=lambda kwargs, n: Result({"meta": {"tags": {"batch_id": "x", "m": 1}}}))
    feedback = {"request": {"data": {"ndarray": [[1]]}}, "reward": 1}
    lines = [line(0, feedback), line(1, feedback)]  # a mini-batch too: every line is still sent
    outputs = parsed(requester(client, method="feedback", data_type="raw").process(lines))
    assert [call["raw_request"] for call in client.calls] == [feedback, feedback]
    assert outputs[1][0] == {
        "meta": {"tags": {"batch_id": "B", "m": 1, "batch_instance_id": "id1", "batch_index": 1}}
    }

    client = FakeClient(feedback=lambda kwargs, n: Result(None, False, "503:UNAVAILABLE"))
    [(output, ok)] = parsed(
        requester(client, method="feedback", data_type="raw", retries=1).process([line(3, {})])
    )
    assert not ok and output == {
        "status": {"info": "FAILURE", "reason": "503:UNAVAILABLE", "status": 1},
        "meta": {"tags": {"batch_id": "B", "batch_instance_id": "id3", "batch_index": 3}},
    }


# ------------------------------------------------------------------------------------------------
# the whole run
# ------------------------------------------------------------------------------------------------


def run(tmp_path, monkeypatch, lines, client, **overrides):
    monkeypatch.setattr(bp, "SeldonClient", lambda **kwargs: client)
    source, target = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(json.dumps(item) + "\n" for item in lines))
    options = {
        **DEFAULTS,
        "deployment_name": "dep",
        "batch_id": "B",
        "input_data_path": str(source),
        "output_data_path": str(target),
        **overrides,
    }
    summary = bp.start_multithreaded_batch_worker(**options)
    return [json.loads(text) for text in target.read_text().splitlines()], summary


@pytest.mark.parametrize("batch_size", [1, 4])
def test_many_workers_write_each_line_once(tmp_path, monkeypatch, capsys, batch_size):
    def flaky(kwargs, n):
        if n % 5 == 0:
            return Result(None, False, "500:INTERNAL SERVER ERROR")
        return Result(echo(kwargs))

    lines = [[[i]] for i in range(1003)]
    outputs, summary = run(
        tmp_path, monkeypatch, lines, FakeClient(flaky), workers=4, retries=1, batch_size=batch_size
    )
    indexes = sorted(
        (o["meta"]["tags"] if "tags" in o["meta"] else o["meta"])["batch_index"] for o in outputs
    )
    assert indexes == list(range(1003))
    for output in outputs:
        if "data" in output:
            assert output["data"]["ndarray"] == [[2 * output["meta"]["tags"]["batch_index"]]]
    assert summary.sent == 1003 and summary.succeeded + summary.failed == 1003 and summary.failed > 0
    assert summary.line() in capsys.readouterr().err


def test_the_client_is_built_as_the_original_builds_it(tmp_path, monkeypatch):
    built = {}

    def factory(**kwargs):
        built.update(kwargs)
        return FakeClient()

    monkeypatch.setattr(bp, "SeldonClient", factory)
    source = tmp_path / "in.txt"
    source.write_text("")
    bp.start_multithreaded_batch_worker(
        **{**DEFAULTS, "deployment_name": "dep", "batch_id": "B", "input_data_path": str(source)}
        | {"output_data_path": str(tmp_path / "out"), "call_credentials_token": "tok", "ssl_verify": False}
    )
    assert built["gateway"] == "istio" and built["gateway_endpoint"] == DEFAULTS["host"]
    assert built["client_return_type"] == "dict" and built["namespace"] == "default"
    assert built["call_credentials"].token == "tok" and built["channel_credentials"].verify is False


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"method": "feedback"}, "Feedback method is supported only with `raw` data type."),
        ({"data_type": "json", "batch_size": 2}, "Batch size greater than 1 is only supported"),
        ({"workers": 0}, "At least one worker"),
        ({"batch_size": 0}, "at least 1"),
    ],
)
def test_settings_that_cannot_work_raise(tmp_path, monkeypatch, overrides, error):
    with pytest.raises(RuntimeError, match=error):
        run(tmp_path, monkeypatch, [[[1]]], FakeClient(), **overrides)


def test_the_input_is_never_the_output(tmp_path, monkeypatch):
    source = tmp_path / "in.txt"
    with pytest.raises(RuntimeError, match="would be overwritten"):
        run(tmp_path, monkeypatch, [[[1]]], FakeClient(), output_data_path=str(source))
    assert source.read_text() == "[[1]]\n"


def test_a_missing_input_exits_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bp.run_cli(["-d", "x", "-i", str(tmp_path / "none"), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 1
    assert "No such file" in capsys.readouterr().err


@pytest.mark.parametrize("text, count", [("", 0), ("a\n", 1), ("a\nb", 2), ("a\n\nb\n", 3)])
def test_count_lines(tmp_path, text, count):
    path = tmp_path / "f"
    path.write_text(text)
    assert bp._count_lines(str(path)) == count == len(path.read_text().splitlines(keepends=True))


def test_progress_draws_only_on_a_terminal():
    stream = io.StringIO()
    quiet = bp._Progress(stream, 10, enabled=False)
    quiet.advance(5)
    quiet.clear()
    assert stream.getvalue() == ""
    shown = bp._Progress(stream, 10, enabled=True)
    shown.advance(5)
    assert "5/10  50%" in stream.getvalue()
    shown.clear()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_numpy_rows_survive_the_split():
    rows = np.arange(6).reshape(3, 2)
    data = {"names": ["a"], "tensor": {"shape": [3, 2], "values": rows.ravel().tolist()}}
    assert bp._data_row(data, "tensor", 2, rows) == {
        "names": ["a"],
        "tensor": {"shape": [1, 2], "values": [4, 5]},
    }


def test_the_originals_request_helpers_keep_their_arguments():
    client = FakeClient()
    text = bp._send_batch_predict(4, "i4", "[[1]]\n", "data", client, 3, "B")
    assert json.loads(text)["meta"]["tags"] == {"batch_id": "B", "batch_instance_id": "i4", "batch_index": 4}
    texts = bp._send_batch_predict_multi_request(
        [(0, "p", "[[1]]"), (1, "q", "[[2]]")], "data", client, 3, "B", "ndarray"
    )
    assert [json.loads(t)["data"]["ndarray"] for t in texts] == [[[2]], [[4]]]
    text = bp._send_batch_feedback(2, "i2", "{}", "raw", client, 3, "B")
    assert json.loads(text)["meta"]["tags"]["batch_index"] == 2
    raw, kind, tags = bp._extract_raw_data_multi_request(
        [{"data": {"ndarray": [[1]]}, "meta": {"tags": {"a": 1}}}], {}
    )
    assert (raw["data"]["ndarray"], kind, tags) == ([[1]], "ndarray", [{"a": 1}])


def test_the_original_modules_names_are_there():
    import click

    assert bp.click is click
    assert {
        "Dict",
        "List",
        "Tuple",
        "Queue",
        "Empty",
        "Event",
        "Thread",
        "np",
        "requests",
        "copy",
        "uuid",
    } <= set(dir(bp))
    with pytest.raises(AttributeError):
        bp.no_such_name  # noqa: B018
