"""A next-token model small enough to ship its own weights: the stand-in for GPT-2 in the graph
tokeniser-encoder -> gpt2 -> tokeniser-decoder.

The weights are ``weights.npy`` next to this file, written by ``make_weights.py`` from
``corpus.txt``: a float32 table ``[vocab, vocab]`` whose row ``v`` holds the logits of the word
after word ``v`` (a bigram model). ``predict`` takes the encoder's outputs (``input_ids``, and
``attention_mask``, which a bigram model does not need) and answers ``logits``, FP32
``[sentences, tokens, vocab]``: for each position, the logits of the word that follows it, the
shape a GPT-2 language-model head answers.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from seldon_core.flask_utils import SeldonMicroserviceException

WEIGHTS_FILE = pathlib.Path(__file__).resolve().parent / "weights.npy"


class NextToken:
    def __init__(self, weights_path: str | None = None) -> None:
        self.weights_path = pathlib.Path(weights_path) if weights_path else WEIGHTS_FILE
        self.weights: np.ndarray | None = None

    def load(self) -> None:
        """Read the weights (runs once in each serving process)."""
        weights = np.load(self.weights_path, allow_pickle=False)
        if weights.ndim != 2 or weights.shape[0] != weights.shape[1] or weights.dtype != np.float32:
            raise ValueError(
                f"{self.weights_path}: expected a square float32 table, got {weights.dtype} {weights.shape}"
            )
        self.weights = weights

    @property
    def vocab_size(self) -> int:
        """The number of tokens the weights know: the last dimension of the logits."""
        if self.weights is None:
            self.load()
        return int(self.weights.shape[0])

    def init_metadata(self) -> dict:
        """The V2 metadata; its single output names the answer ``logits``."""
        vocab = self.vocab_size
        return {
            "name": "next-token",
            "inputs": [
                {"name": "input_ids", "datatype": "INT32", "shape": [-1, -1]},
                {"name": "attention_mask", "datatype": "INT32", "shape": [-1, -1]},
            ],
            "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, -1, vocab]}],
        }

    def predict(self, X: Any, names: Any, meta: dict | None = None) -> np.ndarray:
        """``input_ids`` ``[sentences, tokens]`` -> ``logits`` ``[sentences, tokens, vocab]``."""
        if self.weights is None:
            self.load()
        input_ids = self._input_ids(X, names)
        if input_ids.dtype.kind not in "iu":
            raise SeldonMicroserviceException(f"input_ids must be integers, got {input_ids.dtype}")
        if input_ids.ndim == 1:
            input_ids = input_ids[np.newaxis, :]
        if input_ids.ndim != 2:
            raise SeldonMicroserviceException(
                f"input_ids must have shape [sentences, tokens], got {list(input_ids.shape)}"
            )
        if input_ids.size and (input_ids.min() < 0 or input_ids.max() >= self.vocab_size):
            raise SeldonMicroserviceException(f"input_ids must be token ids from 0 to {self.vocab_size - 1}")
        return self.weights[input_ids]

    @staticmethod
    def _input_ids(X: Any, names: Any) -> np.ndarray:
        """``input_ids`` out of what the V2 adapter hands over for one or several inputs."""
        if isinstance(X, dict):  # several inputs of shape [1, n > 1]: {name: array}
            if "input_ids" not in X:
                raise SeldonMicroserviceException(f"the input 'input_ids' is missing (got {', '.join(X)})")
            return np.asarray(X["input_ids"])
        names = list(names) if names is not None else []
        if "input_ids" in names and len(names) > 1:
            # Several inputs of shape [N, 1] arrive as the columns of one [N, k] array, of object
            # dtype when their datatypes differ: the values' own type comes back with tolist().
            column = np.asarray(X)[:, names.index("input_ids")]
            return np.array(column.tolist()).reshape(-1, 1)
        return np.asarray(X)
