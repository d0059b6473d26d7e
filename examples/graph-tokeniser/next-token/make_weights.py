"""Build the next-token model's weights and the tokeniser's vocabulary from ``corpus.txt``.

The model is a stand-in for GPT-2 that fits in a few kilobytes: a bigram table whose row ``v``
holds the logits (log-probabilities) of every word following word ``v``. Token ids are the
tokeniser's, so the same run writes both files and they cannot drift apart:

- ``weights.npy`` (next to this script): float32, shape ``[vocab, vocab]``;
- ``../tokeniser/vocab.txt``: one token per line, the line number (from 0) is the id;
  ``[PAD]`` (0) and ``[UNK]`` (1) first, then the corpus words, most frequent first
  (alphabetical on a tie).

Both outputs are committed; the script is deterministic, so a test rebuilds them and compares.
Run it from anywhere: ``python examples/graph-tokeniser/next-token/make_weights.py``.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import re
import sys
from collections.abc import Iterable, Sequence

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus.txt"
WEIGHTS = HERE / "weights.npy"
VOCAB = HERE.parent / "tokeniser" / "vocab.txt"
SPECIAL = ("[PAD]", "[UNK]")
#: The tokeniser's rule (tokeniser/Tokeniser.py): lower-case, then runs of letters are words.
WORD = re.compile(r"[^\W\d_]+")
#: Share of the unigram distribution mixed into every row, so unseen pairs are unlikely, not
#: impossible, and a word never followed by anything (or [PAD], [UNK]) predicts common words.
BACKOFF = 0.1
#: Added before the log so [PAD] and [UNK], never seen as a next word, get a finite logit.
FLOOR = 1e-6
#: Logits are rounded so the file does not depend on the last bit of the platform's ``log``.
DECIMALS = 4


def sentences(text: str) -> list[list[str]]:
    """The corpus as lists of words, one list per non-empty line (bigrams never cross lines)."""
    lines = (WORD.findall(line.lower()) for line in text.splitlines())
    return [words for words in lines if words]


def build_vocab(corpus: Iterable[Sequence[str]]) -> list[str]:
    """``[PAD]``, ``[UNK]``, then every word, most frequent first, alphabetical on a tie."""
    counts = collections.Counter(word for words in corpus for word in words)
    return [*SPECIAL, *sorted(counts, key=lambda word: (-counts[word], word))]


def bigram_logits(corpus: Sequence[Sequence[str]], vocab: Sequence[str]) -> np.ndarray:
    """Row ``v``: log P(next word | word ``v``), the bigram estimate mixed with the unigram one."""
    ids = {word: index for index, word in enumerate(vocab)}
    size = len(vocab)
    pairs = np.zeros((size, size), dtype=np.float64)
    unigram = np.zeros(size, dtype=np.float64)
    for words in corpus:
        row = [ids[word] for word in words]
        np.add.at(unigram, row, 1.0)
        np.add.at(pairs, (row[:-1], row[1:]), 1.0)
    unigram /= unigram.sum()
    totals = pairs.sum(axis=1, keepdims=True)
    bigram = np.divide(pairs, totals, out=np.zeros_like(pairs), where=totals > 0)
    probabilities = np.where(totals > 0, (1.0 - BACKOFF) * bigram + BACKOFF * unigram, unigram)
    return np.round(np.log(probabilities + FLOOR), DECIMALS).astype(np.float32)


def build(corpus_path: pathlib.Path) -> tuple[list[str], np.ndarray]:
    """The vocabulary and the weights for one corpus file."""
    corpus = sentences(corpus_path.read_text(encoding="utf-8"))
    vocab = build_vocab(corpus)
    return vocab, bigram_logits(corpus, vocab)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=pathlib.Path, default=CORPUS)
    parser.add_argument("--weights", type=pathlib.Path, default=WEIGHTS)
    parser.add_argument("--vocab", type=pathlib.Path, default=VOCAB)
    args = parser.parse_args(argv)
    vocab, weights = build(args.corpus)
    args.vocab.write_text("".join(f"{token}\n" for token in vocab), encoding="utf-8")
    np.save(args.weights, weights, allow_pickle=False)
    print(f"{args.vocab}: {len(vocab)} tokens; {args.weights}: {weights.dtype} {list(weights.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
