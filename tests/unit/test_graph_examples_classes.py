"""The user classes of examples/graph-tokeniser and examples/graph-ab, in-process.

The executor chains them (tests of the graphs served by it are the executor's); here each class
is called the way the wrapper calls it, and the chain tokeniser-encoder -> gpt2 ->
tokeniser-decoder is run by hand: "Seldon Technologies is very" must come out as "pleased", as
in Seldon's tutorial. The next-token weights and the vocabulary must rebuild from the corpus.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import importlib.util
import pathlib
import re
import sys
import types
from collections.abc import Iterator

import numpy as np
import pytest

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.user_model import SeldonResponse
from seldon_wrapper.metadata import to_v2_metadata, validate_model_metadata

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
TOKENISER_GRAPH = EXAMPLES / "graph-tokeniser"
AB_GRAPH = EXAMPLES / "graph-ab"
SENTENCE = "Seldon Technologies is very"

#: folder -> (class, SERVICE_TYPE of its .s2i/environment)
CLASSES = {
    TOKENISER_GRAPH / "tokeniser": ("Tokeniser", "MODEL"),
    TOKENISER_GRAPH / "next-token": ("NextToken", "MODEL"),
    AB_GRAPH / "model-a": ("ModelA", "MODEL"),
    AB_GRAPH / "model-b": ("ModelB", "MODEL"),
    AB_GRAPH / "router": ("RewardRouter", "ROUTER"),
    AB_GRAPH / "combiner": ("AverageCombiner", "COMBINER"),
}


def load_module(path: pathlib.Path) -> types.ModuleType:
    """An example's module, imported from its file (the examples are not a package)."""
    name = f"graph_example_{path.parent.name.replace('-', '_')}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tokeniser_module():
    return load_module(TOKENISER_GRAPH / "tokeniser" / "Tokeniser.py")


@pytest.fixture(scope="module")
def next_token_module():
    return load_module(TOKENISER_GRAPH / "next-token" / "NextToken.py")


@pytest.fixture(scope="module")
def make_weights():
    return load_module(TOKENISER_GRAPH / "next-token" / "make_weights.py")


@pytest.fixture
def encoder(tokeniser_module, monkeypatch, tmp_path):
    monkeypatch.delenv("SELDON_TOKENIZER_TYPE", raising=False)
    monkeypatch.chdir(tmp_path)  # files are found next to the module, not in the cwd
    model = tokeniser_module.Tokeniser()
    model.load()
    return model


@pytest.fixture
def decoder(tokeniser_module, monkeypatch, tmp_path):
    monkeypatch.setenv("SELDON_TOKENIZER_TYPE", "DECODER")
    monkeypatch.chdir(tmp_path)
    model = tokeniser_module.Tokeniser()
    model.load()
    return model


@pytest.fixture
def gpt2(next_token_module, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    model = next_token_module.NextToken()
    model.load()
    return model


@pytest.fixture(scope="module")
def vocab() -> list[str]:
    return (TOKENISER_GRAPH / "tokeniser" / "vocab.txt").read_text(encoding="utf-8").splitlines()


def read_environment(folder: pathlib.Path) -> dict[str, str]:
    pairs = {}
    for line in (folder / ".s2i" / "environment").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


@contextlib.contextmanager
def bad_request(pattern: str) -> Iterator[None]:
    """Like ``pytest.raises`` for SeldonMicroserviceException, whose text is in ``message``."""
    with pytest.raises(SeldonMicroserviceException) as raised:
        yield
    assert re.search(pattern, raised.value.message), raised.value.message
    assert raised.value.status_code == 400


# -- every class -------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", sorted(CLASSES), ids=lambda folder: folder.name)
def test_s2i_environment_names_the_class(folder):
    name, service_type = CLASSES[folder]
    assert read_environment(folder) == {
        "MODEL_NAME": name,
        "SERVICE_TYPE": service_type,
        "PERSISTENCE": "0",
        "API_TYPE": "REST",
    }
    tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
    assert [node.name for node in tree.body if isinstance(node, ast.ClassDef)] == [name]


@pytest.mark.parametrize("folder", sorted(CLASSES), ids=lambda folder: folder.name)
def test_classes_need_only_numpy_and_the_wrapper(folder):
    name, _ = CLASSES[folder]
    imported = set()
    for node in ast.walk(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"numpy", "seldon_core"}


# -- the tokeniser graph, by hand ------------------------------------------------------------------


def test_the_tutorials_sentence_gives_pleased(encoder, gpt2, decoder):
    encoded = encoder.predict(SENTENCE, [])
    assert sorted(encoded) == ["attention_mask", "input_ids"]
    logits = gpt2.predict(encoded, list(encoded))
    assert logits.dtype == np.float32
    assert logits.shape == (1, 4, len(decoder.words))
    answer = decoder.predict(logits, ["logits"])
    assert answer.tolist() == ["pleased"]


def test_several_sentences_are_padded_on_the_left(encoder, gpt2, decoder, vocab):
    sentences = np.array([SENTENCE, b"the model is", "xyzzy"], dtype=object)
    encoded = encoder.predict(sentences, ["sentences"])
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    assert ids.dtype == mask.dtype == np.int32
    expected = [
        [vocab.index(word) for word in SENTENCE.lower().split()],
        [0, *map(vocab.index, ["the", "model", "is"])],
    ]
    assert ids.tolist() == [*expected, [0, 0, 0, 1]]
    assert mask.tolist() == [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1]]
    # The last position is a real word in every row, so each sentence gets its own next word.
    answer = decoder.predict(gpt2.predict(encoded, ["input_ids", "attention_mask"]), [])
    assert answer.tolist() == ["pleased", "very", "the"]


def test_encoder_splits_like_the_v2_tokeniser_example(encoder, vocab):
    encoded = encoder.predict("SELDON,technologies!!is2very_", [])
    assert encoded["input_ids"].tolist() == [[vocab.index(word) for word in SENTENCE.lower().split()]]
    assert encoder.predict({"sentences": np.array(["very"], dtype=object)}, ["sentences"])[
        "input_ids"
    ].tolist() == [[vocab.index("very")]]


@pytest.mark.parametrize(
    "sentences", ["", "!!! 42", np.array([], dtype=object)], ids=["empty", "no letters", "none"]
)
def test_encoder_refuses_input_without_words(encoder, sentences):
    with bad_request("no words"):
        encoder.predict(sentences, [])


def test_encoder_refuses_what_is_not_text(encoder):
    with bad_request("must be text"):
        encoder.predict(np.array([1, 2]), [])
    with bad_request("'sentences'"):
        encoder.predict({"text": np.array(["hello"], dtype=object)}, ["text"])


def test_decoder_reads_the_last_position_and_skips_special_tokens(decoder, vocab):
    logits = np.zeros((2, 3, len(vocab)), dtype=np.float32)
    logits[0, -1, vocab.index("pleased")] = 5.0
    logits[0, 0, vocab.index("team")] = 9.0  # not the last position: ignored
    logits[1, -1, 1] = 5.0  # [UNK]
    assert decoder.predict(logits, []).tolist() == ["pleased", ""]
    assert decoder.predict({"logits": logits[:1]}, ["logits"]).tolist() == ["pleased"]


@pytest.mark.parametrize(
    "shape", [(1, 4), (1, 0, 98), (1, 4, 97), (2, 1, 1, 98)], ids=["2-d", "no tokens", "other vocab", "4-d"]
)
def test_decoder_refuses_logits_of_another_shape(decoder, shape):
    with bad_request("logits must have shape"):
        decoder.predict(np.zeros(shape, dtype=np.float32), [])


def test_the_role_comes_from_the_environment_or_a_parameter(tokeniser_module, monkeypatch):
    monkeypatch.setenv("SELDON_TOKENIZER_TYPE", "decoder")
    assert tokeniser_module.Tokeniser().role == "DECODER"
    assert tokeniser_module.Tokeniser(tokenizer_type="ENCODER").role == "ENCODER"
    monkeypatch.delenv("SELDON_TOKENIZER_TYPE")
    assert tokeniser_module.Tokeniser().role == "ENCODER"
    monkeypatch.setenv("SELDON_TOKENIZER_TYPE", "TRANSLATOR")
    with pytest.raises(ValueError, match="ENCODER or DECODER"):
        tokeniser_module.Tokeniser()


def test_tokeniser_loads_on_first_use_and_checks_its_vocabulary(tokeniser_module, tmp_path, monkeypatch):
    monkeypatch.delenv("SELDON_TOKENIZER_TYPE", raising=False)
    assert tokeniser_module.Tokeniser().predict("very", [])["input_ids"].tolist() == [[3]]
    bad = tmp_path / "vocab.txt"
    bad.write_text("[UNK]\n[PAD]\nvery\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[PAD\] and \[UNK\]"):
        tokeniser_module.Tokeniser(vocab_path=str(bad)).load()


def test_metadata_of_each_role_is_valid_and_declares_the_v2_tensors(encoder, decoder, gpt2):
    for model, name, outputs in [
        (encoder, "tokeniser-encoder", [("input_ids", "INT32"), ("attention_mask", "INT32")]),
        (gpt2, "next-token", [("logits", "FP32")]),
        (decoder, "tokeniser-decoder", [("next_token", "BYTES")]),
    ]:
        metadata = validate_model_metadata(model.init_metadata())
        v2 = to_v2_metadata(metadata, name)
        assert metadata["name"] == name
        assert [(tensor["name"], tensor["datatype"]) for tensor in v2["outputs"]] == outputs
    assert gpt2.init_metadata()["outputs"][0]["shape"] == [-1, -1, 98]


def test_next_token_answers_a_row_of_weights_per_position(gpt2):
    ids = np.array([[15, 40, 6, 3]], dtype=np.int32)
    logits = gpt2.predict(ids, [])
    np.testing.assert_array_equal(logits[0], gpt2.weights[ids[0]])
    # One sentence as a plain vector is one row.
    assert gpt2.predict(np.array([3, 8]), []).shape == (1, 2, 98)


def test_next_token_takes_inputs_of_one_token_as_columns(gpt2):
    # Inputs of shape [N, 1] reach the class as one [N, 2] array, the inputs as columns.
    columns = np.array([[3, 1], [15, 1]], dtype=np.int32)
    logits = gpt2.predict(columns, ["input_ids", "attention_mask"])
    assert logits.shape == (2, 1, 98)
    np.testing.assert_array_equal(logits[:, 0], gpt2.weights[[3, 15]])
    columns = np.array([[1, 3]], dtype=np.int32)
    np.testing.assert_array_equal(
        gpt2.predict(columns, ["attention_mask", "input_ids"])[0, 0], gpt2.weights[3]
    )
    mixed = np.array([[1, 3]], dtype=object)  # INT64 and INT32 inputs: an object array
    np.testing.assert_array_equal(gpt2.predict(mixed, ["attention_mask", "input_ids"])[0, 0], gpt2.weights[3])
    with bad_request("must be integers"):
        gpt2.predict(np.array([[1.5, 1]], dtype=object), ["input_ids", "attention_mask"])


@pytest.mark.parametrize(
    "X, message",
    [
        ({"attention_mask": np.ones((1, 2), dtype=np.int32)}, "'input_ids' is missing"),
        (np.array([[0, 98]]), "from 0 to 97"),
        (np.array([[-1, 2]]), "from 0 to 97"),
        (np.array([[1.5, 2.0]]), "must be integers"),
        (np.zeros((1, 2, 3), dtype=np.int32), r"\[sentences, tokens\]"),
    ],
    ids=["no input_ids", "id too big", "negative id", "floats", "3-d"],
)
def test_next_token_refuses_bad_input_ids(gpt2, X, message):
    with bad_request(message):
        gpt2.predict(X, list(X) if isinstance(X, dict) else [])


def test_next_token_checks_its_weights(next_token_module, tmp_path):
    bad = tmp_path / "weights.npy"
    np.save(bad, np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="square float32"):
        next_token_module.NextToken(weights_path=str(bad)).load()
    assert next_token_module.NextToken().predict(np.array([[3]]), []).shape == (1, 1, 98)


# -- the weights and the vocabulary ----------------------------------------------------------------


def test_weights_and_vocabulary_rebuild_from_the_corpus(make_weights, tmp_path, capsys):
    weights, vocab = tmp_path / "weights.npy", tmp_path / "vocab.txt"
    assert make_weights.main(["--weights", str(weights), "--vocab", str(vocab)]) == 0
    assert "98 tokens" in capsys.readouterr().out
    shipped_vocab = TOKENISER_GRAPH / "tokeniser" / "vocab.txt"
    assert vocab.read_text(encoding="utf-8") == shipped_vocab.read_text(encoding="utf-8")
    rebuilt = np.load(weights)
    shipped = np.load(TOKENISER_GRAPH / "next-token" / "weights.npy")
    assert rebuilt.dtype == shipped.dtype == np.float32
    assert rebuilt.shape == shipped.shape == (98, 98)
    # Rounded to 4 decimals: equal unless the platform's log differs in the last bit of a tie.
    np.testing.assert_allclose(rebuilt, shipped, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(rebuilt.argmax(axis=1), shipped.argmax(axis=1))


def test_shipped_weights_are_small():
    assert (TOKENISER_GRAPH / "next-token" / "weights.npy").stat().st_size < 200_000


def test_the_corpus_makes_pleased_follow_very(make_weights):
    corpus = make_weights.sentences(make_weights.CORPUS.read_text(encoding="utf-8"))
    followers = collections.Counter(
        b for words in corpus for a, b in zip(words, words[1:], strict=False) if a == "very"
    )
    (best, count), (_, runner_up) = followers.most_common(2)
    assert best == "pleased" and count > runner_up


def test_weights_are_log_probabilities_with_a_backoff(make_weights):
    corpus = [["a", "b"], ["a", "b"], ["a", "c"], ["d"]]
    vocab = make_weights.build_vocab(corpus)
    assert vocab == ["[PAD]", "[UNK]", "a", "b", "c", "d"]
    logits = make_weights.bigram_logits(corpus, vocab)
    probabilities = np.exp(logits.astype(np.float64))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)  # rows are distributions
    assert logits[vocab.index("a")].argmax() == vocab.index("b")
    # A word never followed by anything ("d"), and the special tokens, predict the most common word.
    for row in ("d", "[PAD]", "[UNK]"):
        assert logits[vocab.index(row)].argmax() == vocab.index("a")
    assert logits[:, :2].max() < np.log(1e-5)  # [PAD] and [UNK] are never predicted


def test_tokeniser_and_weights_script_split_words_alike(tokeniser_module, make_weights):
    assert tokeniser_module.WORD.pattern == make_weights.WORD.pattern


# -- the A/B graph's classes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ab_classes():
    return {
        name: getattr(load_module(folder / f"{name}.py"), name)
        for folder, (name, _) in CLASSES.items()
        if folder.parent == AB_GRAPH
    }


def test_models_answer_distinguishably_and_tag_themselves(ab_classes):
    X = np.array([[1.0, 2.0]])
    a, b = ab_classes["ModelA"](), ab_classes["ModelB"]()
    answer_a, answer_b = a.predict(X, ["x", "y"]), b.predict(X, ["x", "y"])
    assert isinstance(answer_a, SeldonResponse) and isinstance(answer_b, SeldonResponse)
    assert answer_a.data.tolist() == [[2.0, 4.0]] and answer_a.tags == {"model-a": "x2"}
    assert answer_b.data.tolist() == [[4.0, 8.0]] and answer_b.tags == {"model-b": "x4"}
    assert a.send_feedback(X, [], 1, None) == [[1, 1.0]]
    assert a.send_feedback(X, [], 0.5, None, routing=0) == [[2, 1.5]]
    assert validate_model_metadata(a.init_metadata())["name"] == "model-a"
    assert validate_model_metadata(b.init_metadata())["name"] == "model-b"


def test_router_warms_up_round_robin_then_follows_the_rewards(ab_classes):
    router = ab_classes["RewardRouter"]()
    X = np.array([[1.0, 2.0]])
    routes = [router.route(X, []) for _ in range(3)]
    assert routes == [0, 1, 0] and all(type(route) is int for route in routes)
    answer = router.send_feedback(X, [], 0.0, None, routing=0)
    assert answer.data == [[0.0, 0.0]] and answer.tags == {"feedback_counts": [1, 0]}
    assert [router.route(X, []) for _ in range(2)] == [1, 1]  # only branch 1 still warms up
    answer = router.send_feedback(X, [], 1.0, None, routing=1)
    assert answer.data == [[0.0, 1.0]] and answer.tags == {"feedback_counts": [1, 1]}
    assert [router.route(X, []) for _ in range(3)] == [1, 1, 1]  # the better branch
    router.send_feedback(X, [], 0.0, None, routing=1)
    router.send_feedback(X, [], 0.0, None, routing=1)
    answer = router.send_feedback(X, [], 1.0, None, routing=0)
    assert answer.data == [[0.5, 1 / 3]] and answer.tags == {"feedback_counts": [2, 3]}
    assert router.route(X, []) == 0  # the rewards moved the traffic back


def test_router_without_warmup_takes_the_first_best(ab_classes):
    router = ab_classes["RewardRouter"](n_branches=3, warmup=0)
    assert router.route(None, []) == 0
    router.send_feedback(None, [], 1.0, None, routing=2)
    assert router.route(None, []) == 2


def test_router_feedback_needs_a_known_branch(ab_classes):
    router = ab_classes["RewardRouter"]()
    with bad_request("response.meta.routing"):
        router.send_feedback(None, [], 1.0, None)
    with bad_request("branches 0 to 1, feedback is for branch 2"):
        router.send_feedback(None, [], 1.0, None, routing=2)
    with pytest.raises(ValueError, match="n_branches"):
        ab_classes["RewardRouter"](n_branches=0)
    with pytest.raises(ValueError, match="warmup"):
        ab_classes["RewardRouter"](warmup=-1)


def test_combiner_averages_the_two_models(ab_classes):
    X = np.array([[1.0, 2.0]])
    answers = [ab_classes[name]().predict(X, []).data for name in ("ModelA", "ModelB")]
    combined = ab_classes["AverageCombiner"]().aggregate(answers, [[], []])
    assert combined.data.tolist() == [[3.0, 6.0]] and combined.tags == {"combined": 2}


@pytest.mark.parametrize(
    "features_list, message",
    [
        ([[[1, 2]], [[1, 2, 3]]], "one shape"),
        ([], "at least one"),
        ([np.array([["a"]], dtype=object)], "numbers"),
    ],
    ids=["shapes", "empty", "strings"],
)
def test_combiner_refuses_what_it_cannot_average(ab_classes, features_list, message):
    with bad_request(message):
        ab_classes["AverageCombiner"]().aggregate(features_list, [])
