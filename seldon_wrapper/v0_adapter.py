"""The pre-Core Seldon microservice face of a v1 user class (``docs/legacy-v0.md``).

Protocol-neutral like the dataplane: the ``/recommend`` and ``/predict?client=`` REST routes and
the ``io.seldon.api.rpc.Classifier`` gRPC service all come here with decoded input.

* recommend: the candidate items of ``data_key`` (``item_sources``), minus the exclusions, go to
  the class's ``recommend(user_id, items, recent_interactions, client, limit)`` (the old
  ``seldon.Recommender`` signature); the scored items come back normalised, best first.
* classify: one row of features goes to the same ``predict(X, feature_names)`` the v1 API calls;
  its one row of class scores becomes one prediction per class.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from seldon_wrapper import dataplane as v1
from seldon_wrapper import item_sources
from seldon_wrapper.codecs import v0
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException


class V0Adapter:
    """Serves one v1 component on the pre-Core microservice API."""

    def __init__(self, dataplane: Dataplane, items: item_sources.ItemSource | None = None) -> None:
        self.dataplane = dataplane
        self.component = dataplane.component
        user = self.component.user
        settings = dataplane.settings
        metadata = dataplane.model_metadata or {}
        self.model_name = settings.predictive_unit_id or metadata.get("name") or self.component.class_name
        recommend = getattr(user, "recommend", None)
        self._recommend = recommend if callable(recommend) else None
        self.items = items if items is not None else item_sources.for_component(user)

    @property
    def feature_order(self) -> list | None:
        """The class's feature names, read per call: ``load()`` (which runs after this adapter is
        built, in each worker) may set them."""
        return _feature_order(self.component.user)

    @property
    def get_data(self) -> Any:
        """The data handler's ``getData`` (the ``data_handler`` attribute's, else the class's)."""
        user = self.component.user
        handler = getattr(user, "data_handler", None)
        get_data = getattr(handler, "getData", None) or getattr(user, "getData", None)
        return get_data if callable(get_data) else None

    @property
    def recommends(self) -> bool:
        return self._recommend is not None

    # -- recommendation ----------------------------------------------------------------------

    def recommend(self, request: v0.RecommendRequest) -> dict:
        """The ``{"recommended": [...]}`` answer."""
        if self._recommend is None:
            raise SeldonMicroserviceException(
                f"{self.component.class_name} has no recommend method: it is not a recommender "
                "(serve a class with recommend(user_id, items, recent_interactions, client, limit))",
                status_code=404,
            )
        candidates = self.items.items(request.data_key) if request.data_key else []
        excluded = set(request.exclusion_items)
        candidates = [item for item in candidates if item not in excluded]
        scored = self._recommend(
            request.user_id, candidates, request.recent_interactions, request.client, request.limit
        )
        if scored is None:
            scored = []
        return v0.encode_recommended(scored, excluded, request.limit)

    # -- prediction --------------------------------------------------------------------------

    def classify(self, features: Mapping[str, Any] | np.ndarray, names: list | None = None) -> list:
        """One v0.Prediction per class for one row of features (a feature object or an array)."""
        order = self.feature_order
        if isinstance(features, Mapping):
            names, row = v0.parse_features(features, order)
        else:
            row = np.asarray(features, dtype=np.float64).reshape(1, -1)
            names = list(names or order or [])
        response = self.component.predict.call(row, names, {}, default=None)
        if response.data is None:
            raise SeldonMicroserviceException(
                f"{self.component.class_name} has no predict method to score features with", 501
            )
        self.dataplane.custom_metrics(v1.PREDICT, response.metrics)
        scores = v0.class_scores(response.data)
        if self.component.has_class_names:
            class_ids = self.component.class_names(scores.size)
        else:
            class_ids = [str(index) for index in range(scores.size)]
        if len(class_ids) != scores.size:
            raise SeldonMicroserviceException(
                f"class_names has {len(class_ids)} names for {scores.size} class scores", 500
            )
        return v0.predictions(scores, class_ids)

    def unpack(self, request: Any) -> Any:
        """Features of a Classifier request, from the user's ``getData(request)`` (a 400 with its
        message when it fails: the request's ``data`` is the client's)."""
        get_data = self.get_data
        if get_data is None:
            raise SeldonMicroserviceException(
                f"{self.component.class_name} has no getData(request) (or data_handler) to unpack "
                "ClassificationRequest.data",
                status_code=501,
            )
        try:
            return get_data(request)
        except SeldonMicroserviceException:
            raise
        except Exception as exc:
            raise v0.bad_request(f"getData failed: {exc}") from None

    def puid(self, puid: str) -> str:
        return puid or uuid.uuid4().hex


def _feature_order(user: Any) -> list | None:
    """The class's ``feature_names`` (a list, or a method returning one), or None."""
    names = getattr(user, "feature_names", None)
    if callable(names):
        try:
            names = names()
        except Exception:
            return None
    if isinstance(names, (list, tuple)) and names and all(isinstance(n, str) for n in names):
        return list(names)
    return None
