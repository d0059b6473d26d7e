"""Regenerate seldon_wrapper/proto/*_pb2*.py from proto/*.proto with grpcio-tools.

Run through ``make proto`` (which pins grpcio-tools) so the output is reproducible. The
generated imports of the TensorFlow protos are pointed at our own copies under
seldon_wrapper.proto, so TensorFlow is never needed.

Examples that bring a message type of their own (``EXAMPLE_PROTOS``) get its ``*_pb2.py`` next
to the ``.proto``, generated and checked by the same pinned protoc.
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
#: Example folders with a message type of their own: each .proto there -> its _pb2.py beside it.
EXAMPLE_PROTOS = (ROOT / "examples" / "iris-v0",)


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


def generate_example(folder: pathlib.Path, dest: pathlib.Path) -> list[pathlib.Path]:
    """The ``_pb2.py`` of each .proto in an example folder (messages only: no stubs, no .pyi)."""
    protos = sorted(p.name for p in folder.glob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    if protoc.main(["protoc", f"-I{folder}", f"-I{include}", f"--python_out={dest}", *protos]) != 0:
        raise SystemExit(f"protoc failed for {folder}")
    paths = [dest / (pathlib.Path(name).stem + "_pb2.py") for name in protos]
    for path in paths:
        # Generated code is not held to the project's lint rules (seldon_wrapper/proto is excluded).
        path.write_text("# ruff: noqa\n" + path.read_text())
    return paths


def examples(check: bool) -> list[str]:
    """Generate (or, with ``check``, compare) the examples' message code; the differing files."""
    diffs = []
    for folder in EXAMPLE_PROTOS:
        with tempfile.TemporaryDirectory() as tmp:
            for path in generate_example(folder, pathlib.Path(tmp)):
                committed = folder / path.name
                if not check:
                    shutil.copyfile(path, committed)
                elif not committed.exists() or committed.read_text() != path.read_text():
                    diffs.append(str(committed.relative_to(ROOT)))
    return diffs


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp)
        generate(out)
        if "--check" in sys.argv:
            diffs = examples(check=True)
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
                raise SystemExit("generated code differs from its .proto: " + ", ".join(sorted(diffs)))
            print("generated code is up to date")
            return
        for path in out.rglob("*.py*"):
            rel = path.relative_to(out)
            (DEST / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DEST / rel)
    examples(check=False)
    print(f"generated into {DEST} and the example folders")


if __name__ == "__main__":
    main()
