"""``seldon-core-tester`` / ``seldon-core-microservice-tester``: send random batches to one wrapped model.

``seldon-core-microservice-tester contract.json HOST PORT [--endpoint predict|send-feedback|transform-input]
[-b BATCH] [-n REQUESTS] [--grpc] [-t] [-p] [--log-level DEBUG|INFO|ERROR]``

The contract (JSON) lists ``features`` and ``targets``; each entry has a ``name``, a ``dtype``
(``FLOAT`` or ``INT``) and an ``ftype``: ``continuous`` (optional ``range`` ``[lo, hi]`` where either
bound may be ``"inf"``, optional ``shape``) or ``categorical`` (with ``values``). ``repeat: N`` expands an
entry to ``name1..nameN`` (features) or ``name:0..name:N-1`` (targets).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any, Dict, List, Tuple, Union  # noqa: F401, UP035 - the original's names

import numpy as np
from numpy import ndarray  # noqa: F401 - a name the original's module had

from seldon_core.seldon_client import SeldonClient

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s - %(name)s:%(funcName)s:%(lineno)s - %(levelname)s:  %(message)s"
LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "ERROR": logging.ERROR}


class SeldonTesterException(Exception):
    """A contract the tester cannot generate data for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def gen_continuous(f_range: Any, n: Any) -> np.ndarray:
    """Random values of shape ``n`` within ``f_range``; an ``"inf"`` bound makes that side unbounded."""
    low, high = f_range[0], f_range[1]
    if low == "inf" and high == "inf":
        return np.random.normal(size=n)
    if low == "inf":
        return high - np.random.lognormal(size=n)
    if high == "inf":
        return low + np.random.lognormal(size=n)
    return np.random.uniform(low, high, size=n)


def reconciliate_cont_type(feature: np.ndarray, dtype: str) -> np.ndarray:
    """``FLOAT`` values as they are; ``INT`` rounded to whole numbers (still floats)."""
    if dtype == "FLOAT":
        return feature
    if dtype == "INT":
        return (feature + 0.5).astype(int).astype(float)
    raise SeldonTesterException(f"Unknown dtype in reconciliate_cont_type {dtype}")


def gen_categorical(values: list, n: Any) -> np.ndarray:
    """Random picks from ``values`` in an array of shape ``n``."""
    picks = np.random.randint(len(values), size=n)
    return np.array(values)[picks]


def generate_batch(contract: dict, n: int, field: str) -> np.ndarray:
    """``n`` random rows for the contract's ``field`` (``features`` or ``targets``), one column block per
    entry; mixed continuous and categorical columns give an object array."""
    blocks = []
    kinds = set()
    for definition in contract[field]:
        ftype = definition.get("ftype")
        kinds.add(ftype)
        if ftype == "continuous":
            f_range = definition.get("range", ["inf", "inf"])
            shape = [n, *definition["shape"]] if "shape" in definition else [n, 1]
            block = np.around(gen_continuous(f_range, shape), decimals=3)
            block = reconciliate_cont_type(block, definition.get("dtype"))
        elif ftype == "categorical":
            block = gen_categorical(definition["values"], [n, 1])
        else:
            raise SeldonTesterException(f"Unknown feature type {ftype}")
        blocks.append(block)
    if len(kinds) <= 1:
        return np.concatenate(blocks, axis=1)
    width = sum(block.shape[1] for block in blocks)
    out = np.empty((n, width), dtype=object)
    return np.concatenate(blocks, axis=1, out=out)


def _unfold(entries: list, name_of: Any) -> list:
    unfolded = []
    for entry in entries:
        repeat = entry.get("repeat")
        if repeat is None:
            unfolded.append(entry)
            continue
        for i in range(repeat):
            copy = {key: value for key, value in entry.items() if key != "repeat"}
            copy["name"] = name_of(entry["name"], i)
            unfolded.append(copy)
    return unfolded


def unfold_contract(contract: dict) -> dict:
    """Expand ``repeat`` entries: features ``name1..nameN``, targets ``name:0..name:N-1``."""
    return {
        "targets": _unfold(contract.get("targets", []), lambda name, i: f"{name}:{i}"),
        "features": _unfold(contract.get("features", []), lambda name, i: f"{name}{i + 1}"),
    }


def get_class_names(contract: dict) -> list:
    return [feature["name"] for feature in contract["features"]]


def _load_contract(path: str) -> dict:
    with open(path) as handle:
        return unfold_contract(json.load(handle))


def _transport(args: argparse.Namespace) -> str:
    return "grpc" if args.grpc else "rest"


def _payload_type(args: argparse.Namespace) -> str:
    return "tensor" if args.tensor else "ndarray"


def _report_failure(result: Any) -> int:
    """Log a failed call (on stderr at the default ERROR level); 1 if it failed, else 0."""
    if result.success:
        return 0
    logger.error("request failed: %s", result.msg)
    return 1


def _send_batches(args: argparse.Namespace, send: Callable[[np.ndarray, list], Any]) -> int:
    """``n_requests`` random batches of the contract's features, each sent by ``send(batch, feature
    names)``. Answers the failed calls."""
    failures = 0
    contract = _load_contract(args.contract)
    feature_names = get_class_names(contract)
    for _ in range(args.n_requests):
        batch = generate_batch(contract, args.batch_size, "features")
        if args.prnt:
            print(f"{'-' * 40}\nSENDING NEW REQUEST:\n")
            print(batch)
        result = send(batch, feature_names)
        failures += _report_failure(result)
        if args.prnt:
            print(f"RECEIVED RESPONSE:\n{result.response}\n")
    return failures


def _run_tool(
    tool: str,
    args: argparse.Namespace,
    send_feedback: Callable[[argparse.Namespace], int],
    other: Callable[[argparse.Namespace], int],
) -> None:
    """Run the chosen endpoint's calls (feedback makes two per request); exit with one line on an
    error or when calls failed."""
    logging.basicConfig(level=LOG_LEVELS[args.log_level], format=LOG_FORMAT)
    try:
        if args.endpoint == "send-feedback":
            failures = send_feedback(args)
            calls = 2 * args.n_requests
        else:
            failures = other(args)
            calls = args.n_requests
    except (OSError, ValueError, SeldonTesterException) as exc:
        # Connection refused, unreadable contract, bad contract: one line, not a traceback.
        sys.exit(f"{tool}: error: {type(exc).__name__}: {exc}")
    if failures:
        sys.exit(f"{tool}: {failures} of {calls} calls failed")


def run_send_feedback(args: argparse.Namespace) -> int:
    """For each request: a predict, then feedback on it with reward 1.0. Answers the failed calls."""
    failures = 0
    contract = _load_contract(args.contract)
    client = SeldonClient(microservice_endpoint=f"{args.host}:{args.port}")
    for _ in range(args.n_requests):
        batch = generate_batch(contract, args.batch_size, "features")
        if args.prnt:
            print("-" * 40)
            print("SENDING NEW REQUEST:")
        prediction = client.microservice(
            data=batch, transport=_transport(args), payload_type=_payload_type(args), method="predict"
        )
        failures += _report_failure(prediction)
        feedback = client.microservice_feedback(
            prediction_request=prediction.request,
            prediction_response=prediction.response,
            reward=1.0,
            transport=_transport(args),
        )
        failures += _report_failure(feedback)
        if args.prnt:
            print(f"RECEIVED RESPONSE:\n{feedback}\n")
    return failures


def run_method(args: argparse.Namespace, method: str) -> int:
    """``predict`` or ``transform-input`` with the contract's feature names. Answers the failed calls."""
    client = SeldonClient(microservice_endpoint=f"{args.host}:{args.port}")
    transport, payload_type = _transport(args), _payload_type(args)
    return _send_batches(
        args,
        lambda batch, names: client.microservice(
            data=batch, transport=transport, method=method, payload_type=payload_type, names=names
        ),
    )


def _tester_parser(description: str, endpoints: list, deployment: bool = False) -> argparse.ArgumentParser:
    """The arguments both testers take, in the order they show in ``--help``; ``deployment`` adds the api
    tester's optional positional after ``port``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("contract", type=str, help="File that contains the data contract")
    parser.add_argument("host", type=str)
    parser.add_argument("port", type=int)
    if deployment:
        parser.add_argument("deployment", type=str, nargs="?", default="mymodel")
    parser.add_argument("--endpoint", type=str, choices=endpoints, default="predict")
    parser.add_argument("-b", "--batch-size", type=int, default=1)
    parser.add_argument("-n", "--n-requests", type=int, default=1)
    parser.add_argument("--grpc", action="store_true")
    parser.add_argument("-t", "--tensor", action="store_true")
    parser.add_argument("-p", "--prnt", action="store_true", help="Prints requests and responses")
    parser.add_argument("--log-level", type=str, choices=list(LOG_LEVELS), default="ERROR")
    return parser


def build_parser() -> argparse.ArgumentParser:
    return _tester_parser(
        "Send random requests built from a contract to a microservice",
        ["predict", "send-feedback", "transform-input"],
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    _run_tool("seldon-core-microservice-tester", args, run_send_feedback, lambda a: run_method(a, a.endpoint))


if __name__ == "__main__":
    main()
