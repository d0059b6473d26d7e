"""Whether the graph can serve (spec section 9): asked on every probe, never cached.

By default a node is ready when a TCP connection to its ``service_host:service_port`` opens;
with ``--full_health_checks`` it must answer its health path with 200. Children are checked
before their parent and the first failure ends the check; nodes without an endpoint are skipped.
"""

from __future__ import annotations

import http.client
import logging
import socket

from seldon_wrapper.executor.graph import Node, Predictor

logger = logging.getLogger(__name__)

#: Each probe's connection and answer must come within this (seconds).
PROBE_TIMEOUT_S = 2.0
HEALTH_PATHS = {"seldon": "/api/v1.0/health/status", "v2": "/v2/health/ready"}


def graph_ready(predictor: Predictor, full: bool = False, protocol: str = "seldon") -> bool:
    return _ready(predictor.graph, full, HEALTH_PATHS["v2" if protocol in ("v2", "kfserving") else "seldon"])


def _ready(node: Node, full: bool, path: str) -> bool:
    for child in node.children:
        if not _ready(child, full, path):
            return False
    endpoint = node.endpoint
    if endpoint is None or not endpoint.service_host or endpoint.service_port <= 0:
        return True
    host, port = endpoint.service_host, endpoint.service_port
    try:
        if not full:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
            return True
        connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_S)
        try:
            connection.request("GET", path)
            status = connection.getresponse().status
        finally:
            connection.close()
    except OSError as exc:
        logger.debug("Node %s at %s:%s is not ready: %s", node.name, host, port, exc)
        return False
    if status != 200:
        logger.debug("Node %s at %s:%s answered %s to %s", node.name, host, port, status, path)
    return status == 200
