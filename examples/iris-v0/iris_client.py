"""Send one flower to the iris example's ``io.seldon.api.rpc.Classifier/Predict`` and print the
reply as JSON: the features go in an ``IrisPredictRequest`` packed into the request's Any, as
the Seldon server sent them to a pre-Core gRPC scorer.

Needs seldon-wrapper installed (for the Classifier stubs) and runs from this folder (iris_pb2).
"""

import argparse
import json
import sys

import grpc
import iris_pb2
from google.protobuf import any_pb2, json_format, wrappers_pb2

from seldon_wrapper.proto import seldon_v0_pb2, seldon_v0_pb2_grpc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=5000, help="the server's gRPC port")
    parser.add_argument("--features-json", required=True, help='{"f1": 4.8, "f2": 3.0, "f3": 1.4, "f4": 0.1}')
    parser.add_argument("--puid", default="", help="prediction id, echoed (the server makes one when empty)")
    parser.add_argument(
        "--as-text", action="store_true", help="pack the JSON as a StringValue instead, to see the refusal"
    )
    args = parser.parse_args()

    data = any_pb2.Any()
    if args.as_text:
        data.Pack(wrappers_pb2.StringValue(value=args.features_json))
    else:
        data.Pack(iris_pb2.IrisPredictRequest(**json.loads(args.features_json)))
    request = seldon_v0_pb2.ClassificationRequest(
        meta=seldon_v0_pb2.ClassificationRequestMeta(puid=args.puid), data=data
    )
    with grpc.insecure_channel(f"{args.host}:{args.port}") as channel:
        try:
            reply = seldon_v0_pb2_grpc.ClassifierStub(channel).Predict(request, timeout=10)
        except grpc.RpcError as exc:
            print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    print(json.dumps(json_format.MessageToDict(reply), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
