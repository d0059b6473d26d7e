"""The pre-Core Seldon microservice API (``docs/legacy-v0.md``): its requests in, its answers out.

Pure functions, no Flask and no grpc. Requests:

* ``GET /recommend?client=&user_id=&recent_interactions=16,260&exclusion_items=&data_key=&limit=30``
  -> :class:`RecommendRequest` with typed fields (ids as ints where they parse, lists split on
  commas, empty lists for empty parameters);
* ``GET /predict?client=test1&json={"f1":4.8,...}`` -> the flat feature object as
  ``(names, one row)``; :func:`is_v0_predict` tells it apart from a v1 ``/predict?json=``.

Answers: ``{"recommended": [{"item": 32156, "score": 1}, ...]}`` with scores normalised to 0..1
(1 best, best first) and ``{"predictions": [{"score", "classId", "confidence"}, ...]}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seldon_wrapper.errors import SeldonMicroserviceException

DEFAULT_LIMIT = 30  # what the Seldon server asked for in the published example

# Keys of a v1 SeldonMessage: a ``json=`` object holding one of them is a v1 request.
_V1_KEYS = frozenset({"data", "strData", "binData", "jsonData", "meta", "status", "customData"})


def bad_request(message: str) -> SeldonMicroserviceException:
    return SeldonMicroserviceException(message, status_code=400)


# -- recommendation -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendRequest:
    """One ``/recommend`` call, typed."""

    client: str
    user_id: int | str | None
    recent_interactions: list
    exclusion_items: list
    data_key: str
    limit: int


def item_id(text: str) -> int | str:
    """An id as the int it spells, else the text itself (ids are ints in the Seldon server)."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def id_list(text: str | None) -> list:
    """``"16,260"`` -> ``[16, 260]``; empty or missing -> ``[]``; blank entries are skipped."""
    if not text:
        return []
    return [item_id(part) for part in text.split(",") if part.strip()]


def parse_recommend(args: Mapping[str, str]) -> RecommendRequest:
    """The query (or form) parameters of ``/recommend``; a 400 for a limit that is not a count."""
    limit_text = (args.get("limit") or "").strip()
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError:
            raise bad_request(f"limit must be a whole number, got {limit_text!r}") from None
        if limit < 0:
            raise bad_request(f"limit must not be negative, got {limit}")
    else:
        limit = DEFAULT_LIMIT
    user = (args.get("user_id") or "").strip()
    return RecommendRequest(
        client=args.get("client") or "",
        user_id=item_id(user) if user else None,
        recent_interactions=id_list(args.get("recent_interactions")),
        exclusion_items=id_list(args.get("exclusion_items")),
        data_key=args.get("data_key") or "",
        limit=limit,
    )


def _scored(entry: Any) -> tuple[Any, float]:
    """``(item, score)`` from a pair or a ``{"item", "score"}`` dict; a 500 for anything else."""
    if isinstance(entry, Mapping):
        item, score = entry.get("item"), entry.get("score")
    elif isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) == 2:
        item, score = entry
    else:
        raise SeldonMicroserviceException(
            f"recommend must return (item, score) pairs or {{'item', 'score'}} dicts, got {entry!r}", 500
        )
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise SeldonMicroserviceException(f"Score of item {item!r} is not a number: {score!r}", 500) from None
    if math.isnan(value):
        raise SeldonMicroserviceException(f"Score of item {item!r} is NaN", 500)
    if isinstance(item, np.generic):
        item = item.item()
    return item, value


def encode_recommended(scored: Iterable[Any], exclusions: Iterable[Any], limit: int) -> dict:
    """The answer: excluded items dropped, best first, at most ``limit``, scores divided by the
    best one so the best is 1 (negative scores count as 0; all zero stays all zero)."""
    excluded = set(exclusions)
    pairs = [pair for pair in map(_scored, scored) if pair[0] not in excluded]
    pairs.sort(key=lambda pair: pair[1], reverse=True)
    pairs = pairs[:limit]
    best = max((score for _, score in pairs), default=0.0)
    scale = best if best > 0 and math.isfinite(best) else None
    out = []
    for item, score in pairs:
        score = max(score, 0.0)
        if scale is not None:
            score = score / scale if math.isfinite(score) else 1.0
        elif math.isinf(score):
            score = 1.0
        out.append({"item": item, "score": _plain(score)})
    return {"recommended": out}


# -- prediction -------------------------------------------------------------------------------


def is_v0_predict(args: Mapping[str, str], message: Any) -> bool:
    """A ``/predict`` call of the pre-Core API: a ``client`` parameter and a flat feature object
    (no v1 SeldonMessage key). Anything else is a v1 request, served as before."""
    return "client" in args and isinstance(message, dict) and not (_V1_KEYS & message.keys())


def parse_features(message: Mapping[str, Any], order: Sequence[str] | None = None) -> tuple[list, np.ndarray]:
    """``{"f1": 4.8, ...}`` -> ``(names, X)`` with X one row of float64, in ``order`` (the class's
    feature names) when given, else the object's own key order. A 400 for a missing or
    non-numeric feature."""
    if not message:
        raise bad_request("No features: send a JSON object of feature name to number")
    names = list(order) if order else list(message)
    row = np.empty(len(names), dtype=np.float64)
    for index, name in enumerate(names):
        if name not in message:
            raise bad_request(f"Missing feature {name!r}; the model needs {names}")
        value = message[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad_request(f"Feature {name!r} must be a number, got {value!r}")
        row[index] = value
    return names, row.reshape(1, -1)


def class_scores(result: Any) -> np.ndarray:
    """The one row of class scores in a ``predict`` result (``[p0, p1, ...]`` or ``[[p0, p1, ...]]``)."""
    try:
        scores = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        raise SeldonMicroserviceException(
            f"predict must return numbers (one score per class), got {result!r}", 500
        ) from None
    if scores.ndim == 2 and scores.shape[0] == 1:
        scores = scores[0]
    if scores.ndim != 1 or scores.size == 0:
        raise SeldonMicroserviceException(
            f"predict must return one row of class scores, got shape {list(np.shape(scores))}", 500
        )
    return scores


@dataclass(frozen=True)
class Prediction:
    score: float
    class_id: str
    confidence: float


def predictions(scores: np.ndarray, class_ids: Sequence[str]) -> list[Prediction]:
    """One Prediction per class, in class order. ``confidence`` is the model's confidence in its
    answer as a whole: the best class's score, the same on every entry (docs/legacy-v0.md)."""
    confidence = float(np.max(scores))
    pairs = zip(scores, class_ids, strict=True)
    return [Prediction(float(score), str(class_id), confidence) for score, class_id in pairs]


def encode_predictions(items: Sequence[Prediction]) -> dict:
    return {
        "predictions": [
            {"score": _plain(p.score), "classId": p.class_id, "confidence": _plain(p.confidence)}
            for p in items
        ]
    }


def _plain(value: float) -> float | int:
    """1.0 -> 1 (the published answers write whole scores as integers), else the float."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
