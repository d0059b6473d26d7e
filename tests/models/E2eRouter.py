"""Router for the e2e tests: routes to the first feature, or to meta.tags.route_to when given.

Special first values: -1 -> numpy int (rejected), -2 -> True (accepted as int),
-3 -> SeldonResponse(0) with a runtime tag.
"""

import numpy as np

from seldon_wrapper.component import SeldonResponse


class E2eRouter:
    def route(self, features, feature_names, meta=None):
        tags = (meta or {}).get("tags") or {}
        if "route_to" in tags:
            return tags["route_to"]
        first = features.ravel()[0].item()
        if first == -1:
            return np.int64(1)
        if first == -2:
            return True
        if first == -3:
            return SeldonResponse(0, tags={"routed": "yes"})
        return int(first)
