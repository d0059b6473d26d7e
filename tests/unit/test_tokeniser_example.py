"""The v1 class of examples/v2-tokeniser on its own: vocabulary, splitting, padding, inputs."""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

from seldon_wrapper.metadata import to_v2_metadata, validate_model_metadata

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "v2-tokeniser"
SOURCE = EXAMPLE_DIR / "Tokeniser.py"
VOCAB = (EXAMPLE_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()


def word_id(word: str) -> int:
    return VOCAB.index(word)


@pytest.fixture(scope="module")
def tokeniser_module():
    spec = importlib.util.spec_from_file_location("tokeniser_example", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tokeniser(tokeniser_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the vocabulary is found next to the module, not in the cwd
    model = tokeniser_module.Tokeniser()
    model.load()
    return model


def test_vocabulary_file():
    assert VOCAB[:2] == ["[PAD]", "[UNK]"]
    words = VOCAB[2:]
    assert len(words) >= 200
    assert len(set(words)) == len(words)
    assert all(word.isalpha() and word.isascii() and word == word.lower() for word in words)


def test_class_is_a_pure_v1_transformer_without_third_party_imports():
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    # The standard library and numpy only: no MLServer, no tokeniser package.
    assert imported <= set(sys.stdlib_module_names) | {"numpy"}
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes == [SOURCE.stem]
    methods = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert {"load", "init_metadata", "transform_input"} <= methods
    # No predict: V2's --v2-method auto must pick transform_input.
    assert not {"predict", "transform_output", "route"} & methods


def test_one_sentence_as_str(tokeniser):
    ids = tokeniser.transform_input("hello world", [])
    assert ids.dtype == np.int64
    assert ids.tolist() == [[word_id("hello"), word_id("world")]]


def test_one_sentence_as_bytes_is_the_same(tokeniser):
    assert tokeniser.transform_input(b"hello world", []).tolist() == [[word_id("hello"), word_id("world")]]


def test_array_of_sentences_is_padded_to_the_longest(tokeniser):
    sentences = np.array(["the lazy dog", "hello", ""], dtype=object)
    ids = tokeniser.transform_input(sentences, ["sentences"], {"puid": "x"})
    assert ids.dtype == np.int64
    assert ids.shape == (3, 3)
    assert ids.tolist() == [
        [word_id("the"), word_id("lazy"), word_id("dog")],
        [word_id("hello"), 0, 0],
        [0, 0, 0],
    ]


def test_array_of_bytes_and_column_arrays_are_flattened(tokeniser):
    column = np.array([[b"hello"], [b"the dog"]], dtype=object)  # shape [2, 1]
    assert tokeniser.transform_input(column, []).tolist() == [
        [word_id("hello"), 0],
        [word_id("the"), word_id("dog")],
    ]
    assert tokeniser.transform_input(["hello", "dog"], []).tolist() == [[word_id("hello")], [word_id("dog")]]


def test_unknown_words_are_one(tokeniser):
    ids = tokeniser.transform_input("Seldon Technologies is very zzzz", [])
    assert ids.tolist() == [[1, 1, word_id("is"), word_id("very"), 1]]


def test_lower_cases_and_splits_on_every_non_letter(tokeniser):
    ids = tokeniser.transform_input("HeLLo,WORLD!!dog2cat_fox\tthe-end", [])
    expected = ["hello", "world", "dog", "cat", "fox", "the", "end"]
    assert ids.tolist() == [[word_id(word) for word in expected]]


def test_empty_inputs(tokeniser):
    assert tokeniser.transform_input("", []).shape == (1, 0)
    assert tokeniser.transform_input("!!! 42", []).shape == (1, 0)
    empty = tokeniser.transform_input(np.array([], dtype=object), [])
    assert empty.shape == (0, 0) and empty.dtype == np.int64


def test_input_that_is_not_text_is_refused(tokeniser):
    with pytest.raises(ValueError, match="sentences must be text"):
        tokeniser.transform_input(np.array([1, 2], dtype=np.int64), [])


def test_load_happens_on_first_use_too(tokeniser_module):
    model = tokeniser_module.Tokeniser()
    assert model.transform_input("hello", []).tolist() == [[word_id("hello")]]


def test_custom_vocabulary(tokeniser_module, tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("[PAD]\n[UNK]\nred\nfish\n", encoding="utf-8")
    model = tokeniser_module.Tokeniser(vocab_path=str(path))
    model.load()
    assert model.transform_input(np.array(["Red fish", "blue fish fish"], dtype=object), []).tolist() == [
        [2, 3, 0],
        [1, 3, 3],
    ]


def test_vocabulary_must_start_with_the_special_tokens(tokeniser_module, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("[UNK]\n[PAD]\nred\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[PAD\] and \[UNK\]"):
        tokeniser_module.Tokeniser(vocab_path=str(path)).load()


def test_init_metadata_declares_the_v2_tensors(tokeniser):
    metadata = tokeniser.init_metadata()
    assert metadata == {
        "name": "tokeniser",
        "inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": "input_ids", "datatype": "INT64", "shape": [-1, -1]}],
    }
    # The wrapper accepts it and serves the tensors unchanged as V2 metadata.
    v2 = to_v2_metadata(validate_model_metadata(metadata), "tokeniser")
    assert v2["inputs"] == metadata["inputs"] and v2["outputs"] == metadata["outputs"]
