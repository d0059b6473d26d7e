"""gRPC ceiling: a raw-bytes echo server (no protobuf parsing), sync grpc.server like ours.

Serves /seldon.protos.Model/Predict and /inference.GRPCInferenceService/ModelInfer by
returning the request bytes. An echoed SeldonMessage is a valid SeldonMessage, and an echoed
ModelInferRequest parses as a ModelInferResponse whose outputs equal the inputs (same field
numbers), so the load client and its identity check work unchanged.

    python grpc_echo.py --addr 127.0.0.1:PORT [--threads 1] [--mode sync|aio]
    python grpc_echo.py --addr 127.0.0.1:PORT --mode proxy --to 127.0.0.1:P1 --to ...

``--mode proxy`` is bench/graph.py's chain ceiling: what an executor cannot do with less on this
stack. A grpc.aio server (as the executor's front door) serves /seldon.protos.Seldon/Predict by
calling /seldon.protos.Model/Predict on each target in turn over kept grpc.aio channels, the
previous answer's bytes being the next request (no parsing, metadata, walk or metrics); with
echo targets the answer is the request, so the load client's identity check holds.
"""

import argparse
import asyncio
from concurrent import futures

import grpc

READY = b"\x08\x01"  # ServerReadyResponse{ready: true}


def _handlers(echo, ready):
    rpc = grpc.unary_unary_rpc_method_handler(echo)  # no (de)serialisers: raw bytes
    return (
        grpc.method_handlers_generic_handler("seldon.protos.Model", {"Predict": rpc}),
        grpc.method_handlers_generic_handler(
            "inference.GRPCInferenceService",
            {"ModelInfer": rpc, "ServerReady": grpc.unary_unary_rpc_method_handler(ready)},
        ),
    )


def serve_sync(addr: str, threads: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads))
    server.add_generic_rpc_handlers(_handlers(lambda req, ctx: req, lambda req, ctx: READY))
    server.add_insecure_port(addr)
    server.start()
    server.wait_for_termination()


async def _run_aio(addr: str, handlers) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(handlers)
    server.add_insecure_port(addr)
    await server.start()
    await server.wait_for_termination()


async def serve_aio(addr: str) -> None:
    async def echo(req, ctx):
        return req

    async def ready(req, ctx):
        return READY

    await _run_aio(addr, _handlers(echo, ready))


async def serve_proxy(addr: str, targets: list[str]) -> None:
    method = "/seldon.protos.Model/Predict"
    calls = [grpc.aio.insecure_channel(target).unary_unary(method) for target in targets]

    async def predict(req, ctx):
        for call in calls:
            req = await call(req)
        return req

    rpc = grpc.unary_unary_rpc_method_handler(predict)
    await _run_aio(addr, (grpc.method_handlers_generic_handler("seldon.protos.Seldon", {"Predict": rpc}),))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", required=True)
    parser.add_argument("--mode", choices=["sync", "aio", "proxy"], default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--to", action="append", default=[], help="proxy: a target, in call order")
    args = parser.parse_args()
    if args.mode == "sync":
        serve_sync(args.addr, args.threads)
    elif args.mode == "proxy":
        asyncio.run(serve_proxy(args.addr, args.to))
    else:
        asyncio.run(serve_aio(args.addr))
