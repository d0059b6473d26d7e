"""seldon_wrapper/executor/settings.py: the original executor's flags, Go syntax, and --component."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seldon_wrapper.executor import settings
from seldon_wrapper.executor.settings import Binding, SettingsError

REQUIRED = ["--sdep", "tutorial", "--namespace", "ns", "--predictor", "default"]


def test_the_defaults_are_the_originals():
    s = settings.parse(REQUIRED, env={})
    assert (s.http_port, s.grpc_port, s.protocol, s.transport) == (8080, 5000, "seldon", "rest")
    assert (s.prometheus_path, s.full_health_checks, s.graceful_timeout_s) == ("/metrics", False, 15.0)
    assert (s.logger_workers, s.log_work_buffer_size, s.log_write_timeout_ms) == (10, 10000, 2000)
    assert (s.log_level, s.debug, s.routing_injection) == ("INFO", False, False)
    assert s.logger_default_endpoint == "http://default-broker"


def test_every_go_flag_form_is_accepted():
    argv = ["-sdep=a", "--namespace", "b", "-predictor", "c", "--http_port=8000", "-grpc_port", "5001",
            "--protocol=kfserving", "--full_health_checks", "--debug=false", "--graceful_timeout", "1m30s",
            "-shutdown_delay=500ms", "--prometheus_path", "/prometheus", "--log_level", "warn"]  # fmt: skip
    s = settings.parse(argv, env={})
    assert (s.sdep, s.namespace, s.predictor, s.http_port, s.grpc_port) == ("a", "b", "c", 8000, 5001)
    assert s.protocol == "kfserving" and s.v2
    assert s.full_health_checks is True and s.debug is False
    assert (s.graceful_timeout_s, s.shutdown_delay_s) == (90.0, 0.5)
    assert s.prometheus_path == "/prometheus" and s.log_level == "WARNING"


def test_the_environment_gives_the_originals_defaults():
    env = {
        "SELDON_LOG_LEVEL": "DEBUG",
        "SELDON_DEBUG": "true",
        "REQUEST_LOGGER_DEFAULT_ENDPOINT": "http://sink:8000",
        "SELDON_ENABLE_ROUTING_INJECTION": "false",  # any value turns it on, as in the original
        "ENGINE_PREDICTOR": "e30=",
        "POD_NAME": "pod-1",
    }
    s = settings.parse(REQUIRED, env=env)
    assert (s.log_level, s.debug, s.routing_injection) == ("DEBUG", True, True)
    assert (s.logger_default_endpoint, s.engine_predictor, s.hostname) == (
        "http://sink:8000",
        "e30=",
        "pod-1",
    )
    assert settings.parse([*REQUIRED, "--log_level", "ERROR"], env=env).log_level == "ERROR"


@pytest.mark.parametrize(
    "argv, message",
    [
        (REQUIRED[2:], "Empty --sdep parameter"),
        (REQUIRED[:4], "Empty --predictor parameter"),
        ([*REQUIRED, "--protocol", "rest"], "Unknown protocol 'rest'"),
        ([*REQUIRED, "--protocol", "tensorflow"], "tensorflow is not supported"),
        ([*REQUIRED, "--server_type", "kafka"], "Kafka mode is not built"),
        ([*REQUIRED, "--transport", "http"], "Unknown transport"),
        ([*REQUIRED, "--http_port", "eighty"], "invalid value 'eighty' for flag -http_port"),
        ([*REQUIRED, "--http_port", "70000"], "--http_port must be a port number"),
        ([*REQUIRED, "--graceful_timeout", "15"], "invalid duration '15'"),
        ([*REQUIRED, "--debug=maybe"], "invalid boolean 'maybe'"),
        ([*REQUIRED, "--log_level", "LOUD"], "Unknown log level"),
        ([*REQUIRED, "--nope", "1"], "flag provided but not defined: -nope"),
        ([*REQUIRED, "--file"], "flag needs an argument: -file"),
        ([*REQUIRED, "stray"], "unexpected argument 'stray'"),
        ([*REQUIRED, "--component", "justanode"], "expected NODE=DIR"),
        ([*REQUIRED, "--component", "n=/no/such/dir"], "is not a directory"),
    ],
)
def test_bad_flags_are_one_clear_line(argv, message):
    with pytest.raises(SettingsError, match=message):
        settings.parse(argv, env={})


def test_a_component_takes_its_class_from_the_s2i_environment(tmp_path):
    folder = tmp_path / "tokeniser"
    (folder / ".s2i").mkdir(parents=True)
    (folder / ".s2i" / "environment").write_text("MODEL_NAME=Tokeniser\nSERVICE_TYPE=TRANSFORMER\n")
    s = settings.parse(
        [*REQUIRED, "--component", f"encoder={folder}", "--component", f"decoder={folder}:Other"], {}
    )
    assert s.components == (
        Binding("encoder", str(folder), "Tokeniser"),
        Binding("decoder", str(folder), "Other"),
    )
    with pytest.raises(SettingsError, match="binds the same node twice"):
        settings.parse([*REQUIRED, "--component", f"a={folder}", "--component", f"a={folder}"], {})
    with pytest.raises(SettingsError, match="no MODEL_NAME in"):
        settings.parse([*REQUIRED, "--component", f"a={tmp_path}"], {})


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("0", 0.0),
        ("15s", 15.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("2us", 2e-6),
    ],
)
def test_go_durations(text, seconds):
    assert settings.go_duration(text) == pytest.approx(seconds)


@given(st.lists(st.text(max_size=12), max_size=8))
def test_any_argv_parses_or_is_refused_with_a_settings_error(argv):
    try:
        settings.parse([*REQUIRED, *argv], env={})
    except SettingsError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_the_variables_parse_reads_are_the_declared_ones():
    from tests.unit.test_settings_reference import RecordingEnv

    env = RecordingEnv()
    settings.parse(REQUIRED, env=env)
    assert env.asked == set(settings.ENVIRONMENT)


@pytest.mark.parametrize(
    "flag, variable, raw, field, value",
    [
        ("--max_request_size", "SELDON_EXECUTOR_MAX_REQUEST_SIZE", "2048", "max_request_size", 2048),
        ("--rest_workers", "SELDON_EXECUTOR_REST_WORKERS", "3", "rest_workers", 3),
        (
            "--rest_read_timeout_ms",
            "SELDON_EXECUTOR_REST_READ_TIMEOUT_MS",
            "1500",
            "rest_read_timeout_s",
            1.5,
        ),
        ("--rest_read_timeout_ms", "SELDON_EXECUTOR_REST_READ_TIMEOUT_MS", "0", "rest_read_timeout_s", None),
        (
            "--rest_idle_timeout_ms",
            "SELDON_EXECUTOR_REST_IDLE_TIMEOUT_MS",
            "250",
            "rest_idle_timeout_s",
            0.25,
        ),
        (
            "--rest_max_header_bytes",
            "SELDON_EXECUTOR_REST_MAX_HEADER_BYTES",
            "4096",
            "rest_max_header_bytes",
            4096,
        ),
    ],
)
def test_our_rest_limits_come_from_a_flag_or_the_environment_and_the_flag_wins(
    flag, variable, raw, field, value
):
    defaults = settings.parse(REQUIRED, env={})
    assert (defaults.max_request_size, defaults.rest_read_timeout_s, defaults.rest_idle_timeout_s) == (
        32 * 1024 * 1024,
        30.0,
        65.0,
    )
    assert defaults.rest_max_header_bytes == 65536
    assert getattr(settings.parse(REQUIRED, env={variable: raw}), field) == value
    assert getattr(settings.parse([*REQUIRED, flag, raw], env={variable: "7"}), field) == value
    with pytest.raises(SettingsError, match=flag.lstrip("-")):
        settings.parse([*REQUIRED, flag, "soon"], env={})
