"""``seldon-core-api-tester``: send random batches to a deployment through its ingress (ambassador paths).

``seldon-core-api-tester contract.json HOST PORT [DEPLOYMENT (default mymodel)] [--namespace NS]
[--endpoint predict|send-feedback] [-b BATCH] [-n REQUESTS] [--grpc] [-t] [-p] [--log-level ...]``

REST goes to ``http://HOST:PORT/seldon/[NS/]DEPLOYMENT/api/v1.0/predictions`` (and ``.../feedback``);
gRPC calls ``seldon.protos.Seldon`` on HOST:PORT with metadata ``seldon=DEPLOYMENT`` (``namespace=NS``).
The contract format is the microservice tester's (see ``seldon_core.microservice_tester``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from seldon_core.microservice_tester import (
    LOG_FORMAT,
    LOG_LEVELS,
    SeldonTesterException,
    _finish,
    _load_contract,
    _payload_type,
    _report_failure,
    _tester_parser,
    _transport,
    generate_batch,
    get_class_names,
    unfold_contract,
)
from seldon_core.seldon_client import SeldonClient

__all__ = [
    "generate_batch",
    "get_seldon_client",
    "main",
    "run_predict",
    "run_send_feedback",
    "unfold_contract",
]


def get_seldon_client(args: argparse.Namespace) -> SeldonClient:
    """A client for the ambassador gateway at ``host:port`` and the named deployment/namespace."""
    return SeldonClient(
        gateway="ambassador",
        gateway_endpoint=f"{args.host}:{args.port}",
        transport=_transport(args),
        deployment_name=args.deployment,
        namespace=args.namespace,
    )


def run_send_feedback(args: argparse.Namespace) -> int:
    """For each request: a predict through the gateway, then feedback on it with reward 1.0.
    Answers the failed calls."""
    failures = 0
    contract = _load_contract(args.contract)
    client = get_seldon_client(args)
    for _ in range(args.n_requests):
        batch = generate_batch(contract, args.batch_size, "features")
        prediction = client.predict(data=batch, deployment_name=args.deployment)
        failures += _report_failure(prediction)
        feedback = client.feedback(
            prediction_request=prediction.request,
            prediction_response=prediction.response,
            reward=1.0,
            deployment_name=args.deployment,
            transport=_transport(args),
        )
        failures += _report_failure(feedback)
        if args.prnt:
            print(f"RECEIVED RESPONSE:\n{feedback}\n")
    return failures


def run_predict(args: argparse.Namespace) -> int:
    """Predictions through the gateway with the contract's feature names. Answers the failed calls."""
    failures = 0
    contract = _load_contract(args.contract)
    feature_names = get_class_names(contract)
    client = get_seldon_client(args)
    payload_type = _payload_type(args)
    for _ in range(args.n_requests):
        batch = generate_batch(contract, args.batch_size, "features")
        if args.prnt:
            print(f"{'-' * 40}\nSENDING NEW REQUEST:\n")
            print(batch)
        prediction = client.predict(
            data=batch, deployment_name=args.deployment, names=feature_names, payload_type=payload_type
        )
        failures += _report_failure(prediction)
        if args.prnt:
            print(f"RECEIVED RESPONSE:\n{prediction.response}\n")
    return failures


def build_parser() -> argparse.ArgumentParser:
    parser = _tester_parser(
        "Send random requests built from a contract to a deployment",
        ["predict", "send-feedback"],
        deployment=True,
    )
    parser.add_argument("--namespace", type=str)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=LOG_LEVELS[args.log_level], format=LOG_FORMAT)
    try:
        if args.endpoint == "send-feedback":
            failures = run_send_feedback(args)
            calls = 2 * args.n_requests
        else:
            failures = run_predict(args)
            calls = args.n_requests
    except (OSError, ValueError, SeldonTesterException) as exc:
        sys.exit(f"seldon-core-api-tester: error: {type(exc).__name__}: {exc}")
    _finish("seldon-core-api-tester", failures, calls)


if __name__ == "__main__":
    main()
