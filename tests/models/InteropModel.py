"""Model for the interop tests (tests/interop): one class answering every v1 method.

predict is the identity (with per-request tags and metrics when the request tag ``runtime_meta`` is
true), transform_input doubles numeric arrays, transform_output is the identity, route returns 0,
aggregate returns the first input and send_feedback returns []. tests/interop/orig_client.py has a
twin of this class (``OracleModel``) that runs inside the ORIGINAL seldon-core: keep them in step.
"""

import numpy as np

from seldon_wrapper.component import SeldonResponse

METADATA = {
    "name": "interop",
    "versions": ["v1", "v2"],
    "platform": "seldon",
    "inputs": [
        {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
        {"messagetype": "jsonData", "schema": {"type": "object"}},
        {"messagetype": "strData"},
    ],
    "outputs": [{"name": "out", "datatype": "FP64", "shape": [1, 2]}],
    "custom": {"team": "interop", "purpose": "wire"},
}


def runtime_metrics():
    """Fresh dicts every call: the metrics store adds ``method`` to a metric's ``tags`` in place."""
    return [
        {"type": "COUNTER", "key": "reqs", "value": 1},
        {"type": "GAUGE", "key": "g", "value": 2.5, "tags": {"l": "v"}},
        {"type": "TIMER", "key": "t", "value": 0.1},
    ]


class InteropModel:
    def init_metadata(self):
        return METADATA

    def predict(self, X, features_names, meta=None):
        tags = (meta or {}).get("tags") or {}
        if tags.get("runtime_meta"):
            return SeldonResponse(X, tags={"runtime": "yes"}, metrics=runtime_metrics())
        return X

    def transform_input(self, X, features_names, meta=None):
        if isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.number):
            return X * 2
        return X

    def transform_output(self, X, features_names, meta=None):
        return X

    def route(self, features, feature_names, meta=None):
        return 0

    def aggregate(self, features_list, feature_names_list):
        return features_list[0]

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        return []
