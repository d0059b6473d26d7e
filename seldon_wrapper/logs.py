"""Log format and levels: the original's one-line text format, or one JSON object per line.

``SELDON_LOG_FORMAT=json`` (ours) switches every logger, Gunicorn's included, to JSON lines
for log collectors; payloads are never logged above DEBUG.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

TEXT_FORMAT = "%(asctime)s - %(name)s:%(funcName)s:%(lineno)s - %(levelname)s:  %(message)s"
GUNICORN_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(json_format: bool) -> logging.Formatter:
    return JsonFormatter() if json_format else logging.Formatter(TEXT_FORMAT)


def configure(level: int, json_format: bool) -> None:
    """Root logger: one handler on stderr with the chosen format and level."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter(json_format))
    root.setLevel(level)
    for name in ("werkzeug", "seldon_wrapper", "seldon_core"):
        logging.getLogger(name).setLevel(level)


def gunicorn_logconfig(level_name: str, json_format: bool) -> dict | None:
    """Gunicorn's own loggers in JSON too (None keeps Gunicorn's default text format)."""
    if not json_format:
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "seldon_wrapper.logs.JsonFormatter"}},
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "root": {"level": level_name.upper(), "handlers": ["error"]},
        "loggers": {
            "gunicorn.error": {"level": level_name.upper(), "handlers": ["error"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        },
    }
