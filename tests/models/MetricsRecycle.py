"""predict(X): COUNTER ``served`` += 1 and GAUGE ``last_seen`` = X[0]; answers the serving pid."""

import os

from seldon_wrapper.component import SeldonResponse


class MetricsRecycle:
    def predict(self, X, feature_names):
        return SeldonResponse(
            [os.getpid()],
            metrics=[
                {"type": "COUNTER", "key": "served", "value": 1},
                {"type": "GAUGE", "key": "last_seen", "value": float(X.ravel()[0])},
            ],
        )
