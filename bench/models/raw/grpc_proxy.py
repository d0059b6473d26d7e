"""gRPC chain ceiling: a raw-bytes proxy that passes each request through N servers in turn.

What an executor cannot do with less on this stack: one grpc.aio server (as the executor's
front door) whose handler calls each target's same method over a kept grpc.aio channel, the
previous answer's bytes being the next request (no protobuf parsing, no metadata, no walk, no
metrics). With grpc_echo.py targets, the answer is the request, so the load client's identity
check still holds.

    python grpc_proxy.py --addr 127.0.0.1:PORT --to 127.0.0.1:P1 --to 127.0.0.1:P2 ...

Serves /seldon.protos.Seldon/Predict (the executor's method), calling
/seldon.protos.Model/Predict on every target.
"""

import argparse
import asyncio

import grpc


async def serve(addr: str, targets: list[str]) -> None:
    channels = [grpc.aio.insecure_channel(target) for target in targets]
    calls = [channel.unary_unary("/seldon.protos.Model/Predict") for channel in channels]

    async def predict(request: bytes, context) -> bytes:
        for call in calls:
            request = await call(request)
        return request

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "seldon.protos.Seldon", {"Predict": grpc.unary_unary_rpc_method_handler(predict)}
            ),
        )
    )
    server.add_insecure_port(addr)
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", required=True)
    parser.add_argument("--to", action="append", required=True, help="a target, in call order")
    args = parser.parse_args()
    asyncio.run(serve(args.addr, args.to))
