"""Settings from env vars and flags (spec 1.2, 1.6, 1.7, 1.9, 1.14),
and the gunicorn options built from them."""

from __future__ import annotations

import logging

import pytest

from seldon_wrapper.cli import configure_logging, parse_settings
from seldon_wrapper.errors import StartupError
from seldon_wrapper.serving import gunicorn_options
from seldon_wrapper.settings import Settings, load_annotations


@pytest.fixture
def env(tmp_path):
    """A minimal environment that points at a non-existent annotations file."""
    return {"SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations")}


def settings_from(env: dict, **extra_env) -> Settings:
    return Settings.from_env({**env, **extra_env})


def parse(env: dict, *argv: str, **extra_env) -> Settings:
    return parse_settings(["MyModel", *argv], {**env, **extra_env})


# -- defaults ---------------------------------------------------------------------------------------


def test_defaults_without_env(env):
    s = settings_from(env)
    assert s.parameters == "[]"
    assert s.debug is False
    assert s.tracing == 0
    assert (s.workers, s.threads, s.max_requests, s.max_requests_jitter, s.keepalive) == (1, 1, 0, 0, 2)
    assert s.single_threaded == 0
    assert (s.http_port, s.grpc_port, s.metrics_port) == (9000, 5000, 6000)
    assert s.access_log is False
    assert s.speedups is True
    assert s.max_request_size == 32 * 1024 * 1024
    assert (s.worker_connections, s.request_header_timeout, s.request_body_timeout) == (1000, 10.0, 10.0)
    assert s.request_body_min_rate == 16384
    assert (s.grpc_workers, s.grpc_threads) == (1, 1)
    assert s.metrics_endpoint == "/metrics"
    assert s.predictive_unit_id is None
    assert s.predictor_id == "NOT_IMPLEMENTED"
    assert s.deployment_id == "NOT_IMPLEMENTED"
    assert s.predictor_version == "NOT_IMPLEMENTED"
    assert s.executor_enabled is True
    assert s.include_metrics_in_client_response is True
    assert s.payload_passthrough is False
    assert s.model_metadata is None
    assert s.filter_metrics_logs is True
    assert s.annotations == {}
    assert s.rest_timeout_s == 5000
    assert s.jaeger_extra_tags == ()
    assert s.request_path == {}
    assert s.effective_log_level == "INFO"


def test_cli_defaults(env):
    s = parse(env)
    assert s.interface_name == "MyModel"
    assert s.service_type == "MODEL"
    assert s.persistence == 0
    assert s.log_level == "INFO"
    assert s.debug is False
    assert s.http_port == 9000
    assert s.pidfile is None
    assert s.access_log is False


def test_annotations_file_default_path():
    s = Settings.from_env({})
    assert s.annotations_file == "/etc/podinfo/annotations"


# -- each env var -------------------------------------------------------------------------------------

ENV_CASES = [
    (
        "PREDICTIVE_UNIT_PARAMETERS",
        '[{"name":"a","value":"1","type":"INT"}]',
        "parameters",
        '[{"name":"a","value":"1","type":"INT"}]',
    ),
    ("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "9100", "http_port", 9100),
    ("PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "5100", "grpc_port", 5100),
    ("PREDICTIVE_UNIT_METRICS_SERVICE_PORT", "6100", "metrics_port", 6100),
    ("PREDICTIVE_UNIT_METRICS_ENDPOINT", "/prometheus", "metrics_endpoint", "/prometheus"),
    ("PREDICTIVE_UNIT_ID", "classifier", "predictive_unit_id", "classifier"),
    ("PREDICTIVE_UNIT_IMAGE", "repo/img:1.2", "predictive_unit_image", "repo/img:1.2"),
    ("PREDICTOR_ID", "default", "predictor_id", "default"),
    ("PREDICTOR_LABELS", '{"version":"v7"}', "predictor_version", "v7"),
    ("PREDICTOR_LABELS", '{"team":"x"}', "predictor_version", "NOT_IMPLEMENTED"),
    ("PREDICTOR_LABELS", "not json", "predictor_version", "NOT_IMPLEMENTED"),
    ("SELDON_DEPLOYMENT_ID", "my-dep", "deployment_id", "my-dep"),
    ("SELDON_EXECUTOR_ENABLED", "false", "executor_enabled", False),
    ("SELDON_EXECUTOR_ENABLED", "FALSE", "executor_enabled", False),
    ("SELDON_EXECUTOR_ENABLED", "0", "executor_enabled", True),
    ("SELDON_EXECUTOR_ENABLED", "true", "executor_enabled", True),
    ("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "false", "include_metrics_in_client_response", False),
    ("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "TRUE", "include_metrics_in_client_response", True),
    ("INCLUDE_METRICS_IN_CLIENT_RESPONSE", "1", "include_metrics_in_client_response", False),
    ("PAYLOAD_PASSTHROUGH", "true", "payload_passthrough", True),
    ("PAYLOAD_PASSTHROUGH", "yes", "payload_passthrough", False),
    ("SELDON_LOG_LEVEL", "DEBUG", "effective_log_level", "DEBUG"),
    ("SELDON_DEBUG", "true", "debug", True),
    ("SELDON_DEBUG", "1", "debug", True),
    ("SELDON_DEBUG", "T", "debug", True),
    ("SELDON_DEBUG", "yes", "debug", False),
    ("SELDON_DEBUG", "false", "debug", False),
    ("FILTER_METRICS_ACCESS_LOGS", "false", "filter_metrics_logs", False),
    ("FILTER_METRICS_ACCESS_LOGS", "true", "filter_metrics_logs", True),
    ("GUNICORN_WORKERS", "4", "workers", 4),
    ("GUNICORN_THREADS", "8", "threads", 8),
    ("GUNICORN_MAX_REQUESTS", "1000", "max_requests", 1000),
    ("GUNICORN_MAX_REQUESTS_JITTER", "50", "max_requests_jitter", 50),
    ("GUNICORN_KEEPALIVE", "7", "keepalive", 7),
    ("GUNICORN_ACCESS_LOG", "true", "access_log", True),
    ("GUNICORN_ACCESS_LOG", "0", "access_log", False),
    ("FLASK_SINGLE_THREADED", "1", "single_threaded", 1),
    ("GRPC_WORKERS", "3", "grpc_workers", 3),
    ("GRPC_THREADS", "5", "grpc_threads", 5),
    ("TRACING", "1", "tracing", 1),
    ("JAEGER_EXTRA_TAGS", " path , ,method,", "jaeger_extra_tags", ("path", "method")),
    ("MODEL_METADATA", "name: my-model", "model_metadata", "name: my-model"),
    ("SELDON_SPEEDUPS", "false", "speedups", False),
    ("SELDON_SPEEDUPS", "0", "speedups", False),
    ("SELDON_SPEEDUPS", "true", "speedups", True),
    ("SELDON_MAX_REQUEST_SIZE", "1000", "max_request_size", 1000),
    ("SELDON_MAX_REQUEST_SIZE", "0", "max_request_size", 0),
    ("GUNICORN_WORKER_CONNECTIONS", "50", "worker_connections", 50),
    ("SELDON_REQUEST_HEADER_TIMEOUT", "2.5", "request_header_timeout", 2.5),
    ("SELDON_REQUEST_BODY_TIMEOUT", "30", "request_body_timeout", 30.0),
    ("SELDON_REQUEST_BODY_MIN_RATE", "1024", "request_body_min_rate", 1024),
    ("SELDON_GRACE_PERIOD", "12", "grace_period", 12.0),
    ("SELDON_GRPC_GRACE_PERIOD", "3", "grpc_grace_period", 3.0),
]


@pytest.mark.parametrize(
    "name,value,attribute,expected", ENV_CASES, ids=[f"{c[0]}={c[1]}" for c in ENV_CASES]
)
def test_env_var(env, name, value, attribute, expected):
    assert getattr(settings_from(env, **{name: value}), attribute) == expected


def test_filter_metrics_logs_defaults_to_not_debug(env):
    assert settings_from(env, SELDON_DEBUG="true").filter_metrics_logs is False
    assert settings_from(env, SELDON_DEBUG="true", FILTER_METRICS_ACCESS_LOGS="1").filter_metrics_logs is True


def test_flask_config_env_vars(env):
    s = settings_from(env, FLASK_JSON_SORT_KEYS="false", FLASK_TESTING="True", FLASK_DEBUG="1")
    assert dict(s.flask_config) == {"JSON_SORT_KEYS": False, "TESTING": True, "DEBUG": True}


def test_image_name_and_version_split_on_last_colon(env):
    s = settings_from(env, PREDICTIVE_UNIT_IMAGE="registry:5000/team/model:1.0.3")
    assert (s.image_name, s.image_version) == ("registry:5000/team/model", "1.0.3")
    assert (settings_from(env).image_name, settings_from(env).image_version) == ("", "")


def test_non_integer_env_var_names_the_variable(env):
    with pytest.raises(ValueError, match="GUNICORN_WORKERS"):
        settings_from(env, GUNICORN_WORKERS="many")


# -- flags override env ----------------------------------------------------------------------------

FLAG_CASES = [
    ("--http-port", "9200", "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "9100", "http_port", 9200),
    ("--grpc-port", "5200", "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "5100", "grpc_port", 5200),
    ("--metrics-port", "6200", "PREDICTIVE_UNIT_METRICS_SERVICE_PORT", "6100", "metrics_port", 6200),
    ("--workers", "3", "GUNICORN_WORKERS", "5", "workers", 3),
    ("--threads", "2", "GUNICORN_THREADS", "9", "threads", 2),
    ("--max-requests", "10", "GUNICORN_MAX_REQUESTS", "99", "max_requests", 10),
    ("--max-requests-jitter", "3", "GUNICORN_MAX_REQUESTS_JITTER", "9", "max_requests_jitter", 3),
    ("--keepalive", "1", "GUNICORN_KEEPALIVE", "9", "keepalive", 1),
    ("--single-threaded", "0", "FLASK_SINGLE_THREADED", "1", "single_threaded", 0),
    ("--grpc-workers", "0", "GRPC_WORKERS", "4", "grpc_workers", 0),
    ("--grpc-threads", "2", "GRPC_THREADS", "4", "grpc_threads", 2),
    ("--tracing", "0", "TRACING", "1", "tracing", 0),
    ("--parameters", "[]", "PREDICTIVE_UNIT_PARAMETERS", '[{"name":"a"}]', "parameters", "[]"),
    ("--debug", "false", "SELDON_DEBUG", "true", "debug", False),
    ("--access-log", "false", "GUNICORN_ACCESS_LOG", "true", "access_log", False),
    ("--speedups", "false", "SELDON_SPEEDUPS", "true", "speedups", False),
    ("--speedups", "true", "SELDON_SPEEDUPS", "false", "speedups", True),
    ("--max-request-size", "2048", "SELDON_MAX_REQUEST_SIZE", "1000", "max_request_size", 2048),
    ("--worker-connections", "7", "GUNICORN_WORKER_CONNECTIONS", "50", "worker_connections", 7),
    ("--request-header-timeout", "1", "SELDON_REQUEST_HEADER_TIMEOUT", "9", "request_header_timeout", 1.0),
    ("--request-body-timeout", "3", "SELDON_REQUEST_BODY_TIMEOUT", "9", "request_body_timeout", 3.0),
    ("--request-body-min-rate", "10", "SELDON_REQUEST_BODY_MIN_RATE", "9", "request_body_min_rate", 10),
    ("--grace-period", "7", "SELDON_GRACE_PERIOD", "9", "grace_period", 7.0),
    ("--grpc-grace-period", "2", "SELDON_GRPC_GRACE_PERIOD", "9", "grpc_grace_period", 2.0),
]


@pytest.mark.parametrize(
    "flag,flag_value,name,env_value,attribute,expected", FLAG_CASES, ids=[c[0] for c in FLAG_CASES]
)
def test_flag_wins_over_env(env, flag, flag_value, name, env_value, attribute, expected):
    assert getattr(parse(env, flag, flag_value, **{name: env_value}), attribute) == expected


def test_env_used_when_flag_absent(env):
    s = parse(env, GUNICORN_WORKERS="5", PREDICTIVE_UNIT_HTTP_SERVICE_PORT="9100", SELDON_DEBUG="1")
    assert (s.workers, s.http_port, s.debug) == (5, 9100, True)


@pytest.mark.parametrize(
    "argv,expected",
    [
        ((), False),
        (("--debug",), True),
        (("--debug", "False"), False),
        (("--debug", "false"), False),
        (("--debug", "0"), False),
        (("--debug", "true"), True),
        (("--debug", "True"), True),
        (("--debug", "1"), True),
    ],
)
def test_debug_flag(env, argv, expected):
    assert parse(env, *argv).debug is expected


@pytest.mark.parametrize(
    "argv,expected",
    [
        ((), False),
        (("--access-log",), True),
        (("--access-log", "False"), False),
        (("--access-log", "t"), True),
    ],
)
def test_access_log_flag(env, argv, expected):
    assert parse(env, *argv).access_log is expected


def test_bare_debug_flag_before_positional_is_accepted(env):
    s = parse_settings(["--debug", "--", "MyModel"], env)
    assert (s.debug, s.interface_name) == (True, "MyModel")


def test_persistence_and_tracing_bare_flags(env):
    s = parse(env, "--persistence", "--tracing")
    assert (s.persistence, s.tracing) == (1, 1)


def test_service_type_choices(env):
    assert parse(env, "--service-type", "ROUTER").service_type == "ROUTER"
    with pytest.raises(SystemExit):
        parse(env, "--service-type", "SPLITTER")


def test_unknown_argument_exits_255(env, caplog):
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as info:
        parse(env, "REST")
    assert info.value.code == -1
    message = "Unknown args ['REST']. Note since 1.5.0 this CLI does not take API type (REST, GRPC)"
    assert message in caplog.text


def test_host_flag(env):
    assert parse(env).host == "0.0.0.0"
    assert parse(env, "--host", "127.0.0.1").host == "127.0.0.1"


def test_single_threaded_forces_one_thread(env):
    assert parse(env, "--threads", "4").effective_threads == 4
    assert parse(env, "--threads", "4", "--single-threaded", "1").effective_threads == 1
    assert parse(env, "--threads", "4", FLASK_SINGLE_THREADED="1").effective_threads == 1


# -- log level -------------------------------------------------------------------------------------


def test_seldon_log_level_wins_over_flag(env):
    s = parse(env, "--log-level", "ERROR", SELDON_LOG_LEVEL="DEBUG")
    assert s.effective_log_level == "DEBUG"
    # gunicorn's own level follows the flag, not the env var.
    assert gunicorn_options(s)["loglevel"] == "error"


def test_log_level_flag_choices(env):
    assert parse(env, "--log-level", "WARNING").effective_log_level == "WARNING"
    with pytest.raises(SystemExit):
        parse(env, "--log-level", "TRACE")


@pytest.fixture
def restore_logging():
    names = ("", "werkzeug", "seldon_wrapper", "seldon_core")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_configure_logging_applies_effective_level(env, restore_logging):
    configure_logging(parse(env, "--log-level", "INFO", SELDON_LOG_LEVEL="WARNING"))
    assert logging.getLogger().level == logging.WARNING
    assert logging.getLogger("werkzeug").level == logging.WARNING


def test_configure_logging_rejects_invalid_level(env, restore_logging):
    with pytest.raises(StartupError, match="Invalid log level: NOISY"):
        configure_logging(parse(env, SELDON_LOG_LEVEL="NOISY"))


# -- annotations -----------------------------------------------------------------------------------


def write(tmp_path, text: str) -> str:
    path = tmp_path / "annotations"
    path.write_text(text)
    return str(path)


def test_load_annotations_parses_quoted_values(tmp_path):
    text = 'foo="bar"\n foo2  =   "bar"  \nkey=  "assign==="\nseldon.io/rest-timeout="1000"\n'
    assert load_annotations(write(tmp_path, text)) == {
        "foo": "bar",
        "foo2": "bar",
        "key": "assign===",
        "seldon.io/rest-timeout": "1000",
    }


def test_load_annotations_ignores_bad_line(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result = load_annotations(write(tmp_path, 'good="yes"\nthis line has no equals sign\n'))
    assert result == {"good": "yes"}
    assert "Bad annotation [this line has no equals sign]" in caplog.text


def test_load_annotations_missing_file(tmp_path):
    assert load_annotations(str(tmp_path / "absent")) == {}


def test_annotations_file_env_var_is_read(env, tmp_path):
    path = write(tmp_path, 'seldon.io/rest-timeout="2000"\n')
    s = Settings.from_env({"SELDON_ANNOTATIONS_FILE": path})
    assert s.annotations == {"seldon.io/rest-timeout": "2000"}
    assert s.rest_timeout_s == 2


@pytest.mark.parametrize(
    "value,expected",
    [("1000", 1), ("2500", 2), ("60000", 60), ("999", 1), ("1", 1), ("0", 1), ("abc", 5000), ("", 5000)],
)
def test_rest_timeout_from_annotation(env, tmp_path, value, expected):
    path = write(tmp_path, f'seldon.io/rest-timeout="{value}"\n')
    s = Settings.from_env({"SELDON_ANNOTATIONS_FILE": path})
    assert s.rest_timeout_s == expected


def test_rest_timeout_default_is_5000_seconds(env):
    assert settings_from(env).rest_timeout_s == 5000


# -- requestPath -----------------------------------------------------------------------------------


def test_request_path(env):
    assert settings_from(env).request_path == {}
    assert settings_from(env, PREDICTIVE_UNIT_IMAGE="img:1").request_path == {}
    assert settings_from(env, PREDICTIVE_UNIT_ID="clf", PREDICTIVE_UNIT_IMAGE="repo/img:1").request_path == {
        "clf": "repo/img:1"
    }
    assert settings_from(env, PREDICTIVE_UNIT_ID="clf").request_path == {
        "clf": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"
    }


def test_feedback_routing_key(env):
    assert settings_from(env).feedback_routing_key == "0"
    assert settings_from(env, PREDICTIVE_UNIT_ID="clf").feedback_routing_key == "clf"


# -- gunicorn options ------------------------------------------------------------------------------


def test_gunicorn_options_defaults(env):
    options = gunicorn_options(parse(env))
    assert options["bind"] == "0.0.0.0:9000"
    assert options["workers"] == 1
    assert options["threads"] == 1
    assert options["max_requests"] == 0
    assert options["max_requests_jitter"] == 0
    assert options["keepalive"] == 2
    assert options["timeout"] == 5000
    assert options["loglevel"] == "info"
    assert options["accesslog"] is None
    assert options["pidfile"] is None


def test_gunicorn_options_from_flags(env, tmp_path):
    path = write(tmp_path, 'seldon.io/rest-timeout="3000"\n')
    s = parse_settings(
        [
            "MyModel",
            "--host",
            "127.0.0.1",
            "--http-port",
            "9123",
            "--workers",
            "3",
            "--threads",
            "6",
            "--max-requests",
            "100",
            "--max-requests-jitter",
            "10",
            "--keepalive",
            "5",
            "--log-level",
            "WARNING",
            "--access-log",
            "--pidfile",
            "/tmp/x.pid",
        ],
        {"SELDON_ANNOTATIONS_FILE": path},
    )
    options = gunicorn_options(s)
    assert options["bind"] == "127.0.0.1:9123"
    assert gunicorn_options(s.with_(http_socket="/run/m.sock"))["bind"] == [
        "127.0.0.1:9123",
        "unix:/run/m.sock",
    ]
    assert (options["workers"], options["threads"]) == (3, 6)
    assert (options["max_requests"], options["max_requests_jitter"], options["keepalive"]) == (100, 10, 5)
    assert options["timeout"] == 3
    assert options["loglevel"] == "warning"
    assert options["accesslog"] == "-"
    assert options["pidfile"] == "/tmp/x.pid"


def test_gunicorn_options_single_threaded(env):
    assert gunicorn_options(parse(env, "--threads", "8", "--single-threaded", "1"))["threads"] == 1


def test_one_grace_period_for_rest_and_grpc_unless_grpc_is_set_apart():
    assert Settings.from_env({}).effective_grpc_grace_period == 25.0  # within Kubernetes' 30 s
    assert Settings.from_env({"SELDON_GRACE_PERIOD": "12"}).effective_grpc_grace_period == 12.0
    apart = Settings.from_env({"SELDON_GRACE_PERIOD": "12", "SELDON_GRPC_GRACE_PERIOD": "4"})
    assert (apart.grace_period, apart.effective_grpc_grace_period) == (12.0, 4.0)
    assert gunicorn_options(apart)["graceful_timeout"] == 12  # Gunicorn waits that long for REST
