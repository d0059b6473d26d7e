"""Every predict increments two counters by 1: a runtime one (SeldonResponse) and a static one
(metrics()); it answers the pid of the process that served it."""

import os

from seldon_wrapper.component import SeldonResponse


class MetricsConcurrent:
    def predict(self, X, feature_names):
        return SeldonResponse([os.getpid()], metrics=[{"type": "COUNTER", "key": "runtime_hits", "value": 1}])

    def metrics(self):
        return [{"type": "COUNTER", "key": "static_hits", "value": 1}]
