"""seldon_wrapper/executor/walk.py with the seldon REST payloads: the original's walk (spec 2, 4.3).

Nodes are fakes that answer JSON and record their calls; the network is another test's job.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.seldon_rest import Body, SeldonRestPayloads, html_escape
from seldon_wrapper.executor.walk import Request, Walk, WalkError


class Nodes:
    """Fake nodes: ``answers[name](purpose, value) -> value``; records (name, purpose) calls."""

    def __init__(self, **answers) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, node, purpose, message, context):
        self.calls.append((node.name, purpose))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)  # a node takes time: concurrent calls overlap here
        self.in_flight -= 1
        answer = self.answers[node.name](purpose, json.loads(message.data))
        if isinstance(answer, WalkError):
            raise answer
        return Body(json.dumps(answer).encode())


def tree(spec: dict) -> graph.Node:
    def endpoints(node):
        node.setdefault("endpoint", {"httpPort": 1})
        for child in node.get("children", []):
            endpoints(child)
        return node

    return graph.predictor_from_spec({"name": "p", "graph": endpoints(spec)}).graph


def walk(nodes: Nodes, inject: bool = False, draw: float = 0.3) -> Walk:
    return Walk(nodes, SeldonRestPayloads(), inject_routing=inject, draw=lambda: draw)


def run(spec: dict, nodes: Nodes, message=None, **options):
    request = Request()
    body = Body(json.dumps(message if message is not None else {"data": {"ndarray": [1]}}).encode())
    answer = asyncio.run(walk(nodes, **options).predict(tree(spec), body, request))
    return json.loads(answer.data), request.routing


def tag(name):
    return lambda purpose, value: {**value, "path": [*value.get("path", []), f"{name}:{purpose}"]}


def test_a_chain_calls_each_node_for_its_kind_in_order():
    nodes = Nodes(t=tag("t"), m=tag("m"), o=tag("o"))
    output = {"name": "o", "type": "OUTPUT_TRANSFORMER"}
    spec = {
        "name": "t",
        "type": "TRANSFORMER",
        "children": [{"name": "m", "type": "MODEL", "children": [output]}],
    }
    answer, routing = run(spec, nodes)
    assert answer["path"] == ["t:transform-input", "m:predict", "o:transform-output"]
    assert routing == {"t": -1, "m": -1}


def test_an_output_transformer_with_children_runs_after_them():
    nodes = Nodes(o=tag("o"), m=tag("m"))
    answer, _ = run({"name": "o", "type": "OUTPUT_TRANSFORMER", "children": [{"name": "m"}]}, nodes)
    assert answer["path"] == ["m:predict", "o:transform-output"]


@pytest.mark.parametrize(
    "route, calls, path, recorded",
    [
        ({"data": {"ndarray": [[1]]}}, [("r", "route"), ("b", "predict")], ["b:predict"], 1),
        ([0], [("r", "route"), ("a", "predict")], ["a:predict"], 0),
        (
            {"data": {"tensor": {"shape": [1, 1], "values": [1.9]}}},
            [("r", "route"), ("b", "predict")],
            ["b:predict"],
            1,
        ),
        ({"data": {"ndarray": [[-2]]}}, [("r", "route")], None, -2),
    ],
)
def test_a_router_sends_the_request_to_the_chosen_child(route, calls, path, recorded):
    nodes = Nodes(r=lambda purpose, value: route, a=tag("a"), b=tag("b"))
    answer, routing = run({"name": "r", "type": "ROUTER", "children": [{"name": "a"}, {"name": "b"}]}, nodes)
    assert nodes.calls == calls
    assert answer.get("path") == path  # -2: the router's input comes back
    assert routing["r"] == recorded


def test_route_minus_one_runs_every_child_and_child_zero_answers():
    nodes = Nodes(r=lambda p, v: {"data": {"ndarray": [[-1]]}}, a=tag("a"), b=tag("b"))
    answer, routing = run({"name": "r", "type": "ROUTER", "children": [{"name": "a"}, {"name": "b"}]}, nodes)
    assert sorted(nodes.calls) == [("a", "predict"), ("b", "predict"), ("r", "route")]
    assert answer["path"] == ["a:predict"] and routing["r"] == -1


def test_a_route_outside_the_children_is_a_500_naming_the_router():
    nodes = Nodes(r=lambda p, v: [5], a=tag("a"))
    with pytest.raises(WalkError, match="router 'r' chose route 5, but it has 1 children") as info:
        run({"name": "r", "type": "ROUTER", "children": [{"name": "a"}]}, nodes)
    assert info.value.status == 500


@pytest.mark.parametrize("answer", [{"foo": 1}, "x", [], {"data": {"ndarray": [["a"]]}}])
def test_an_unreadable_route_answer_fails_the_request(answer):
    nodes = Nodes(r=lambda p, v: answer, a=tag("a"))
    with pytest.raises(WalkError):
        run({"name": "r", "type": "ROUTER", "children": [{"name": "a"}]}, nodes)


def test_a_route_answer_without_data_routes_to_all():
    nodes = Nodes(r=lambda p, v: {"strData": "?"}, a=tag("a"), b=tag("b"))
    _, routing = run({"name": "r", "type": "ROUTER", "children": [{"name": "a"}, {"name": "b"}]}, nodes)
    assert len(nodes.calls) == 3 and routing["r"] == -1


def test_a_combiner_gets_every_childs_answer_in_order():
    def combine(purpose, value):
        return {"combined": [item["path"][0] for item in value]}

    nodes = Nodes(c=combine, a=tag("a"), b=tag("b"), d=tag("d"))
    spec = {"name": "c", "type": "COMBINER", "children": [{"name": "a"}, {"name": "b"}, {"name": "d"}]}
    answer, routing = run(spec, nodes)
    assert answer == {"combined": ["a:predict", "b:predict", "d:predict"]}
    assert nodes.calls[-1] == ("c", "aggregate") and routing == {"a": -1, "b": -1, "d": -1, "c": -1}


def test_the_lowest_failing_child_answers_after_all_have_run():
    nodes = Nodes(
        c=tag("c"),
        a=tag("a"),
        b=lambda p, v: WalkError("b broke", 409, payload=b"b"),
        d=lambda p, v: WalkError("d broke", 500, payload=b"d"),
    )
    spec = {"name": "c", "type": "COMBINER", "children": [{"name": "a"}, {"name": "b"}, {"name": "d"}]}
    with pytest.raises(WalkError) as info:
        run(spec, nodes)
    assert (info.value.status, info.value.payload) == (409, b"b")
    assert ("d", "predict") in nodes.calls and ("c", "aggregate") not in nodes.calls


def test_leaf_routers_and_combiners_make_no_call():
    nodes = Nodes()
    for node_type in ("ROUTER", "COMBINER"):
        answer, _ = run({"name": "x", "type": node_type}, nodes, message={"v": 1})
        assert answer == {"v": 1}
    assert nodes.calls == []


@pytest.mark.parametrize("draw, child", [(0.1, "a"), (0.9, "b")])
def test_random_abtest_picks_by_ratio_a_without_calling_the_node(draw, child):
    nodes = Nodes(a=tag("a"), b=tag("b"))
    ratio = [{"name": "ratioA", "value": "0.5"}]
    spec = {
        "name": "ab",
        "implementation": "RANDOM_ABTEST",
        "parameters": ratio,
        "children": [{"name": "a"}, {"name": "b"}],
    }
    answer, routing = run(spec, nodes, draw=draw)
    assert answer["path"] == [f"{child}:predict"] and nodes.calls == [(child, "predict")]
    assert routing["ab"] == (0 if child == "a" else 1)


def test_routing_injection_writes_the_map_into_each_result():
    nodes = Nodes(r=lambda p, v: {"data": {"ndarray": [[1]]}}, a=tag("a"),
                  b=lambda p, v: {"meta": {"tags": {"x": "<y>"}}, "data": {"ndarray": [2]}})  # fmt: skip
    spec = {"name": "r", "type": "ROUTER", "children": [{"name": "a"}, {"name": "b"}]}
    answer, _ = run(spec, nodes, inject=True)
    assert answer["meta"]["routing"] == {"b": -1, "r": 1}
    request = Request()
    body = asyncio.run(
        walk(nodes, inject=True).predict(tree(spec), Body(b'{"data":{"ndarray":[1]}}'), request)
    )
    assert (
        body.data
        == b'{"data":{"ndarray":[2]},"meta":{"routing":{"b":-1,"r":1},"tags":{"x":"\\u003cy\\u003e"}}}'
    )


def test_feedback_goes_to_the_children_first_by_the_recorded_routing():
    order = []

    def answer_as(name):
        return lambda p, v: order.append(name) or {"done": name}

    nodes = Nodes(**{name: answer_as(name) for name in "rab"})
    spec = {"name": "r", "type": "ROUTER", "children": [{"name": "a"}, {"name": "b"}]}
    feedback = {"request": {}, "response": {"meta": {"routing": {"r": 1}}}, "reward": 1}
    answer = asyncio.run(walk(nodes).feedback(tree(spec), Body(json.dumps(feedback).encode()), Request()))
    assert order == ["b", "r"] and json.loads(answer.data) == {"done": "r"}
    order.clear()
    asyncio.run(walk(nodes).feedback(tree(spec), Body(b'{"reward": 1}'), Request()))
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "r"
    bad = {"response": {"meta": {"routing": {"r": 7}}}}
    with pytest.raises(WalkError, match="routed to 7"):
        asyncio.run(walk(nodes).feedback(tree(spec), Body(json.dumps(bad).encode()), Request()))


def test_feedback_to_a_root_that_takes_none_answers_the_feedback_itself():
    nodes = Nodes(a=lambda p, v: {"ok": 1})
    body = Body(b'{"reward": 0.5}')
    spec = {"name": "t", "type": "TRANSFORMER", "children": [{"name": "a"}]}
    assert asyncio.run(walk(nodes).feedback(tree(spec), body, Request())) is body
    assert nodes.calls == [("a", "send-feedback")]


def test_aggregating_a_child_answer_that_is_not_json_fails():
    payloads = SeldonRestPayloads()
    with pytest.raises(WalkError, match="Data is not JSON"):
        payloads.aggregate_request([Body(b"{}"), Body(b"<html>")])
    assert payloads.aggregate_request([Body(b'{"a":1}'), Body(b" [2] ")]).data == b'[{"a":1}, [2] ]'


def test_answers_are_html_escaped_as_the_original_did():
    assert html_escape("<a&b>\u2028".encode()) == b"\\u003ca\\u0026b\\u003e\\u2028"
    assert html_escape(b'{"plain":1}') == b'{"plain":1}'


def test_nested_fan_outs_call_every_leaf_at_once_and_keep_the_childrens_order():
    """All-children nodes await their children together (no thread each), nested ones too."""
    leaves = {name: tag(name) for name in ("a", "b", "d", "e")}
    combine = lambda purpose, values: {"path": [p for value in values for p in value["path"]]}  # noqa: E731
    nodes = Nodes(c=combine, x=combine, y=combine, **leaves)
    spec = {"name": "c", "type": "COMBINER", "children": [
        {"name": "x", "type": "COMBINER", "children": [{"name": "a"}, {"name": "b"}]},
        {"name": "y", "type": "COMBINER", "children": [{"name": "d"}, {"name": "e"}]}]}  # fmt: skip
    walker = Walk(nodes, SeldonRestPayloads())
    message = Body(json.dumps({"data": {"ndarray": [1]}}).encode())

    async def three() -> list:
        return await asyncio.gather(*(walker.predict(tree(spec), message, Request()) for _ in range(3)))

    paths = [json.loads(answer.data)["path"] for answer in asyncio.run(three())]
    assert paths == [["a:predict", "b:predict", "d:predict", "e:predict"]] * 3
    assert nodes.most_in_flight == 12  # 3 requests x 4 leaves, all waiting at once
