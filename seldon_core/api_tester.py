"""``seldon-core-api-tester``: send random batches to a deployment through its ingress (ambassador paths).

``seldon-core-api-tester contract.json HOST PORT [DEPLOYMENT (default mymodel)] [--namespace NS]
[--endpoint predict|send-feedback] [-b BATCH] [-n REQUESTS] [--grpc] [-t] [-p] [--log-level ...]``

REST goes to ``http://HOST:PORT/seldon/[NS/]DEPLOYMENT/api/v1.0/predictions`` (and ``.../feedback``);
gRPC calls ``seldon.protos.Seldon`` on HOST:PORT with metadata ``seldon=DEPLOYMENT`` (``namespace=NS``).
The contract format is the microservice tester's (see ``seldon_core.microservice_tester``).
"""

from __future__ import annotations

import argparse
import json  # noqa: F401 - a name the original's module had
import logging  # noqa: F401 - a name the original's module had

from seldon_core.microservice_tester import (
    _load_contract,
    _payload_type,
    _report_failure,
    _run_tool,
    _send_batches,
    _tester_parser,
    _transport,
    generate_batch,
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
    client = get_seldon_client(args)
    payload_type = _payload_type(args)
    return _send_batches(
        args,
        lambda batch, names: client.predict(
            data=batch, deployment_name=args.deployment, names=names, payload_type=payload_type
        ),
    )


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
    _run_tool("seldon-core-api-tester", args, run_send_feedback, run_predict)


if __name__ == "__main__":
    main()
