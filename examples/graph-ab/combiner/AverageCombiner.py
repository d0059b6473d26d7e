"""A COMBINER that averages its children's answers: the ensemble variant of the A/B examples.

Instead of choosing model A or model B, the graph asks both and answers the element-wise mean
(A doubles the features and B quadruples them, so the mean triples them). The tag ``combined``
says how many answers were averaged.
"""

from __future__ import annotations

import numpy as np

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.user_model import SeldonResponse


class AverageCombiner:
    def aggregate(self, features_list: list, feature_names_list: list) -> SeldonResponse:
        """``features_list`` holds one array per child, all of one shape."""
        if not features_list:
            raise SeldonMicroserviceException("AverageCombiner needs at least one answer to average")
        try:
            arrays = [np.asarray(features, dtype=float) for features in features_list]
        except (TypeError, ValueError):
            raise SeldonMicroserviceException("AverageCombiner averages numbers") from None
        shapes = sorted({array.shape for array in arrays})
        if len(shapes) > 1:
            raise SeldonMicroserviceException(
                "AverageCombiner averages answers of one shape, got shapes " + ", ".join(map(str, shapes))
            )
        return SeldonResponse(np.mean(arrays, axis=0), tags={"combined": len(arrays)})
