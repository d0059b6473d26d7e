#!/usr/bin/env python3
"""Closed-loop asyncio gRPC load client: one grpc.aio channel, C concurrent callers.

    grpc_load.py --api v1 --target 127.0.0.1:PORT -d 15 -c 16
    grpc_load.py --api v2 --model MyModel --target 127.0.0.1:PORT -d 15 -c 16

--api v1 : /seldon.protos.Model/Predict with SeldonMessage{data{ndarray:[[1.0,2.0,3.0,4.0]]}}
--api v2 : /inference.GRPCInferenceService/ModelInfer with a 1x4 FP64 tensor "input-0"
           in contents.fp64_contents (the typed V2 gRPC form)

The request is serialised once and responses are not parsed in the hot loop (the first one
is checked for identity semantics), so the client spends little of the shared CPU. Message
classes come from this repository's committed gencode (seldon_wrapper/proto, built from the
same .proto files as seldon-core's and the Open Inference Protocol's); only the protobuf
runtime is needed, not the seldon_wrapper package. Prints one line
    GRPC_JSON {...}
with requests, rps, latency percentiles (ms), errors and the client's own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

from seldon_wrapper.proto import grpc_predict_v2_pb2 as v2_pb2  # noqa: E402
from seldon_wrapper.proto import prediction_pb2  # noqa: E402

METHODS = {
    "v1": "/seldon.protos.Model/Predict",
    "v1-graph": "/seldon.protos.Seldon/Predict",  # the executor's front door
    "v2": "/inference.GRPCInferenceService/ModelInfer",
}
SMALL = [1.0, 2.0, 3.0, 4.0]


def build_request(api: str, model: str):
    if api.startswith("v1"):
        return json_format.ParseDict({"data": {"ndarray": [SMALL]}}, prediction_pb2.SeldonMessage())
    req = v2_pb2.ModelInferRequest(model_name=model)
    tensor = req.inputs.add()
    tensor.name, tensor.datatype = "input-0", "FP64"
    tensor.shape.extend([1, len(SMALL)])
    tensor.contents.fp64_contents.extend(SMALL)
    return req


def check_response(api: str, raw: bytes, req) -> str | None:
    """None if the response carries the request's numbers back, else a description."""
    if api.startswith("v1"):
        got = json_format.MessageToDict(prediction_pb2.SeldonMessage.FromString(raw))
        got_nd = got.get("data", {}).get("ndarray")
        return None if got_nd == [SMALL] else f"v1 ndarray mismatch: {str(got)[:200]}"
    resp = v2_pb2.ModelInferResponse.FromString(raw)
    if not resp.outputs:
        return f"v2: no outputs: {str(resp)[:200]}"
    out = resp.outputs[0]
    got = list(out.contents.fp64_contents)
    if not got and resp.raw_output_contents:
        blob = resp.raw_output_contents[0]
        got = list(struct.unpack(f"<{len(blob) // 8}d", blob))
    if got != SMALL or list(out.shape) != [1, len(SMALL)]:
        return f"v2 mismatch: shape={list(out.shape)} data={got[:8]}"
    return None


def percentile(sorted_vals: list[int], p: float) -> int | None:
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


async def wait_ready(call, payload: bytes, timeout_s: float) -> bytes:
    end = time.perf_counter() + timeout_s
    while True:
        try:
            return await call(payload, timeout=2.0)
        except grpc.aio.AioRpcError:
            if time.perf_counter() > end:
                raise
            await asyncio.sleep(0.02)


async def run(a: argparse.Namespace) -> dict:
    req = build_request(a.api, a.model)
    payload = req.SerializeToString()
    async with grpc.aio.insecure_channel(a.target) as channel:
        call = channel.unary_unary(METHODS[a.api])  # bytes in, bytes out
        first = await wait_ready(call, payload, a.ready_timeout)
        check = check_response(a.api, first, req)
        for _ in range(a.warmup):
            await call(payload, timeout=a.timeout)

        latencies: list[int] = []
        errors = 0
        error_sample = None
        issued = 0

        async def caller(deadline: float) -> None:
            nonlocal issued, errors, error_sample
            clock = time.perf_counter_ns
            while issued < a.max_requests and time.perf_counter() < deadline:
                issued += 1
                t = clock()
                try:
                    await call(payload, timeout=a.timeout)
                    latencies.append(clock() - t)
                except grpc.aio.AioRpcError as exc:
                    errors += 1
                    if error_sample is None:
                        error_sample = f"{exc.code()}: {exc.details()}"

        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        await asyncio.gather(*(caller(t0 + a.duration) for _ in range(a.concurrency)))
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)

    latencies.sort()
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)

    def ms(v: int | None) -> float | None:
        return None if v is None else round(v / 1e6, 3)

    return {
        "api": a.api,
        "concurrency": a.concurrency,
        "request_bytes": len(payload),
        "requests": len(latencies),
        "errors": errors,
        "error_sample": error_sample,
        "check_error": check,
        "duration_s": round(wall, 3),
        "rps": round(len(latencies) / wall, 1) if wall > 0 else None,
        "lat_p50_ms": ms(percentile(latencies, 50)),
        "lat_p90_ms": ms(percentile(latencies, 90)),
        "lat_p99_ms": ms(percentile(latencies, 99)),
        "lat_max_ms": ms(latencies[-1] if latencies else None),
        "client_cpu_s": round(cpu, 3),
        "client_cpu_pct": round(100 * cpu / wall, 1) if wall else None,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", choices=sorted(METHODS), required=True)
    p.add_argument("--target", required=True, help="host:port")
    p.add_argument("--model", default="MyModel", help="V2 model name")
    p.add_argument("-d", "--duration", type=float, default=15.0, help="measured seconds")
    p.add_argument("-c", "--concurrency", type=int, default=16)
    p.add_argument("-n", "--max-requests", type=int, default=1_000_000, help="stop earlier after this many")
    p.add_argument("--warmup", type=int, default=200, help="sequential calls before measuring")
    p.add_argument("--timeout", type=float, default=10.0, help="per-call deadline (s)")
    p.add_argument("--ready-timeout", type=float, default=30.0)
    out = asyncio.run(run(p.parse_args()))
    print("GRPC_JSON " + json.dumps(out), flush=True)
    return 0 if out["errors"] == 0 and out["check_error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
