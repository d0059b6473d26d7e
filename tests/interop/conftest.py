"""Fixtures for the interop tests: the ORIGINAL ``seldon-core==1.19.0`` in a cached virtualenv.

The original package provides the top-level name ``seldon_core`` (as does our compatibility shim), so it
cannot share our virtualenv: it lives in ``<repo>/.venv-orig`` and is driven through subprocesses.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ORIG_VENV = REPO / ".venv-orig"
ORIG_LOCK = REPO / ".venv-orig.lock"
ORIG_REQUIREMENT = "seldon-core==1.19.0"
# What the interop tests need from the original; the version check makes sure it is the real 1.19.0
# and not our own ``seldon_core`` shim.
_PROBE = (
    "import seldon_core.proto.prediction_pb2, seldon_core.proto.prediction_pb2_grpc, "
    "seldon_core.seldon_client, seldon_core.proto.tensorflow.core.framework.tensor_pb2; "
    "import seldon_core.version as v; assert v.__version__ == '1.19.0', v.__version__"
)


def _venv_python(venv: pathlib.Path) -> pathlib.Path:
    return venv / "bin" / "python"


def _works(python: pathlib.Path) -> bool:
    if not python.exists():
        return False
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    probe = subprocess.run([str(python), "-c", _PROBE], cwd="/", env=env, capture_output=True, timeout=120)
    return probe.returncode == 0


def _base_python() -> str:
    """An interpreter of the same major.minor as the one running the tests (not a venv's)."""
    base = getattr(sys, "_base_executable", None)
    if base and os.path.exists(base):
        return base
    found = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}")
    if found:
        return found
    return sys.executable


def ensure_original_venv(venv: pathlib.Path = ORIG_VENV, lock_path: pathlib.Path = ORIG_LOCK) -> pathlib.Path:
    """Create (once, under a file lock) or reuse the virtualenv holding the original package."""
    python = _venv_python(venv)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _works(python):
                return python
            if venv.exists():
                shutil.rmtree(venv)
            started = time.monotonic()
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
            env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
            subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, env=env, cwd="/")
            # seldon-core 1.19.0 declares Requires-Python >=3.12 but runs on 3.11.
            install = subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", "--ignore-requires-python", ORIG_REQUIREMENT],
                env=env,
                cwd="/",
                capture_output=True,
                text=True,
            )
            if install.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise RuntimeError(
                    f"installing {ORIG_REQUIREMENT} failed:\n{install.stdout}\n{install.stderr}"
                )
            if not _works(python):
                raise RuntimeError(f"{ORIG_REQUIREMENT} installed into {venv} but cannot be imported")
            sys.stderr.write(f"\ncreated {venv} in {time.monotonic() - started:.0f}s\n")
            return python
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def original_python() -> str:
    """Path of a python executable whose ``seldon_core`` is the original seldon-core 1.19.0."""
    return str(ensure_original_venv())
