"""``seldon-batch-processor``: send every line of a file to a Seldon deployment, one output line per input.

The command line, environment variables, input and output formats are those of Seldon Core v1's
``seldon_core.batch_processor``; requests go through our ``SeldonClient``. Each input line gets a
``batch_index`` (its 0-based line number) and a ``batch_instance_id`` (a uuid1), sent as ``meta.tags``
with the ``batch_id`` and written back in the output line's tags. Output lines are written as answers
arrive, so with several workers they are not in input order: sort them by ``batch_index``.

A request that fails (connection error, non-200 answer, gRPC error) is attempted up to ``--retries``
times in all; a line that still fails is written as
``{"status": {"info": "FAILURE", "reason": ..., "status": 1}, "meta": <the batch tags>}``.
Differences from the original are listed in ``docs/compatibility.md``; all are on paths where it lost,
hid or mangled lines.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from queue import Empty, Queue  # noqa: F401 - Empty: the original module's name
from threading import Event, Lock, Thread  # noqa: F401 - Event: the original module's name
from typing import IO, Any, Dict, List, NamedTuple, Tuple  # noqa: F401, UP035 - Dict...: the original's names

import numpy as np
import requests

from seldon_core._lazy import lazy_attributes
from seldon_core.seldon_client import (
    SeldonCallCredentials,
    SeldonChannelCredentials,
    SeldonClient,
)

# Lower case: gRPC metadata keys must be, and REST headers do not care.
SELDON_PUID_HEADER = "seldon-puid"

CHOICES_GATEWAY_TYPE = ["ambassador", "istio", "seldon"]
CHOICES_TRANSPORT = ["rest", "grpc"]
CHOICES_PAYLOAD_TYPE = ["ndarray", "tensor", "tftensor"]
CHOICES_DATA_TYPE = ["data", "json", "str", "raw"]
CHOICES_METHOD = ["predict", "feedback"]
CHOICES_LOG_LEVEL = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

logger = logging.getLogger(__name__)

_LOG_FORMAT = "%(asctime)s - batch_processor.py:%(lineno)s - %(levelname)s:  %(message)s"
_PROGRESS_LOG_EVERY = 100


# The original imported click here; we parse with argparse, so it is loaded only if asked for
# (Flask, a dependency, brings it).
__getattr__ = lazy_attributes(__name__, globals(), {"click": ("click", None)})


def setup_logging(log_level: str) -> None:
    """Log to stderr at ``log_level`` (a key of ``CHOICES_LOG_LEVEL``) in the original's line format."""
    logging.basicConfig(level=CHOICES_LOG_LEVEL[log_level], format=_LOG_FORMAT)


@dataclass(frozen=True)
class BatchSummary:
    """What a run did: input lines handled, how many got an answer, how many a failure line."""

    sent: int
    succeeded: int
    failed: int
    elapsed: float

    def line(self) -> str:
        return (
            f"seldon-batch-processor: {self.sent} lines sent, {self.succeeded} succeeded, "
            f"{self.failed} failed, {self.elapsed:.2f} s elapsed"
        )


# ------------------------------------------------------------------------------------------------
# one request: lines in, output lines out
# ------------------------------------------------------------------------------------------------


class _Line(NamedTuple):
    """An input line as the original passed it around: ``(batch_index, batch_instance_id, text)``."""

    index: int
    instance_id: str
    text: str


class _RequestFailed(Exception):
    """Every attempt of a request failed; the message is the last attempt's reason."""


def _failure(reason: str, meta: dict) -> str:
    """The original's failure line."""
    return json.dumps({"status": {"info": "FAILURE", "reason": reason, "status": 1}, "meta": meta})


def _result_reason(result: Any) -> str:
    """Why an unsuccessful client result failed: the client's message, plus the server's own words."""
    reason = result.msg or "unsuccessful response"
    response = result.response
    if isinstance(response, dict) and isinstance(response.get("status"), dict):
        info = response["status"].get("info")
        if info:
            reason = f"{reason}: {info}"
    return reason


def _add_missing_tags(response: Any, tags: dict) -> None:
    """Make sure an answer carries the batch tags, so output lines can always be matched to input lines
    (gRPC to ``--gateway-type seldon`` sends no ``meta``, so the server cannot echo them)."""
    if not isinstance(response, dict):
        return
    meta = response.setdefault("meta", {})
    if not isinstance(meta, dict):
        return
    answered = meta.setdefault("tags", {})
    if isinstance(answered, dict):
        for key, value in tags.items():
            answered.setdefault(key, value)


def _stack_rows(loaded: list) -> np.ndarray:
    """One ``data`` array from mini-batch lines that each hold one row."""
    arrays = [np.array(item) for item in loaded]
    for array in arrays:
        if array.ndim == 0 or array.shape[0] != 1:
            raise ValueError("When using mini-batching each row should contain single instance.")
    return np.concatenate(arrays)


def _extract_raw_data_multi_request(loaded: list, tags: dict) -> tuple[dict, str, list[dict]]:
    """(one SeldonMessage dict, its payload kind, each line's own tags) from raw mini-batch lines."""
    if not all(isinstance(item, dict) for item in loaded) or "data" not in loaded[0]:
        raise ValueError("raw input with predict in mini-batch mode requires data payload")
    first = loaded[0]["data"]
    kind = "ndarray" if "ndarray" in first else "tensor" if "tensor" in first else None
    if kind is None:
        raise ValueError("raw input with predict in mini-batch mode requires an ndarray or tensor payload")
    datas = [item.get("data") for item in loaded]
    if not all(isinstance(data, dict) and kind in data for data in datas):
        raise ValueError(f"All instances in mini-batch must have a {kind} payload.")
    input_tags = [dict((item.get("meta") or {}).get("tags") or {}) for item in loaded]
    names = [data.get("names", []) for data in datas]
    if any(name != names[0] for name in names):
        raise ValueError("All names in mini-batch must be the same.")
    if kind == "ndarray":
        payload: dict = {"ndarray": _stack_rows([data["ndarray"] for data in datas]).tolist()}
    else:
        shapes = [list(data["tensor"]["shape"]) for data in datas]
        for shape in shapes:
            if len(shape) != 2 or shape[0] != 1:
                raise ValueError("When using mini-batching each row should contain single instance.")
            if shape[1] != shapes[0][1]:
                raise ValueError("All instances in mini-batch must have same number of features.")
        values = [value for data in datas for value in data["tensor"]["values"]]
        payload = {"tensor": {"shape": [len(shapes), shapes[0][1]], "values": values}}
    message = {"data": {"names": names[0], **payload}, "meta": {"tags": tags}}
    return message, kind, input_tags


def _data_row(data: dict, kind: str, row: int, rows: Any) -> dict:
    """A response's ``data`` cut down to one row (``rows``: the tensor values, shaped)."""
    out = {}
    for key, value in data.items():
        if key == "ndarray" and kind == "ndarray":
            out[key] = [value[row]]
        elif key == "tensor" and kind == "tensor":
            shape = list(value["shape"])
            shape[0] = 1
            out[key] = {**copy.deepcopy(value), "shape": shape, "values": np.ravel(rows[row]).tolist()}
        else:
            out[key] = copy.deepcopy(value)
    if kind not in out:
        raise KeyError(kind)
    return out


class _Requester:
    """Turns a group of input lines into output lines (JSON text, succeeded?) with the client."""

    def __init__(
        self,
        client: SeldonClient,
        method: str,
        data_type: str,
        payload_type: str,
        retries: int,
        batch_id: str,
    ) -> None:
        self.client = client
        self.method = method
        self.data_type = data_type
        self.payload_type = payload_type
        self.attempts = max(retries, 1)
        self.batch_id = batch_id

    def process(self, lines: list[_Line]) -> list[tuple[str, bool]]:
        """One output line per input line, whatever happens."""
        try:
            if self.method == "feedback":
                return [self._feedback(line) for line in lines]
            if len(lines) == 1:
                return [self._predict(lines[0])]
            return self._predict_many(lines)
        except Exception as exc:  # a bug here must cost a failure line, never a lost line
            logger.exception("Unexpected error for batch_index(es) %s", [line.index for line in lines])
            return [(_failure(str(exc), self._line_tags(line)), False) for line in lines]

    def _line_tags(self, line: _Line) -> dict:
        return {"batch_id": self.batch_id, "batch_instance_id": line.instance_id, "batch_index": line.index}

    def _call(self, send: Callable[[], Any], where: str) -> Any:
        """The successful response of ``send()``, attempted up to ``self.attempts`` times."""
        reason = ""
        for attempt in range(1, self.attempts + 1):
            try:
                result = send()
            except requests.exceptions.RequestException as exc:
                reason = str(exc)
            else:
                if result.success:
                    return result.response
                reason = _result_reason(result)
            level = logging.ERROR if attempt == self.attempts else logging.WARNING
            logger.log(
                level, "Request for %s failed, attempt %d / %d: %s", where, attempt, self.attempts, reason
            )
        raise _RequestFailed(reason)

    def _predict(self, line: _Line) -> tuple[str, bool]:
        tags = self._line_tags(line)
        kwargs: dict[str, Any] = {"meta": tags, "headers": {SELDON_PUID_HEADER: line.instance_id}}
        try:
            data = json.loads(line.text)
            if self.data_type == "data":
                kwargs["data"] = np.array(data)
            elif self.data_type == "str":
                kwargs["str_data"] = data
            elif self.data_type == "json":
                kwargs["json_data"] = data
            else:
                if not isinstance(data, dict):
                    raise ValueError("raw input lines must be JSON objects (SeldonMessage)")
                meta = data["meta"] = data.get("meta") or {}
                meta["tags"] = {**(meta.get("tags") or {}), **tags}
                kwargs["raw_data"] = data
            response = self._call(lambda: self.client.predict(**kwargs), f"batch_index={line.index}")
        except Exception as exc:
            return _failure(str(exc), tags), False
        _add_missing_tags(response, tags)
        return json.dumps(response), True

    def _predict_many(self, lines: list[_Line]) -> list[tuple[str, bool]]:
        """A mini-batch: one request with every line's row, its answer split back into one line each."""
        puid = lines[0].instance_id
        tags = {"batch_id": self.batch_id}
        item_tags = [
            {"batch_index": line.index, "batch_instance_id": f"{puid}-item-{n}", **tags}
            for n, line in enumerate(lines)
        ]
        kwargs: dict[str, Any] = {"meta": tags, "headers": {SELDON_PUID_HEADER: puid}}
        try:
            loaded = [json.loads(line.text) for line in lines]
            if self.data_type == "raw":
                kwargs["raw_data"], kind, input_tags = _extract_raw_data_multi_request(loaded, tags)
            else:
                kwargs["data"], kind, input_tags = _stack_rows(loaded), self.payload_type, [{}] * len(lines)
            where = f"batch_index(es) {[line.index for line in lines]}"
            response = self._call(lambda: self.client.predict(**kwargs), where)
            rows = None
            if kind == "tensor":
                tensor = response["data"]["tensor"]
                rows = np.array(tensor["values"]).reshape(tensor["shape"])
        except Exception as exc:
            return [(_failure(str(exc), meta), False) for meta in item_tags]
        outputs = []
        for n, meta in enumerate(item_tags):
            try:
                outputs.append((json.dumps(self._item(response, kind, n, rows, input_tags[n], meta)), True))
            except Exception as exc:
                outputs.append((_failure(str(exc), meta), False))
        return outputs

    def _item(self, response: dict, kind: str, n: int, rows: Any, input_tags: dict, meta: dict) -> dict:
        if kind not in ("ndarray", "tensor"):
            raise RuntimeError(
                "Only `ndarray` and `tensor` input are currently supported for batch size greater than 1."
            )
        item = {
            key: _data_row(value, kind, n, rows) if key == "data" else copy.deepcopy(value)
            for key, value in response.items()
        }
        if "data" not in item:
            raise KeyError("data")
        answer_meta = item.setdefault("meta", {})
        answer_meta["tags"] = {**input_tags, **(answer_meta.get("tags") or {})}
        answer_meta["tags"]["batch_index"] = meta["batch_index"]
        answer_meta["tags"]["batch_instance_id"] = meta["batch_instance_id"]
        return item

    def _feedback(self, line: _Line) -> tuple[str, bool]:
        tags = self._line_tags(line)
        try:
            request = json.loads(line.text)
            response = self._call(
                lambda: self.client.feedback(raw_request=request), f"feedback batch_index={line.index}"
            )
            if not isinstance(response, dict):
                response = {}
            meta = response.get("meta")
            if not isinstance(meta, dict):
                meta = response["meta"] = {}
            # Feedback messages carry no meta: the tags only reach the output file.
            meta["tags"] = {**(meta.get("tags") or {}), **tags}
        except Exception as exc:
            return _failure(str(exc), {"tags": tags}), False
        return json.dumps(response), True


# The original's per-request helpers, with its arguments and results, for code that called them.


def _send_batch_predict(
    batch_idx: int,
    batch_instance_id: str,
    input_raw: str,
    data_type: str,
    sc: SeldonClient,
    retries: int,
    batch_id: str,
) -> str:
    """The output line of one input line sent alone."""
    requester = _Requester(sc, "predict", data_type, "ndarray", retries, batch_id)
    return requester.process([_Line(batch_idx, batch_instance_id, input_raw)])[0][0]


def _send_batch_predict_multi_request(
    input_data: list,
    data_type: str,
    sc: SeldonClient,
    retries: int,
    batch_id: str,
    payload_type: str,
) -> list[str]:
    """The output lines of ``(batch_index, batch_instance_id, text)`` lines sent as one mini-batch."""
    requester = _Requester(sc, "predict", data_type, payload_type, retries, batch_id)
    return [text for text, _ in requester._predict_many([_Line(*item) for item in input_data])]


def _send_batch_feedback(
    batch_idx: int,
    batch_instance_id: str,
    input_raw: str,
    data_type: str,
    sc: SeldonClient,
    retries: int,
    batch_id: str,
) -> str:
    """The output line of one feedback line."""
    requester = _Requester(sc, "feedback", data_type, "ndarray", retries, batch_id)
    return requester.process([_Line(batch_idx, batch_instance_id, input_raw)])[0][0]


# ------------------------------------------------------------------------------------------------
# the run: a reader thread, request workers, the writer in the calling thread
# ------------------------------------------------------------------------------------------------


class _Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    WIDTH = 30

    def __init__(self, stream: IO[str], total: int | None, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._visible = False
        self._lock = Lock()

    def advance(self, count: int) -> None:
        self.done += count
        if self.enabled and time.monotonic() - self._drawn_at >= 0.1:
            self._draw()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.started
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * self.done // self.total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            text = f"[{bar}] {self.done}/{self.total} {100 * self.done // self.total:3d}% {elapsed:6.1f} s"
        else:
            text = f"{self.done} lines {elapsed:6.1f} s"
        with self._lock:
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()
            self._visible = True
        self._drawn_at = time.monotonic()

    def clear(self) -> None:
        """Wipe the bar (before a log line or the summary); the next ``advance`` redraws it."""
        with self._lock:
            if self._visible:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._visible = False
        self._drawn_at = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        """A logging filter: log lines do not land in the middle of the bar."""
        self.clear()
        return True


def _count_lines(path: str) -> int:
    """Lines in a file, counted as ``for line in file`` would (for the progress bar's total)."""
    count, last = 0, b"\n"
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _check_settings(method: str, data_type: str, batch_size: int, workers: int) -> None:
    if method == "feedback" and data_type != "raw":
        raise RuntimeError("Feedback method is supported only with `raw` data type.")
    if data_type not in ("data", "raw") and batch_size > 1:
        raise RuntimeError("Batch size greater than 1 is only supported for `data` data type.")
    if workers < 1:
        raise RuntimeError("At least one worker is needed (--workers).")
    if batch_size < 1:
        raise RuntimeError("The batch size must be at least 1 (--batch-size).")


def _read_lines(
    source: IO[str], todo: Queue, batch_size: int, workers: int, errors: list[BaseException]
) -> None:
    """Put the input's lines on ``todo`` in groups of ``batch_size``, then one stop mark per worker."""
    try:
        group: list[_Line] = []
        for index, text in enumerate(source):
            group.append(_Line(index, str(uuid.uuid1()), text))
            if len(group) == batch_size:
                todo.put(group)
                group = []
        if group:
            todo.put(group)
    except BaseException as exc:  # reported by the writer once every read line is written
        errors.append(exc)
    finally:
        for _ in range(workers):
            todo.put(None)


def _request_lines(requester: _Requester, todo: Queue, done: Queue, batch_interval: float) -> None:
    """Answer groups from ``todo`` into ``done`` until the stop mark; each group takes at least
    ``batch_interval`` seconds."""
    try:
        while (group := todo.get()) is not None:
            started = time.monotonic()
            done.put(requester.process(group))
            if batch_interval > 0:
                time.sleep(max(0.0, batch_interval - (time.monotonic() - started)))
    finally:
        done.put(None)


def _client(
    deployment_name: str,
    gateway_type: str,
    namespace: str,
    host: str,
    transport: str,
    payload_type: str,
    call_credentials_token: str,
    use_ssl: bool,
    ssl_verify: bool,
) -> SeldonClient:
    # As the original: TLS settings whenever https or a token is asked for (a token alone means https).
    call_credentials = channel_credentials = None
    if use_ssl or call_credentials_token:
        call_credentials = SeldonCallCredentials(token=call_credentials_token or None)
        channel_credentials = SeldonChannelCredentials(verify=ssl_verify)
    return SeldonClient(
        gateway=gateway_type,
        transport=transport,
        deployment_name=deployment_name,
        payload_type=payload_type,
        gateway_endpoint=host,
        namespace=namespace,
        client_return_type="dict",
        call_credentials=call_credentials,
        channel_credentials=channel_credentials,
    )


def start_multithreaded_batch_worker(
    deployment_name: str,
    gateway_type: str,
    namespace: str,
    host: str,
    transport: str,
    data_type: str,
    payload_type: str,
    workers: int,
    retries: int,
    batch_size: int,
    input_data_path: str,
    output_data_path: str,
    method: str,
    log_level: str,
    benchmark: bool,
    batch_id: str,
    batch_interval: float,
    call_credentials_token: str,
    use_ssl: bool,
    ssl_verify: bool,
) -> BatchSummary:
    """Send every line of ``input_data_path`` with ``workers`` threads and write one line per input line
    to ``output_data_path`` as answers arrive (the parameters are ``run_cli``'s options).

    Raises RuntimeError for settings that cannot work and OSError when a file cannot be opened; line
    failures never raise, they become failure lines.
    """
    setup_logging(log_level)
    started = time.monotonic()
    _check_settings(method, data_type, batch_size, workers)
    if os.path.exists(output_data_path) and os.path.samefile(input_data_path, output_data_path):
        raise RuntimeError(f"The output path {output_data_path} is the input file: it would be overwritten.")
    client = _client(
        deployment_name,
        gateway_type,
        namespace,
        host,
        transport,
        payload_type,
        call_credentials_token,
        use_ssl,
        ssl_verify,
    )
    requester = _Requester(client, method, data_type, payload_type, retries, batch_id)
    terminal = sys.stderr.isatty()
    progress = _Progress(sys.stderr, _count_lines(input_data_path) if terminal else None, terminal)
    todo: Queue = Queue(workers * 2)
    done: Queue = Queue(workers * 2)
    read_errors: list[BaseException] = []
    handlers = logging.getLogger().handlers
    with open(input_data_path, encoding="utf-8") as source, open(output_data_path, "w") as output:
        reader = Thread(
            target=_read_lines, args=(source, todo, batch_size, workers, read_errors), daemon=True
        )
        reader.start()
        for _ in range(workers):
            Thread(target=_request_lines, args=(requester, todo, done, batch_interval), daemon=True).start()
        for handler in handlers:
            handler.addFilter(progress.filter)
        try:
            succeeded = failed = stopped = 0
            while stopped < workers:
                lines = done.get()
                if lines is None:
                    stopped += 1
                    continue
                for text, ok in lines:
                    output.write(f"{text}\n")
                    succeeded += ok
                    failed += not ok
                    if not terminal and (succeeded + failed) % _PROGRESS_LOG_EVERY == 0:
                        logger.info("Processed instances: %d", succeeded + failed)
                progress.advance(len(lines))
            reader.join()
        finally:
            for handler in handlers:
                handler.removeFilter(progress.filter)
            progress.clear()
    logger.info("Total processed instances: %d", succeeded + failed)
    summary = BatchSummary(succeeded + failed, succeeded, failed, time.monotonic() - started)
    if benchmark:
        logger.info("Elapsed time: %s", summary.elapsed)
    print(summary.line(), file=sys.stderr, flush=True)
    if read_errors:
        raise RuntimeError(f"Reading {input_data_path} stopped after {summary.sent} lines: {read_errors[0]}")
    return summary


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _boolean(text: str) -> bool:
    """A boolean option value, spelt as click accepts it (true/false, yes/no, 1/0, on/off, t/f, y/n)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not a valid boolean")


@dataclass(frozen=True)
class _Option:
    """One option: flags, environment variable, default (None: required), choices; ``flag``: no value."""

    dest: str
    flags: tuple[str, ...]
    env: str
    default: Any
    help: str
    choices: Sequence[str] | None = None
    flag: bool = False

    def convert(self, text: str) -> Any:
        if self.choices is not None:
            if text not in self.choices:
                raise ValueError(f"{text!r} is not one of {', '.join(map(repr, self.choices))}")
            return text
        kind = type(self.default)
        if kind is bool:
            return _boolean(text)
        return kind(text) if kind in (int, float) else text

    @property
    def metavar(self) -> str:
        if self.choices is not None:
            return "[" + "|".join(self.choices) + "]"
        return {bool: "BOOLEAN", int: "INTEGER", float: "FLOAT"}.get(type(self.default), "TEXT")


_OPTIONS = (
    _Option(
        "deployment_name", ("--deployment-name", "-d"), "SELDON_BATCH_DEPLOYMENT_NAME", None,
        "The name of the SeldonDeployment to send the requests to",
    ),
    _Option(
        "gateway_type", ("--gateway-type", "-g"), "SELDON_BATCH_GATEWAY_TYPE", "istio",
        "istio/ambassador: through the ingress (/seldon/<namespace>/<deployment>/api/v1.0/...); "
        "seldon: straight to the deployment's service (/api/v1.0/...)",
        CHOICES_GATEWAY_TYPE,
    ),
    _Option(
        "namespace", ("--namespace", "-n"), "SELDON_BATCH_NAMESPACE", "default",
        "The Kubernetes namespace of the SeldonDeployment",
    ),
    _Option(
        "host", ("--host", "-h"), "SELDON_BATCH_HOST",
        "istio-ingressgateway.istio-system.svc.cluster.local:80",
        "host:port of the ingress, or of the deployment's service with --gateway-type seldon",
    ),
    _Option(
        "transport", ("--transport",), "SELDON_BATCH_TRANSPORT", "rest",
        "The transport (-t also sets it, see below)", CHOICES_TRANSPORT,
    ),
    _Option(
        "data_type", ("--data-type", "-a"), "SELDON_BATCH_DATA_TYPE", "data",
        "What an input line is: data (an array), json (jsonData), str (a JSON string, strData) or raw "
        "(a whole SeldonMessage, or a Feedback with --method feedback)",
        CHOICES_DATA_TYPE,
    ),
    _Option(
        "payload_type", ("--payload-type", "-p"), "SELDON_BATCH_PAYLOAD_TYPE", "ndarray",
        "How data arrays are sent", CHOICES_PAYLOAD_TYPE,
    ),
    _Option("workers", ("--workers", "-w"), "SELDON_BATCH_WORKERS", 1, "Requests sent in parallel"),
    _Option(
        "retries", ("--retries", "-r"), "SELDON_BATCH_RETRIES", 3,
        "Attempts per request (the first included) before its lines are written as failures",
    ),
    _Option(
        "input_data_path", ("--input-data-path", "-i"), "SELDON_BATCH_INPUT_DATA_PATH",
        "/assets/input-data.txt", "The input file: one request per line",
    ),
    _Option(
        "output_data_path", ("--output-data-path", "-o"), "SELDON_BATCH_OUTPUT_DATA_PATH",
        "/assets/output-data.txt", "The output file: one line per input line, in answer order",
    ),
    _Option(
        "method", ("--method", "-m"), "SELDON_BATCH_METHOD", "predict",
        "predict, or feedback (needs --data-type raw)", CHOICES_METHOD,
    ),
    _Option(
        "log_level", ("--log-level", "-l"), "SELDON_BATCH_LOG_LEVEL", "info",
        "The log level", list(CHOICES_LOG_LEVEL),
    ),
    _Option(
        "benchmark", ("--benchmark", "-b"), "SELDON_BATCH_BENCHMARK", False,
        "Also log the elapsed time", flag=True,
    ),
    _Option(
        "batch_id", ("--batch-id", "-u"), "SELDON_BATCH_ID", "",
        "The batch_id tag of every request (default: a new uuid1)",
    ),
    _Option(
        "batch_size", ("--batch-size", "-s"), "SELDON_BATCH_SIZE", 1,
        "Lines sent together in one request, one row each (data and raw data types)",
    ),
    _Option(
        "batch_interval", ("--batch-interval",), "SELDON_BATCH_MIN_INTERVAL", 0.0,
        "Minimum seconds each worker spends per request (-t also sets it, see below)",
    ),
    _Option(
        "use_ssl", ("--use-ssl",), "SELDON_BATCH_USE_SSL", False,
        "Use https rather than http for REST through an ingress",
    ),
    _Option(
        "call_credentials_token", ("--call-credentials-token",), "SELDON_BATCH_CALL_CREDENTIALS_TOKEN", "",
        "Token sent as X-Auth-Token; given, REST through an ingress uses https",
    ),
    _Option(
        "ssl_verify", ("--ssl-verify",), "SELDON_BATCH_SSL_VERIFY", True,
        "false: do not verify the server's certificate",
    ),
)  # fmt: skip


class _TransportOrInterval(argparse.Action):
    """``-t``: the original declared it for both --transport and --batch-interval (click kept the
    last, so only numbers worked); here ``rest``/``grpc`` set the transport and a number the interval."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, value: Any, flag: Any = None) -> None:
        if value in CHOICES_TRANSPORT:
            namespace.transport = value
            return
        try:
            namespace.batch_interval = float(value)
        except ValueError:
            parser.error(f"argument -t: {value!r} is neither rest, grpc nor a batch interval in seconds")


def _converter(option: _Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return option.convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seldon-batch-processor",
        add_help=False,  # -h is --host, as in the original
        allow_abbrev=False,
        description="Send each line of the input file to a Seldon deployment, with parallel workers and "
        "retries, and write one output line per input line (tagged batch_id, batch_index, "
        "batch_instance_id). Every option can also come from the environment variable shown.",
    )
    for option in _OPTIONS:
        default = {None: "; required", "": ""}.get(option.default, f"; default {option.default!r}")
        help_text = f"{option.help} [env {option.env}{default}]"
        if option.flag:
            parser.add_argument(
                *option.flags, dest=option.dest, action="store_true", default=None, help=help_text
            )
        else:
            parser.add_argument(
                *option.flags,
                dest=option.dest,
                type=_converter(option),
                metavar=option.metavar,
                help=help_text,
            )
    parser.add_argument(
        "-t",
        action=_TransportOrInterval,
        metavar="VALUE",
        help="rest or grpc: --transport; a number: --batch-interval",
    )
    parser.add_argument("--help", action="help", help="Show this message and exit.")
    return parser


def parse_options(argv: Sequence[str] | None = None, environ: dict | None = None) -> dict[str, Any]:
    """The keyword arguments of ``start_multithreaded_batch_worker``: flags, else environment, else
    defaults. Bad values exit with status 2 and a usage message, as the original's click did."""
    parser = _parser()
    args = vars(parser.parse_args(argv))
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {}
    for option in _OPTIONS:
        value = args.get(option.dest)
        from_env = environ.get(option.env)
        if value is None and from_env:  # empty variables count as unset, as with click
            try:
                value = option.convert(from_env)
            except ValueError as exc:
                parser.error(f"environment variable {option.env}: {exc}")
        if value is None:
            if option.default is None:
                parser.error(f"missing option {' / '.join(option.flags)} (or {option.env})")
            value = option.default
        options[option.dest] = value
    options["batch_id"] = options["batch_id"] or str(uuid.uuid1())
    return options


def run_cli(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``seldon-batch-processor``."""
    options = parse_options(argv)
    try:
        start_multithreaded_batch_worker(**options)
    except (RuntimeError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_cli()
