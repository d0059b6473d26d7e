"""The committed generated code is exactly what grpcio-tools makes from proto/ (make proto)."""

import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_generated_code_matches_a_fresh_generation():
    result = subprocess.run(
        ["make", "-s", "proto-check"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "generated code is up to date" in result.stdout


def test_generated_stubs_name_the_seldon_package():
    from seldon_wrapper.proto import prediction_pb2

    assert prediction_pb2.DESCRIPTOR.package == "seldon.protos"
    services = set(prediction_pb2.DESCRIPTOR.services_by_name)
    assert services == {
        "Generic",
        "Model",
        "Router",
        "Transformer",
        "OutputTransformer",
        "Combiner",
        "Seldon",
    }
    fields = {f.name: f.number for f in prediction_pb2.SeldonMessage.DESCRIPTOR.fields}
    assert fields == {
        "status": 1,
        "meta": 2,
        "data": 3,
        "binData": 4,
        "strData": 5,
        "jsonData": 6,
        "customData": 7,
    }
