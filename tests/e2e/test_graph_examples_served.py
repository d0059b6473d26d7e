"""The classes of examples/graph-tokeniser and examples/graph-ab, each served by the real
``seldon-core-microservice`` as the executor starts it (the node's name in PREDICTIVE_UNIT_ID,
its container's env), and called the way the executor calls it.

The tokeniser graph is chained by hand over V2 REST, one answer's outputs becoming the next
request's inputs: the tutorial's request comes out as ``next_token`` ``["pleased"]``.
"""

from __future__ import annotations

import pathlib

import pytest
import requests

from tests.conftest import start_server

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
TOKENISER_GRAPH = EXAMPLES / "graph-tokeniser"
AB_GRAPH = EXAMPLES / "graph-ab"
TUTORIAL_REQUEST = {
    "inputs": [
        {"name": "sentences", "datatype": "BYTES", "shape": [1, 11], "data": ["Seldon Technologies is very"]}
    ]
}


@pytest.fixture(scope="module")
def tokeniser_graph(tmp_path_factory):
    """The three nodes of the tutorial's graph, each in its own server."""
    tmp_path = tmp_path_factory.mktemp("graph-tokeniser")
    nodes = {
        "tokeniser-encoder": ("Tokeniser", "tokeniser", {"SELDON_TOKENIZER_TYPE": "ENCODER"}),
        "gpt2": ("NextToken", "next-token", {}),
        "tokeniser-decoder": ("Tokeniser", "tokeniser", {"SELDON_TOKENIZER_TYPE": "DECODER"}),
    }
    servers = {}
    try:
        for node, (name, folder, env) in nodes.items():
            servers[node] = start_server(
                name,
                cwd=TOKENISER_GRAPH / folder,
                env={"PREDICTIVE_UNIT_ID": node, **env},
                tmp_path=tmp_path,
                ready_path="/v2/health/ready",
            )
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def infer(server, node: str, body: dict) -> dict:
    response = requests.post(f"{server.url}/v2/models/{node}/infer", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_tutorials_request_through_the_three_nodes(tokeniser_graph):
    encoded = infer(tokeniser_graph["tokeniser-encoder"], "tokeniser-encoder", TUTORIAL_REQUEST)
    assert encoded == {
        "model_name": "tokeniser-encoder",
        "outputs": [
            {"name": "input_ids", "datatype": "INT32", "shape": [1, 4], "data": [15, 40, 6, 3]},
            {"name": "attention_mask", "datatype": "INT32", "shape": [1, 4], "data": [1, 1, 1, 1]},
        ],
    }
    logits = infer(tokeniser_graph["gpt2"], "gpt2", {"inputs": encoded["outputs"]})
    assert logits["model_name"] == "gpt2"
    (output,) = logits["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("logits", "FP32", [1, 4, 98])
    decoded = infer(tokeniser_graph["tokeniser-decoder"], "tokeniser-decoder", {"inputs": logits["outputs"]})
    assert decoded == {
        "model_name": "tokeniser-decoder",
        "outputs": [{"name": "next_token", "datatype": "BYTES", "shape": [1], "data": ["pleased"]}],
    }


def test_a_one_word_sentence_goes_through_too(tokeniser_graph):
    """Inputs of shape [1, 1] reach NextToken as columns of one array, not as a dict."""
    request = {"inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [1], "data": ["very"]}]}
    encoded = infer(tokeniser_graph["tokeniser-encoder"], "tokeniser-encoder", request)
    logits = infer(tokeniser_graph["gpt2"], "gpt2", {"inputs": encoded["outputs"]})
    decoded = infer(tokeniser_graph["tokeniser-decoder"], "tokeniser-decoder", {"inputs": logits["outputs"]})
    assert decoded["outputs"][0]["data"] == ["pleased"]


def test_each_node_is_named_after_its_graph_node(tokeniser_graph):
    for node, server in tokeniser_graph.items():
        metadata = requests.get(f"{server.url}/v2/models/{node}", timeout=10).json()
        assert metadata["name"] == node
    decoder = tokeniser_graph["tokeniser-decoder"]
    metadata = requests.get(f"{decoder.url}/v2/models/tokeniser-decoder", timeout=10).json()
    assert metadata["outputs"] == [{"name": "next_token", "datatype": "BYTES", "shape": [-1]}]


def test_bad_input_answers_400(tokeniser_graph):
    encoder = tokeniser_graph["tokeniser-encoder"]
    request = {"inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [1], "data": ["42 !!"]}]}
    response = requests.post(f"{encoder.url}/v2/models/tokeniser-encoder/infer", json=request, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": "no words to tokenise"}
    gpt2 = tokeniser_graph["gpt2"]
    request = {"inputs": [{"name": "input_ids", "datatype": "INT32", "shape": [1, 2], "data": [3, 500]}]}
    response = requests.post(f"{gpt2.url}/v2/models/gpt2/infer", json=request, timeout=10)
    assert response.status_code == 400
    assert "from 0 to 97" in response.json()["error"]


# -- the A/B graph's classes over the seldon protocol -----------------------------------------------


def test_router_learns_from_feedback(serve):
    router = serve(
        "RewardRouter",
        "--service-type",
        "ROUTER",
        cwd=AB_GRAPH / "router",
        env={"PREDICTIVE_UNIT_ID": "router"},
    )
    request = {"data": {"ndarray": [[1, 2]]}}

    def route() -> int:
        answer = requests.post(f"{router.url}/route", json=request, timeout=10).json()
        return answer["data"]["ndarray"][0][0]

    def feedback(branch: int, reward: float) -> dict:
        body = {"request": request, "response": {"meta": {"routing": {"router": branch}}}, "reward": reward}
        answer = requests.post(f"{router.url}/send-feedback", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert [route(), route()] == [0, 1]  # warm-up: each branch in turn
    assert feedback(0, 0)["data"]["ndarray"] == [[0.0, 0.0]]
    answer = feedback(1, 1)
    assert answer["data"]["ndarray"] == [[0.0, 1.0]]
    assert answer["meta"]["tags"] == {"feedback_counts": [1, 1]}
    assert [route(), route()] == [1, 1]  # the branch with the better reward
    body = {"request": request, "reward": 1}
    answer = requests.post(f"{router.url}/send-feedback", json=body, timeout=10)
    assert answer.status_code == 400
    assert "response.meta.routing" in answer.json()["status"]["info"]


def test_model_and_combiner_answers(serve):
    model = serve(
        "ModelB", "--service-type", "MODEL", cwd=AB_GRAPH / "model-b", env={"PREDICTIVE_UNIT_ID": "model-b"}
    )
    answer = requests.post(
        f"{model.url}/api/v1.0/predictions", json={"data": {"ndarray": [[1, 2]]}}, timeout=10
    )
    assert answer.json()["data"]["ndarray"] == [[4.0, 8.0]]
    assert answer.json()["meta"]["tags"] == {"model-b": "x4"}
    combiner = serve("AverageCombiner", "--service-type", "COMBINER", cwd=AB_GRAPH / "combiner")
    messages = [{"data": {"ndarray": [[2.0, 4.0]]}}, {"data": {"ndarray": [[4.0, 8.0]]}}]
    answer = requests.post(f"{combiner.url}/aggregate", json=messages, timeout=10).json()
    assert answer["data"]["ndarray"] == [[3.0, 6.0]]
    assert answer["meta"]["tags"] == {"combined": 2}
