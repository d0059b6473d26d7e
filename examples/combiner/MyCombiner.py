"""The example combiner: answers the element-wise mean of its children's outputs."""

import numpy as np

from seldon_core.flask_utils import SeldonMicroserviceException


class MyCombiner:
    def aggregate(self, features_list, feature_names_list):
        """``features_list`` holds one array per child; they must all have the same shape."""
        arrays = [np.asarray(features, dtype=float) for features in features_list]
        shapes = sorted({array.shape for array in arrays})
        if len(shapes) > 1:
            raise SeldonMicroserviceException(
                "MyCombiner averages outputs of one shape, got shapes " + ", ".join(map(str, shapes))
            )
        return np.mean(arrays, axis=0)
