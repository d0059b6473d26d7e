"""An iris species classifier served on the pre-Core Seldon microservice API and on Seldon v1.

A nearest-centroid model in plain numpy: the class scores are a softmax over the negative
Euclidean distances from the flower to each species' mean flower, so the closest species
scores highest and the three scores sum to 1.

``getData`` is the old ``CustomDataHandler.getData``: it unpacks the ``IrisPredictRequest``
that a Classifier client packs into ``ClassificationRequest.data``.
"""

import iris_pb2
import numpy as np

# Per-species means (cm) of the 150 flowers of Fisher's Iris data set, in feature order:
# sepal length (f1), sepal width (f2), petal length (f3), petal width (f4). Fixed here so the
# example needs no data file and no training step.
CENTROIDS = np.array(
    [
        [5.006, 3.428, 1.462, 0.246],  # Iris-setosa
        [5.936, 2.770, 4.260, 1.326],  # Iris-versicolor
        [6.588, 2.974, 5.552, 2.026],  # Iris-virginica
    ]
)
SPECIES = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
FEATURES = ["f1", "f2", "f3", "f4"]
REQUEST_TYPE = iris_pb2.IrisPredictRequest.DESCRIPTOR.full_name


class IrisClassifier:
    def feature_names(self):
        return list(FEATURES)

    def class_names(self):
        return list(SPECIES)

    def predict(self, X, feature_names=None):
        """One row of species probabilities per flower (rows of f1..f4, in that order), rounded
        to 6 decimals: easier to read, and the same on every platform."""
        X = np.asarray(X, dtype=np.float64).reshape(-1, len(FEATURES))
        distances = np.linalg.norm(X[:, None, :] - CENTROIDS[None, :, :], axis=2)
        logits = -distances
        logits -= logits.max(axis=1, keepdims=True)  # no overflow for far-away flowers
        weights = np.exp(logits)
        return np.round(weights / weights.sum(axis=1, keepdims=True), 6)

    def getData(self, request):  # noqa: N802 (the old CustomDataHandler's name)
        """The features of a ClassificationRequest whose ``data`` holds an IrisPredictRequest."""
        flower = iris_pb2.IrisPredictRequest()
        if not request.data.Unpack(flower):
            held = request.data.type_url.rpartition("/")[2] or "nothing"
            raise ValueError(f"request.data holds {held}, expected {REQUEST_TYPE}")
        return {"f1": flower.f1, "f2": flower.f2, "f3": flower.f3, "f4": flower.f4}
