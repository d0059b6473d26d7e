"""Regenerate seldon_wrapper/proto/*_pb2*.py from proto/*.proto with grpcio-tools.

Run through ``make proto`` (which pins grpcio-tools) so the output is reproducible. The
generated imports of the TensorFlow protos are pointed at our own copies under
seldon_wrapper.proto, so TensorFlow is never needed.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import sys
import tempfile

from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "proto"
DEST = ROOT / "seldon_wrapper" / "proto"


def generate(dest: pathlib.Path) -> None:
    protos = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{SRC}",
        f"-I{include}",
        f"--python_out={dest}",
        f"--pyi_out={dest}",
        f"--grpc_python_out={dest}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in (dest / "tensorflow").rglob("*_pb2_grpc.py"):
        path.unlink()  # the TensorFlow protos declare no services
    for path in dest.rglob("*.py*"):
        text = path.read_text()
        text = re.sub(
            r"^from tensorflow\.core\.framework import",
            "from seldon_wrapper.proto.tensorflow.core.framework import",
            text,
            flags=re.M,
        )
        text = re.sub(
            r"^import (prediction_pb2|grpc_predict_v2_pb2|seldon_v0_pb2)",
            r"from seldon_wrapper.proto import \1",
            text,
            flags=re.M,
        )
        if path.name == "grpc_predict_v2_pb2.py":
            # tritonclient and MLServer register their own inference.* messages in protobuf's
            # default pool; a private pool lets a model import them beside ours.
            text = text.replace(
                "DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(",
                "DESCRIPTOR = _descriptor_pool.DescriptorPool().AddSerializedFile(",
            )
        path.write_text(text)
    for folder in [dest, *[p for p in dest.rglob("*") if p.is_dir()]]:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        generate(out)
        if "--check" in sys.argv:
            diffs = []
            for path in out.rglob("*.py*"):
                rel = path.relative_to(out)
                committed = DEST / rel
                if not committed.exists() or committed.read_text() != path.read_text():
                    diffs.append(str(rel))
            fresh = {str(p.relative_to(out)) for p in out.rglob("*.py*")}
            committed_files = {
                str(p.relative_to(DEST)) for p in DEST.rglob("*_pb2*.py*") if "__pycache__" not in p.parts
            }
            diffs += sorted(committed_files - fresh)
            if diffs:
                raise SystemExit("generated code differs from proto/: " + ", ".join(sorted(diffs)))
            print("generated code is up to date")
            return
        for path in out.rglob("*.py*"):
            rel = path.relative_to(out)
            (DEST / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DEST / rel)
    print(f"generated into {DEST}")


if __name__ == "__main__":
    main()
