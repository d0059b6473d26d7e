"""A v1-style input transformer that turns sentences into token ids.

Serve it with ``seldon-core-microservice Tokeniser --service-type TRANSFORMER`` from this folder.
It has no ``predict``, so V2 inference (``--v2-method auto``) calls ``transform_input``.

The vocabulary is ``vocab.txt`` next to this file: one token per line, the line number (from 0)
is the token id; ``[PAD]`` (0) pads short sentences and ``[UNK]`` (1) stands for unknown words.
Text is lower-cased and split on every character that is not a letter.
"""

import pathlib
import re

import numpy as np

VOCAB_FILE = pathlib.Path(__file__).resolve().parent / "vocab.txt"
PAD = "[PAD]"
UNK = "[UNK]"
WORD = re.compile(r"[^\W\d_]+")  # runs of letters: digits, "_" and punctuation split words


class Tokeniser:
    def __init__(self, vocab_path=None):
        self.vocab_path = pathlib.Path(vocab_path) if vocab_path else VOCAB_FILE
        self.vocab = None

    def load(self):
        """Read the vocabulary (runs once in each serving process)."""
        tokens = self.vocab_path.read_text(encoding="utf-8").splitlines()
        self.vocab = {token: index for index, token in enumerate(tokens)}
        if self.vocab.get(PAD) != 0 or self.vocab.get(UNK) != 1:
            raise ValueError(f"{self.vocab_path}: the first two lines must be {PAD} and {UNK}")

    def init_metadata(self):
        return {
            "name": "tokeniser",
            "inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [-1]}],
            "outputs": [{"name": "input_ids", "datatype": "INT64", "shape": [-1, -1]}],
        }

    def tokenise(self, sentence):
        """The token ids of one sentence (``str`` or UTF-8 ``bytes``)."""
        if self.vocab is None:
            self.load()
        if isinstance(sentence, (bytes, bytearray)):
            sentence = bytes(sentence).decode("utf-8", errors="replace")
        if not isinstance(sentence, str):
            raise ValueError(f"sentences must be text (BYTES), got {type(sentence).__name__}")
        unknown = self.vocab[UNK]
        return [self.vocab.get(word, unknown) for word in WORD.findall(sentence.lower())]

    def transform_input(self, X, names, meta=None):
        """One sentence (``str``/``bytes``) or an array of them -> int64 ids, shape [sentences, longest]."""
        if self.vocab is None:
            self.load()
        if isinstance(X, (str, bytes, bytearray)):
            sentences = [X]
        else:
            sentences = np.asarray(X, dtype=object).ravel().tolist()
        rows = [self.tokenise(sentence) for sentence in sentences]
        longest = max((len(row) for row in rows), default=0)
        ids = np.full((len(rows), longest), self.vocab[PAD], dtype=np.int64)
        for index, row in enumerate(rows):
            ids[index, : len(row)] = row
        return ids
