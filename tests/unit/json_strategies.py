"""Hypothesis strategies shared by the codec property tests: messages that are mostly well formed,
with any JSON at all standing in, now and then, where a field belongs."""

from __future__ import annotations

from hypothesis import strategies as st


def json_values(leaves: st.SearchStrategy, max_leaves: int = 8) -> st.SearchStrategy:
    """Any JSON value built from ``leaves``: nested lists and objects."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=max_leaves,
    )


def messages(anything: st.SearchStrategy, weight: int):
    """``(mostly, some)`` for one test module: ``mostly(s)`` is ``s`` ``weight`` times in
    ``weight + 1`` and ``anything`` otherwise; ``some(**fields)`` an object with any of the
    fields, each ``mostly`` its strategy."""

    def mostly(strategy: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(*[strategy] * weight, anything)

    def some(**fields: st.SearchStrategy) -> st.SearchStrategy:
        return st.fixed_dictionaries({}, optional={key: mostly(value) for key, value in fields.items()})

    return mostly, some
