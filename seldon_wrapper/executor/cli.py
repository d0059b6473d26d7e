"""``seldon-core-executor``: argv and environment -> a running graph, or one line saying why not."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from seldon_wrapper import logs
from seldon_wrapper.executor import settings as executor_settings

logger = logging.getLogger("seldon_wrapper.executor")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``seldon-core-executor`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    logs.configure(logging.INFO, False)
    try:
        settings = executor_settings.parse(argv)
    except executor_settings.SettingsError as exc:
        logger.error("Start-up failed: %s", exc)
        sys.exit(1)
    level = "CRITICAL" if settings.log_level == "FATAL" else settings.log_level
    logs.configure(getattr(logging, level), False)
    from seldon_wrapper import metrics_dir

    owned = metrics_dir.prepare()  # before anything imports prometheus-client
    from seldon_wrapper.executor.graph import GraphError
    from seldon_wrapper.executor.serving import run

    try:
        from seldon_wrapper.executor.components import ComponentError
    except ImportError:  # pragma: no cover - the module is part of the package
        ComponentError = RuntimeError  # noqa: N806
    try:
        code = run(settings)
    except (GraphError, ComponentError) as exc:
        logger.error("Start-up failed: %s", exc)
        code = 1
    finally:
        metrics_dir.remove(owned)
    sys.exit(code)


if __name__ == "__main__":
    main()
