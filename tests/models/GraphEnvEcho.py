"""Answers with what its process was started with: the node's env, its parameter, its cwd."""

import os

ECHOED = (
    "PREDICTIVE_UNIT_ID",
    "PREDICTIVE_UNIT_IMAGE",
    "PREDICTIVE_UNIT_HTTP_SERVICE_PORT",
    "PREDICTOR_ID",
    "SELDON_DEPLOYMENT_ID",
    "PROMETHEUS_MULTIPROC_DIR",
    "GRAPH_COLOUR",
    "GRAPH_INHERITED",
)


class GraphEnvEcho:
    def __init__(self, greeting="none"):
        self.greeting = greeting

    def predict(self, X, features_names=None, **kwargs):
        env = {name: os.environ.get(name) for name in ECHOED}
        return {"greeting": self.greeting, "env": env, "cwd": os.getcwd(), "pid": os.getpid()}
