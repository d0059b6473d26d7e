"""Combiner for the e2e tests: sums numeric inputs, otherwise reports the input types."""

import numpy as np

from seldon_wrapper.component import SeldonResponse


class E2eCombiner:
    def tags(self):
        return {"mytag": 1}

    def aggregate(self, features_list, feature_names_list):
        if not all(isinstance(f, np.ndarray) for f in features_list):
            return {"kinds": [type(f).__name__ for f in features_list]}
        total = sum(features_list[1:], features_list[0])
        if any(len(names) for names in feature_names_list):
            return SeldonResponse(total, tags={"names": [list(names) for names in feature_names_list]})
        return total
