"""Module attributes the original imported at the top, imported here on first read.

The original's modules imported Flask, jsonschema, yaml and click at load; code and tests reach
them as module attributes (``seldon_core.flask_utils.request``), but most processes never use
them, so they are loaded only when read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    module_name: str, module_globals: dict, names: Mapping[str, tuple[str, str | None]]
) -> Callable:
    """A module ``__getattr__``: ``names`` maps an attribute to (module, its attribute or None for
    the module itself); the value is kept in ``module_globals`` once imported."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module, attribute = names[name]
        value = importlib.import_module(module)
        if attribute is not None:
            value = getattr(value, attribute)
        module_globals[name] = value
        return value

    return __getattr__
