"""Import the user's class and build it with its constructor parameters.

Every failure becomes a StartupError whose text names the problem, so the CLI can print one
line and exit non-zero instead of a traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

from seldon_wrapper.errors import BAD_PARAMETER, SeldonMicroserviceException, StartupError
from seldon_wrapper.settings import parse_bool

logger = logging.getLogger(__name__)


def _to_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "INT": int,
    "FLOAT": float,
    "DOUBLE": float,
    "STRING": str,
    "BOOL": parse_bool,
    "JSON": _to_json,
}


def parse_parameters(parameters: list[dict]) -> dict[str, Any]:
    """``[{"name","value","type"}]`` -> constructor kwargs, as the operator's env var encodes them.

    Raises SeldonMicroserviceException with reason MICROSERVICE_BAD_PARAMETER, like the original.
    """
    kwargs: dict[str, Any] = {}
    for param in parameters:
        if not isinstance(param, dict) or "name" not in param or "value" not in param:
            raise SeldonMicroserviceException(
                f"Bad model parameter: {param!r} needs a name and a value", reason=BAD_PARAMETER
            )
        name, value, ptype = param["name"], param["value"], param.get("type", "STRING")
        converter = _CONVERTERS.get(ptype)
        if converter is None:
            raise SeldonMicroserviceException(
                f"Bad model parameter type: {ptype} valid are INT, FLOAT, DOUBLE, STRING, BOOL, JSON",
                reason=BAD_PARAMETER,
            )
        try:
            kwargs[name] = converter(value)
        except (ValueError, TypeError):
            raise SeldonMicroserviceException(
                f"Bad model parameter: {name} with value {value} can't be parsed as a {ptype}",
                reason=BAD_PARAMETER,
            ) from None
    return kwargs


def parameters_from_json(text: str) -> dict[str, Any]:
    """Parse the ``--parameters`` / ``PREDICTIVE_UNIT_PARAMETERS`` text into kwargs."""
    try:
        parsed = json.loads(text or "[]")
    except ValueError as exc:
        raise StartupError(f"Bad model parameters: not valid JSON ({exc}): {text!r}") from None
    if not isinstance(parsed, list):
        raise StartupError(f"Bad model parameters: expected a JSON list, got {text!r}")
    try:
        return parse_parameters(parsed)
    except SeldonMicroserviceException as exc:
        raise StartupError(exc.message) from None


def import_user_class(interface_name: str) -> type:
    """``Module`` -> ``Module.Module``; ``pkg.mod.Class`` -> class ``Class`` of ``pkg.mod``."""
    if not interface_name:
        raise StartupError("No model class given: pass the module/class name as the first argument")
    if "." in interface_name:
        module_name, class_name = interface_name.rsplit(".", 1)
    else:
        module_name = class_name = interface_name
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            raise StartupError(
                f"Cannot import model module '{module_name}': no such module "
                "(is the file in the current directory?)"
            ) from exc
        raise StartupError(f"Importing model module '{module_name}' failed: {exc!r}") from exc
    except Exception as exc:
        raise StartupError(f"Importing model module '{module_name}' failed: {exc!r}") from exc
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise StartupError(f"Model module '{module_name}' has no class '{class_name}'") from None


def load_user_object(interface_name: str, parameters_json: str) -> Any:
    """Import the class and instantiate it once (in the parent, before any fork)."""
    kwargs = parameters_from_json(parameters_json)
    user_class = import_user_class(interface_name)
    try:
        return user_class(**kwargs)
    except Exception as exc:
        raise StartupError(f"Creating {interface_name}(**{kwargs}) failed: {exc!r}") from exc
