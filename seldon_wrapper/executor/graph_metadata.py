"""Graph metadata (spec 6.2): every node's metadata, and the graph's inputs and outputs.

The graph's inputs are those of the node a request meets first and its outputs those of the node
that answers last, found by following each node's role (a transformer feeds its first child, an
output transformer or a combiner answers after it, a router is as its first child). Protocol
neutral: ``fetch`` asks one node for its metadata (REST or gRPC); the REST front door writes the
result with ``to_json``, in the original's key order and omissions.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from seldon_wrapper.executor.graph import COMBINER, MODEL, OUTPUT_TRANSFORMER, TRANSFORMER, Node, Predictor
from seldon_wrapper.executor.walk import WalkError

#: The fields the original kept from a node's answer, in its output order.
FIELDS = ("name", "platform", "versions", "inputs", "outputs", "custom")


def node_metadata(answer: Any, node: str) -> dict[str, Any]:
    """The kept fields of one node's answer; WalkError when they have the wrong shapes."""
    if not isinstance(answer, Mapping):
        raise WalkError(f"metadata of node {node!r} is not a JSON object")
    kept: dict[str, Any] = {}
    for key in FIELDS:
        if key not in answer or answer[key] is None:
            continue
        value = answer[key]
        if key in ("name", "platform") and not isinstance(value, str):
            raise WalkError(f"metadata of node {node!r}: {key} must be a string")
        if key == "versions" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise WalkError(f"metadata of node {node!r}: versions must be a list of strings")
        if key == "custom" and not (
            isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())
        ):
            raise WalkError(f"metadata of node {node!r}: custom must map strings to strings")
        kept[key] = value
    return kept


async def build_graph_metadata(
    predictor: Predictor, fetch: Callable[[Node], Awaitable[Mapping[str, Any]]]
) -> dict[str, Any]:
    """``{"name", "models", "graphinputs", "graphoutputs"}``; nodes asked one by one, parents first.

    A node the graph never calls and that has no endpoint (a RANDOM_ABTEST) has no metadata to
    ask for: it is left out of ``models`` (the original crashed on it).
    """
    models: dict[str, dict[str, Any]] = {}
    for node in predictor.graph.walk():
        if node.endpoint is None and not node.is_called:
            continue
        models[node.name] = node_metadata(await fetch(node), node.name)
    first, last = _edges(predictor.graph, models)
    return {
        "name": predictor.name,
        "models": models,
        "graphinputs": first.get("inputs"),
        "graphoutputs": last.get("outputs"),
    }


Metadata = Mapping[str, Any]


def _edges(node: Node, models: Mapping[str, Metadata]) -> tuple[Metadata, Metadata]:
    """(metadata of the node meeting the request, metadata of the node answering)."""
    own = models.get(node.name, {})
    if not node.children:
        return own, own
    first_in, first_out = _edges(node.children[0], models)
    if node.type in (MODEL, TRANSFORMER):
        return own, first_out
    if node.type in (OUTPUT_TRANSFORMER, COMBINER):
        return first_in, own
    return first_in, first_out  # ROUTER, RANDOM_ABTEST: as the first child


def to_json(metadata: Mapping[str, Any]) -> bytes:
    """The original's serialisation: top-level and per-model keys in a fixed order, models and
    node objects sorted, empty names/versions/custom left out, compact."""
    models = {}
    for name in sorted(metadata["models"]):
        model = metadata["models"][name]
        entry: dict[str, Any] = {}
        for key in FIELDS:
            value = model.get(key)
            if key in ("name", "platform") and not value:
                continue
            if key in ("versions", "custom") and not value:
                continue
            if key in ("inputs", "outputs") and value is None:
                continue
            entry[key] = _sorted(value)
        models[name] = entry
    ordered = {
        "name": metadata["name"],
        "models": models,
        "graphinputs": _sorted(metadata.get("graphinputs")),
        "graphoutputs": _sorted(metadata.get("graphoutputs")),
    }
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
