"""seldon_wrapper/executor/graph.py: reading, defaulting and checking a predictor's graph."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.graph import GraphError

CHAIN = {
    "name": "default",
    "annotations": {"version": "v3"},
    "componentSpecs": [
        {"spec": {"containers": [
            {"name": "encoder", "image": "me/tok:1", "env": [{"name": "MODE", "value": "encode"}]},
            {"name": "gpt2", "image": "me/gpt2:1"},
        ]}},
        {"spec": {"containers": [
            {"name": "decoder", "image": "me/tok:1", "env": [{"name": "MODE", "value": "decode"}]},
        ]}},
    ],
    "graph": {
        "name": "encoder",
        "type": "TRANSFORMER",
        "children": [{"name": "gpt2", "children": [{"name": "decoder", "type": "OUTPUT_TRANSFORMER"}]}],
    },
}  # fmt: skip


def encoded(spec: dict) -> str:
    return base64.b64encode(json.dumps(spec).encode()).decode()


def test_engine_predictor_is_read_and_defaulted_as_the_operator_would():
    predictor = graph.from_engine_predictor(encoded(CHAIN), "sdep", "ns")
    assert predictor.name == "default" and predictor.version == "v3"
    assert [node.name for node in predictor.nodes()] == ["encoder", "gpt2", "decoder"]
    gpt2 = predictor.node("gpt2")
    assert gpt2.type == graph.MODEL  # a bare node is a MODEL
    assert predictor.node("encoder").endpoint == graph.Endpoint("localhost", 9000, 9500, 9000)
    assert gpt2.endpoint == graph.Endpoint("localhost", 9001, 9501, 9001)
    decoder = predictor.node("decoder").endpoint
    assert decoder.service_host == "sdep-default-decoder.ns.svc.cluster.local"
    assert (decoder.http_port, decoder.grpc_port) == (9002, 9502)
    assert predictor.containers["decoder"].env == (("MODE", "decode"),)
    assert predictor.containers["encoder"].image == "me/tok:1"


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "ENGINE_PREDICTOR not set"),
        ("", "ENGINE_PREDICTOR is empty"),
        ("not base64!", "not base64"),
        (base64.b64encode(b"{nope").decode(), "not a predictor's JSON"),
        (base64.b64encode(b"[1]").decode(), "a predictor must be an object"),
        (encoded({"name": "p"}), "predictor 'p' has no graph"),
    ],
)
def test_a_bad_engine_predictor_is_one_clear_line(value, message):
    with pytest.raises(GraphError, match=message):
        graph.from_engine_predictor(value)


SDEP = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: tutorial
spec:
  predictors:
  - name: canary
    graph: {name: small, endpoint: {service_host: 127.0.0.1, httpPort: 7001, grpcPort: 7002}}
  - name: default
    componentSpecs:
    - spec:
        containers:
        - {name: model, image: me/model:1}
    graph: {name: model}
"""


def test_the_file_names_the_deployment_and_the_predictor_picks_one(tmp_path):
    path = tmp_path / "sdep.yaml"
    path.write_text(SDEP)
    default = graph.from_file(str(path), "default", "ns")
    assert default.name == "default" and default.node("model").endpoint.http_port == 9000
    canary = graph.from_file(str(path), "canary")
    assert canary.node("small").endpoint == graph.Endpoint("127.0.0.1", 7001, 7002, 7001)
    with pytest.raises(
        GraphError, match="Predictor not found: 'other' \\(the file has 'canary', 'default'\\)"
    ):
        graph.from_file(str(path), "other")


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("sdep.json", "{}", "Unsupported file type"),
        ("sdep.yaml", "a: [unclosed", "is not valid YAML"),
        ("sdep.yaml", "kind: Deployment\n", "must hold one SeldonDeployment, found 0"),
        ("sdep.yaml", "kind: SeldonDeployment\nspec: {}\n", "has no spec.predictors"),
    ],
)
def test_a_bad_file_is_one_clear_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(GraphError, match=message):
        graph.from_file(str(path), "default")
    with pytest.raises(GraphError, match="Cannot read"):
        graph.from_file(str(tmp_path / "missing.yaml"), "default")


# The walk's rules, spec 2.1 and 2.5: (type, methods) -> the calls a node gets.
BEHAVIOUR = [
    # type, methods, transforms_input, input_path, routes, aggregates, transforms_output, feedback
    ("MODEL", [], True, "predict", False, False, False, True),
    ("MODEL", ["TRANSFORM_INPUT"], True, "transform-input", False, False, False, True),
    ("TRANSFORMER", [], True, "transform-input", False, False, False, False),
    ("OUTPUT_TRANSFORMER", [], False, "predict", False, False, True, False),
    ("ROUTER", [], False, "predict", True, False, False, True),
    ("COMBINER", [], False, "predict", False, True, False, False),
    (None, ["TRANSFORM_INPUT", "TRANSFORM_OUTPUT", "ROUTE", "AGGREGATE"],
     True, "transform-input", True, True, True, False),
    (None, ["SEND_FEEDBACK"], False, "predict", False, False, False, True),
]  # fmt: skip


@pytest.mark.parametrize("node_type, methods, ti, path, routes, aggregates, to, feedback", BEHAVIOUR)
def test_each_node_kind_gets_the_originals_calls(
    node_type, methods, ti, path, routes, aggregates, to, feedback
):
    spec = {"name": "n", "methods": methods, "endpoint": {"httpPort": 1}}
    if node_type:
        spec["type"] = node_type
    node = graph.predictor_from_spec({"name": "p", "graph": spec}).graph
    assert (node.transforms_input, node.input_path, node.routes) == (ti, path, routes)
    assert (node.aggregates, node.transforms_output, node.takes_feedback) == (aggregates, to, feedback)


def ab_test(children: int, parameters: list | None = None) -> dict:
    kids = [{"name": f"m{i}", "endpoint": {"httpPort": 9000 + i}} for i in range(children)]
    return {"name": "p", "graph": {"name": "ab", "implementation": "RANDOM_ABTEST", "children": kids,
                                   "parameters": parameters or []}}  # fmt: skip


def test_an_ab_test_needs_no_endpoint_and_reads_ratio_a():
    node = graph.predictor_from_spec(ab_test(2, [{"name": "ratioA", "value": "0.25", "type": "FLOAT"}])).graph
    assert node.type is None and node.ab_test and not node.is_called and node.endpoint is None
    assert node.ratio_a == 0.25
    assert graph.predictor_from_spec(ab_test(2)).graph.ratio_a == 0.5


@pytest.mark.parametrize(
    "spec, message",
    [
        (ab_test(3), "RANDOM_ABTEST needs exactly two children, it has 3"),
        (ab_test(2, [{"name": "ratioA", "value": "half"}]), "ratioA must be a number"),
        (ab_test(2, [{"name": "ratioA", "value": "1.5"}]), "ratioA must be between 0 and 1"),
        ({"name": "p", "graph": {"name": "m", "type": "MODLE"}}, "node 'm': unknown type 'MODLE'"),
        ({"name": "p", "graph": {"name": "m", "methods": ["ROUTE", "FLY"]}}, "unknown method\\(s\\) FLY"),
        ({"name": "p", "graph": {"name": "m"}}, "node 'm' has no way to reach it"),
        ({"name": "p", "graph": {"type": "MODEL"}}, "graph: a graph node has no name"),
        ({"name": "p", "graph": {"name": "a", "endpoint": {"httpPort": 1},
                                 "children": [{"name": "a", "endpoint": {"httpPort": 2}}]}}, "appears twice"),
        ({"name": "p", "graph": {"name": "m", "endpoint": {"httpPort": "x"}}}, "ports must be integers"),
        ({"name": "p", "graph": {"name": "m", "endpoint": {"httpPort": 1}, "logger": {"mode": "loud"}}},
         "logger.mode must be one of"),
        ({"name": "p", "graph": {"name": "m", "endpoint": {"httpPort": 1}, "children": {"a": 1}}},
         "children must be a list"),
    ],
)  # fmt: skip
def test_bad_graphs_are_refused_naming_the_problem(spec, message):
    with pytest.raises(GraphError, match=message):
        graph.predictor_from_spec(spec)


def test_a_bound_node_needs_no_endpoint_and_a_binding_must_name_a_node():
    predictor = graph.predictor_from_spec(
        {"name": "p", "graph": {"name": "root", "type": "COMBINER", "endpoint": {"httpPort": 1},
                                "children": [{"name": "left", "endpoint": {"httpPort": 2}}]}}
    )  # fmt: skip
    graph.check(predictor, bound={"left"})
    with pytest.raises(GraphError, match="--component names node\\(s\\) not in the graph: right"):
        graph.check(predictor, bound={"right"})
    unreachable = graph.Predictor(
        "p", graph.Node("m", "MODEL", "UNKNOWN_IMPLEMENTATION", (), (), None, (), None)
    )
    with pytest.raises(GraphError, match="no way to reach it"):
        graph.check(unreachable)
    graph.check(unreachable, bound={"m"})


def test_a_leaf_router_is_still_called_for_feedback_and_needs_an_endpoint():
    with pytest.raises(GraphError, match="node 'r' has no way to reach it"):
        graph.predictor_from_spec({"name": "p", "graph": {"name": "r", "type": "ROUTER"}})


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 9000), st.text(max_size=6))
any_json = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
node_like = st.recursive(
    st.fixed_dictionaries(
        {"name": st.text(max_size=3) | any_json},
        optional={
            "type": st.sampled_from([*graph.NODE_TYPES, "X"]) | any_json,
            "methods": st.lists(st.sampled_from([*graph.METHODS, "Y"])) | any_json,
            "implementation": st.sampled_from(["RANDOM_ABTEST", "SIMPLE_MODEL"]) | any_json,
            "endpoint": st.fixed_dictionaries({}, optional={"httpPort": st.integers(0, 3) | any_json})
            | any_json,
            "parameters": any_json,
            "logger": any_json,
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {"name": st.text(max_size=3), "children": st.lists(inner, max_size=3)}
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(node_like, any_json)
def test_any_graph_is_read_or_refused_with_a_graph_error(node, component_specs):
    spec = {"name": "p", "graph": node, "componentSpecs": component_specs}
    try:
        predictor = graph.predictor_from_spec(spec)
    except GraphError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for each in predictor.nodes():
        assert each.name and (each.endpoint is not None or not each.is_called)
