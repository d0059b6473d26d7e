"""One image, two graph nodes: the tokeniser that encodes sentences before the model and decodes
its logits after it, as in Seldon's "custom pre-processors with the V2 protocol" tutorial.

``SELDON_TOKENIZER_TYPE`` (the tutorial's variable) picks the role of a container:

- ``ENCODER`` (the default): V2 input ``sentences`` (BYTES) -> outputs ``input_ids`` and
  ``attention_mask`` (INT32, ``[sentences, longest]``), what the next-token model takes;
- ``DECODER``: the model's ``logits`` (FP32, ``[sentences, tokens, vocab]``) -> output
  ``next_token`` (BYTES, ``[sentences]``), the word with the highest logit at the last position.

The vocabulary is ``vocab.txt`` next to this file, written by ``../next-token/make_weights.py``
with the model's weights (the ids are the rows of its table): one token per line, the line
number (from 0) is the id; ``[PAD]`` (0) and ``[UNK]`` (1) come first. Text is lower-cased and
split on every character that is not a letter. Short sentences are padded on the left, as for
GPT-2 generation, so the last position of every row is a real word and the decoder can read the
answer there.
"""

from __future__ import annotations

import os
import pathlib
import re
from typing import Any

import numpy as np

from seldon_core.flask_utils import SeldonMicroserviceException

VOCAB_FILE = pathlib.Path(__file__).resolve().parent / "vocab.txt"
TYPE_ENV = "SELDON_TOKENIZER_TYPE"
ENCODER = "ENCODER"
DECODER = "DECODER"
PAD = "[PAD]"
UNK = "[UNK]"
SPECIAL = (PAD, UNK)
WORD = re.compile(r"[^\W\d_]+")  # runs of letters: digits, "_" and punctuation split words


class Tokeniser:
    def __init__(self, tokenizer_type: str | None = None, vocab_path: str | None = None) -> None:
        """The role comes from the argument (a graph parameter), else ``SELDON_TOKENIZER_TYPE``."""
        role = (tokenizer_type or os.environ.get(TYPE_ENV) or ENCODER).strip().upper()
        if role not in (ENCODER, DECODER):
            raise ValueError(f"{TYPE_ENV} must be {ENCODER} or {DECODER}, got {role!r}")
        self.role = role
        self.vocab_path = pathlib.Path(vocab_path) if vocab_path else VOCAB_FILE
        self.words: list[str] = []
        self.ids: dict[str, int] = {}

    def load(self) -> None:
        """Read the vocabulary (runs once in each serving process)."""
        words = self.vocab_path.read_text(encoding="utf-8").splitlines()
        if tuple(words[:2]) != SPECIAL:
            raise ValueError(f"{self.vocab_path}: the first two lines must be {PAD} and {UNK}")
        self.words = words
        self.ids = {word: index for index, word in enumerate(words)}

    def init_metadata(self) -> dict:
        """The V2 model metadata of this role; it also names the decoder's single output."""
        if self.role == ENCODER:
            return {
                "name": "tokeniser-encoder",
                "inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [-1]}],
                "outputs": [
                    {"name": "input_ids", "datatype": "INT32", "shape": [-1, -1]},
                    {"name": "attention_mask", "datatype": "INT32", "shape": [-1, -1]},
                ],
            }
        return {
            "name": "tokeniser-decoder",
            "inputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, -1, -1]}],
            "outputs": [{"name": "next_token", "datatype": "BYTES", "shape": [-1]}],
        }

    def predict(self, X: Any, names: Any, meta: dict | None = None) -> Any:
        """Encode or decode, as the role says."""
        if not self.words:
            self.load()
        if self.role == ENCODER:
            return self.encode(X)
        return self.decode(X, names)

    # -- encoder ------------------------------------------------------------------------------

    def tokenise(self, sentence: Any) -> list[int]:
        """The token ids of one sentence (``str`` or UTF-8 ``bytes``); unknown words are 1."""
        if isinstance(sentence, (bytes, bytearray)):
            sentence = bytes(sentence).decode("utf-8", errors="replace")
        if not isinstance(sentence, str):
            raise SeldonMicroserviceException(
                f"sentences must be text (BYTES), got {type(sentence).__name__}"
            )
        unknown = self.ids[UNK]
        return [self.ids.get(word, unknown) for word in WORD.findall(sentence.lower())]

    def encode(self, X: Any) -> dict[str, np.ndarray]:
        """Sentences -> ``input_ids`` and ``attention_mask``, int32, padded on the left."""
        if isinstance(X, dict):
            if "sentences" not in X:
                raise SeldonMicroserviceException("the encoder takes one input, 'sentences'")
            X = X["sentences"]
        if isinstance(X, (str, bytes, bytearray)):
            sentences = [X]
        else:
            sentences = np.asarray(X, dtype=object).ravel().tolist()
        rows = [self.tokenise(sentence) for sentence in sentences]
        longest = max((len(row) for row in rows), default=0)
        if longest == 0:
            raise SeldonMicroserviceException("no words to tokenise")
        input_ids = np.full((len(rows), longest), self.ids[PAD], dtype=np.int32)
        attention_mask = np.zeros((len(rows), longest), dtype=np.int32)
        for index, row in enumerate(rows):
            if row:
                input_ids[index, -len(row) :] = row
                attention_mask[index, -len(row) :] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    # -- decoder ------------------------------------------------------------------------------

    def decode(self, X: Any, names: Any = None) -> np.ndarray:
        """Logits ``[sentences, tokens, vocab]`` -> the best next word of each sentence."""
        if isinstance(X, dict):
            if "logits" not in X:
                raise SeldonMicroserviceException("the decoder takes the input 'logits'")
            X = X["logits"]
        logits = np.asarray(X)
        if logits.ndim != 3 or logits.shape[1] == 0 or logits.shape[2] != len(self.words):
            raise SeldonMicroserviceException(
                f"logits must have shape [sentences, tokens, {len(self.words)}], got {list(logits.shape)}"
            )
        if logits.dtype.kind not in "fiu":
            raise SeldonMicroserviceException(f"logits must be numbers, got {logits.dtype}")
        best = logits[:, -1, :].argmax(axis=1)
        # Like the tutorial's skip_special_tokens: [PAD] or [UNK] decode to "".
        words = ["" if self.words[index] in SPECIAL else self.words[index] for index in best]
        return np.array(words, dtype=object)
