"""The inference graph the executor walks: a SeldonDeployment predictor, read, defaulted, checked.

The graph arrives as the original executor's did (``ENGINE_PREDICTOR``: base64 of one predictor's
JSON; or ``--file``: a whole SeldonDeployment YAML and ``--predictor`` to pick one), is defaulted
as the Seldon operator would have (a bare node is a MODEL; endpoints from the containers of
``componentSpecs``), and is checked at start: a graph the original would have run into a panic
or a silent misbehaviour with is refused here with one line naming the problem
(``GraphError``). Each ``Node`` then answers, without looking anything up per request, which
calls the walk makes to it (docs/graphs.md; the walk itself is another module's).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

MODEL = "MODEL"
TRANSFORMER = "TRANSFORMER"
OUTPUT_TRANSFORMER = "OUTPUT_TRANSFORMER"
ROUTER = "ROUTER"
COMBINER = "COMBINER"
UNKNOWN_TYPE = "UNKNOWN_TYPE"
NODE_TYPES = (MODEL, TRANSFORMER, OUTPUT_TRANSFORMER, ROUTER, COMBINER, UNKNOWN_TYPE)

TRANSFORM_INPUT = "TRANSFORM_INPUT"
TRANSFORM_OUTPUT = "TRANSFORM_OUTPUT"
ROUTE = "ROUTE"
AGGREGATE = "AGGREGATE"
SEND_FEEDBACK = "SEND_FEEDBACK"
METHODS = (TRANSFORM_INPUT, TRANSFORM_OUTPUT, ROUTE, AGGREGATE, SEND_FEEDBACK)

RANDOM_ABTEST = "RANDOM_ABTEST"
UNKNOWN_IMPLEMENTATION = "UNKNOWN_IMPLEMENTATION"
LOGGER_MODES = ("all", "request", "response")

#: The operator's first ports: one (http, grpc) pair per container, in componentSpecs order.
FIRST_HTTP_PORT = 9000
FIRST_GRPC_PORT = 9500


class GraphError(ValueError):
    """A graph the executor will not run; the message names the node and the problem."""


@dataclass(frozen=True)
class Endpoint:
    """Where a node's container listens (REST ``host:http_port``, gRPC ``host:grpc_port``)."""

    service_host: str
    http_port: int
    grpc_port: int
    service_port: int
    type: str = "REST"
    #: A local component's Unix socket: REST calls go there (cheaper than TCP on one machine).
    unix_socket: str | None = None


@dataclass(frozen=True)
class Node:
    """One PredictiveUnit, defaulted, with the walk's questions answered once."""

    name: str
    type: str | None
    implementation: str
    methods: tuple[str, ...]
    children: tuple[Node, ...]
    endpoint: Endpoint | None
    parameters: tuple[Mapping[str, Any], ...]
    logger: Mapping[str, Any] | None

    # -- what the walk does with this node (the original's rules, spec section 2) ----------

    @property
    def transforms_input(self) -> bool:
        """Called before its children: MODEL, TRANSFORMER, or a TRANSFORM_INPUT method."""
        return self.type in (MODEL, TRANSFORMER) or TRANSFORM_INPUT in self.methods

    @property
    def input_path(self) -> str:
        """The endpoint of that call: a plain MODEL is asked to predict, the rest to transform."""
        if self.type == TRANSFORMER or TRANSFORM_INPUT in self.methods:
            return "transform-input"
        return "predict"

    @property
    def routes(self) -> bool:
        return self.type == ROUTER or ROUTE in self.methods

    @property
    def ab_test(self) -> bool:
        """RANDOM_ABTEST decides the route itself, without a call, when nothing else routes."""
        return not self.routes and self.implementation == RANDOM_ABTEST

    @property
    def aggregates(self) -> bool:
        return self.type == COMBINER or AGGREGATE in self.methods

    @property
    def transforms_output(self) -> bool:
        return self.type == OUTPUT_TRANSFORMER or TRANSFORM_OUTPUT in self.methods

    @property
    def takes_feedback(self) -> bool:
        return self.type in (MODEL, ROUTER) or SEND_FEEDBACK in self.methods

    @property
    def is_called(self) -> bool:
        """Whether any request or feedback reaches this node's own container."""
        has_children = bool(self.children)
        return (
            self.transforms_input
            or self.transforms_output
            or self.takes_feedback
            or (has_children and (self.routes or self.aggregates))
        )

    @property
    def ratio_a(self) -> float:
        """RANDOM_ABTEST's share of child 0: the one ``ratioA`` parameter, else 0.5."""
        if len(self.parameters) == 1 and self.parameters[0].get("name") == "ratioA":
            return float(self.parameters[0].get("value"))
        return 0.5

    @property
    def logger_mode(self) -> str | None:
        return self.logger.get("mode") if self.logger else None

    def walk(self) -> Iterable[Node]:
        """This node and every node below it, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Container:
    """One container of ``componentSpecs``: what a node bound to it runs with."""

    name: str
    image: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Predictor:
    name: str
    graph: Node
    containers: Mapping[str, Container] = field(default_factory=dict)
    version: str | None = None
    #: The SeldonDeployment's ``spec.protocol`` (from ``--file``; the operator passes a flag).
    protocol: str | None = None

    def nodes(self) -> list[Node]:
        return list(self.graph.walk())

    def node(self, name: str) -> Node | None:
        return next((node for node in self.graph.walk() if node.name == name), None)


# -- reading --------------------------------------------------------------------------------


def from_engine_predictor(
    value: str | None, deployment: str = "", namespace: str = "", bound: Iterable[str] = ()
) -> Predictor:
    """``ENGINE_PREDICTOR``: standard base64 of one predictor's JSON."""
    if value is None:
        raise GraphError("Predictor not found, environment variable ENGINE_PREDICTOR not set")
    if not value.strip():
        raise GraphError("ENGINE_PREDICTOR is empty")
    try:
        text = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GraphError(f"ENGINE_PREDICTOR is not base64: {exc}") from None
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise GraphError(f"ENGINE_PREDICTOR is not a predictor's JSON: {exc}") from None
    return predictor_from_spec(spec, deployment, namespace, bound)


def from_file(path: str, predictor: str, namespace: str = "", bound: Iterable[str] = ()) -> Predictor:
    """``--file``: a SeldonDeployment YAML; the predictor named ``predictor`` is run."""
    if not path.endswith("yaml") and not path.endswith("yml"):
        raise GraphError(f"Unsupported file type: {path} (a SeldonDeployment .yaml is expected)")
    try:
        with open(path, encoding="utf-8") as handle:
            documents = [doc for doc in yaml.safe_load_all(handle) if doc is not None]
    except OSError as exc:
        raise GraphError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise GraphError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    sdeps = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == "SeldonDeployment"]
    if len(sdeps) != 1:
        raise GraphError(f"{path} must hold one SeldonDeployment, found {len(sdeps)}")
    sdep = sdeps[0]
    spec = sdep.get("spec")
    predictors = spec.get("predictors") if isinstance(spec, dict) else None
    if not isinstance(predictors, list) or not predictors:
        raise GraphError(f"{path}: the SeldonDeployment has no spec.predictors")
    names = [p.get("name") for p in predictors if isinstance(p, dict)]
    chosen = [p for p in predictors if isinstance(p, dict) and p.get("name") == predictor]
    if not chosen:
        raise GraphError(f"Predictor not found: {predictor!r} (the file has {', '.join(map(repr, names))})")
    deployment = (sdep.get("metadata") or {}).get("name") or spec.get("name") or ""
    protocol = spec.get("protocol")
    if protocol is not None and not isinstance(protocol, str):
        raise GraphError(f"{path}: spec.protocol must be a string")
    return dataclasses.replace(
        predictor_from_spec(chosen[0], deployment, namespace, bound), protocol=protocol
    )


def predictor_from_spec(
    spec: Any, deployment: str = "", namespace: str = "", bound: Iterable[str] = ()
) -> Predictor:
    """One predictor's dict, defaulted as the operator would and checked (``bound``: the nodes
    ``--component`` serves, which need no endpoint)."""
    if not isinstance(spec, dict):
        raise GraphError("a predictor must be an object")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise GraphError("the predictor has no name")
    containers = _containers(spec.get("componentSpecs") or [], deployment, name, namespace)
    graph_spec = spec.get("graph")
    if not isinstance(graph_spec, dict):
        raise GraphError(f"predictor {name!r} has no graph")
    graph = _node(graph_spec, containers, path="graph")
    annotations = spec.get("annotations") or {}
    version = annotations.get("version") if isinstance(annotations, dict) else None
    predictor = Predictor(name, graph, {key: placed.container for key, placed in containers.items()}, version)
    check(predictor, bound)
    return predictor


@dataclass(frozen=True)
class _Placed:
    container: Container
    endpoint: Endpoint


def _containers(component_specs: Any, deployment: str, predictor: str, namespace: str) -> dict[str, _Placed]:
    """Each container with the endpoint the operator gives it: localhost for the first
    componentSpec (the executor's own pod), else the container's service; ports in order."""
    if not isinstance(component_specs, list):
        raise GraphError("componentSpecs must be a list")
    placed: dict[str, _Placed] = {}
    index = 0
    for spec_index, component in enumerate(component_specs):
        pod = component.get("spec") if isinstance(component, dict) else None
        containers = pod.get("containers") if isinstance(pod, dict) else None
        if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
            raise GraphError(f"componentSpecs[{spec_index}] must have spec.containers, a list of objects")
        for container in containers:
            name = container.get("name")
            if not isinstance(name, str) or not name:
                raise GraphError(f"componentSpecs[{spec_index}] has a container without a name")
            env_list = container.get("env") or []
            if not isinstance(env_list, list):
                raise GraphError(f"container {name!r}: env must be a list")
            env = tuple(
                (str(item.get("name")), str(item.get("value", "")))
                for item in env_list
                if isinstance(item, dict) and item.get("name") and "valueFrom" not in item
            )
            if spec_index == 0:
                host = "localhost"
            else:
                host = f"{deployment}-{predictor}-{name}.{namespace}.svc.cluster.local"
            http_port, grpc_port = FIRST_HTTP_PORT + index, FIRST_GRPC_PORT + index
            index += 1
            placed[name] = _Placed(
                Container(name, str(container.get("image", "")), env),
                Endpoint(host, http_port, grpc_port, http_port),
            )
    return placed


def _strings(value: Any, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise GraphError(f"{where}: {what} must be a list of strings")
    return tuple(value)


def _endpoint(value: Any, where: str) -> Endpoint | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise GraphError(f"{where}: endpoint must be an object")
    host = value.get("service_host") or "localhost"
    try:
        http_port = int(value.get("httpPort") or value.get("service_port") or 0)
        grpc_port = int(value.get("grpcPort") or 0)
        kind = str(value.get("type") or "REST").upper()
        service_port = int(value.get("service_port") or (grpc_port if kind == "GRPC" else http_port))
    except (TypeError, ValueError):
        raise GraphError(f"{where}: endpoint ports must be integers") from None
    if not http_port and not grpc_port:
        return None
    return Endpoint(str(host), http_port, grpc_port, service_port, kind)


def _node(spec: Any, containers: Mapping[str, _Placed], path: str) -> Node:
    if not isinstance(spec, dict):
        raise GraphError(f"{path}: a graph node must be an object")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise GraphError(f"{path}: a graph node has no name")
    where = f"node {name!r}"
    node_type = spec.get("type")
    if node_type is not None and node_type not in NODE_TYPES:
        raise GraphError(f"{where}: unknown type {node_type!r} (one of {', '.join(NODE_TYPES)})")
    methods = _strings(spec.get("methods"), "methods", where)
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise GraphError(f"{where}: unknown method(s) {', '.join(unknown)} (one of {', '.join(METHODS)})")
    implementation = spec.get("implementation") or UNKNOWN_IMPLEMENTATION
    if not isinstance(implementation, str):
        raise GraphError(f"{where}: implementation must be a string")
    if (
        node_type is None
        and not methods
        and (implementation == UNKNOWN_IMPLEMENTATION or implementation.endswith("_SERVER"))
    ):
        node_type = MODEL  # the operator's default for a bare node and a prepackaged server
    parameters = spec.get("parameters") or []
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        raise GraphError(f"{where}: parameters must be a list of objects")
    logger = spec.get("logger")
    if logger is not None:
        if not isinstance(logger, dict) or logger.get("mode", "all") not in LOGGER_MODES:
            raise GraphError(f"{where}: logger.mode must be one of {', '.join(LOGGER_MODES)}")
        logger = {"mode": "all", **logger}
    children_spec = spec.get("children") or []
    if not isinstance(children_spec, list):
        raise GraphError(f"{where}: children must be a list")
    children = tuple(
        _node(child, containers, f"{path}.children[{i}]") for i, child in enumerate(children_spec)
    )
    endpoint = _endpoint(spec.get("endpoint"), where)
    if endpoint is None and name in containers:
        endpoint = containers[name].endpoint
    return Node(name, node_type, implementation, methods, children, endpoint, tuple(parameters), logger)


# -- checking -------------------------------------------------------------------------------


def check(predictor: Predictor, bound: Iterable[str] = ()) -> None:
    """Refuse what the original would have panicked on or silently mis-served.

    ``bound``: nodes a local class will serve (``--component``); every other node the walk
    calls needs an endpoint.
    """
    seen: set[str] = set()
    bound = set(bound)
    for node in predictor.graph.walk():
        where = f"node {node.name!r}"
        if node.name in seen:
            raise GraphError(f"{where} appears twice: node names key the routing and must be unique")
        seen.add(node.name)
        if node.ab_test:
            if len(node.children) != 2:
                raise GraphError(
                    f"{where}: RANDOM_ABTEST needs exactly two children, it has {len(node.children)}"
                )
            try:
                ratio = node.ratio_a
            except (TypeError, ValueError):
                raise GraphError(f"{where}: ratioA must be a number") from None
            if not 0.0 <= ratio <= 1.0:
                raise GraphError(f"{where}: ratioA must be between 0 and 1, got {ratio}")
        if node.is_called and node.endpoint is None and node.name not in bound:
            raise GraphError(
                f"{where} has no way to reach it: no endpoint, no container of that name in "
                "componentSpecs, and no --component binding"
            )
    unknown = bound - seen
    if unknown:
        raise GraphError(f"--component names node(s) not in the graph: {', '.join(sorted(unknown))}")
