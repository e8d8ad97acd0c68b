"""One way to build a recommender: :func:`make_model` turns :class:`ModelParams` into an estimator.

The pipeline and the evaluation runner both build their models here, so a setting means the same
thing in the dashboard, the CLI and an offline evaluation. Only segment popularity needs more than
the matrix: :func:`segment_arguments` gives the extra ``fit`` / ``score_items`` argument.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator

from recsys.models.als import ALS
from recsys.models.ease import EASE
from recsys.models.item_knn import ItemKNN
from recsys.models.popularity import Popularity
from recsys.models.rp3beta import RP3beta
from recsys.models.user_knn import UserKNN
from recsys.params import ModelParams

__all__ = ["make_model", "needs_segments", "segment_arguments"]


def make_model(params: ModelParams) -> BaseEstimator:
    """The unfitted estimator that ``params.model`` names, configured from ``params``.

    Only the settings of that model kind are used (``l2`` for EASE, ``n_neighbors`` for the
    kNN models and RP3beta, ``alpha`` and ``beta`` for RP3beta, ``factors`` ... for ALS); the
    weighting and value choose the matrix the caller fits it on.

    Examples
    --------
    >>> make_model(ModelParams(model="ease", l2=50.0))
    EASE(l2=50.0)
    >>> make_model(ModelParams(model="rp3beta", n_neighbors=50, alpha=0.8, beta=0.3))
    RP3beta(alpha=0.8, beta=0.3, n_neighbors=50)
    >>> make_model(ModelParams(model="popularity_segment")).by_segment
    True
    """
    if params.model == "user_knn":
        return UserKNN(
            n_neighbors=params.n_neighbors,
            metric=params.metric,
            min_similarity=params.min_similarity,
            similarity_power=params.similarity_power,
            shrink=params.shrink,
            asymmetry=params.asymmetry,
            popularity_penalty=params.popularity_penalty,
        )
    if params.model == "item_knn":
        return ItemKNN(n_neighbors=params.n_neighbors)
    if params.model == "rp3beta":
        return RP3beta(n_neighbors=params.n_neighbors, alpha=params.alpha, beta=params.beta)
    if params.model == "ease":
        return EASE(l2=params.l2)
    if params.model == "als":
        return ALS(
            factors=params.factors,
            regularization=params.regularization,
            iterations=params.iterations,
            confidence=params.confidence,
        )
    return Popularity(by_segment=params.model == "popularity_segment")


def needs_segments(params: ModelParams) -> bool:
    """Whether the model can only be fitted with each customer's segment."""
    return params.model == "popularity_segment"


def segment_arguments(params: ModelParams, groups: Any) -> dict[str, Any]:
    """``{"groups": groups}`` for a model that ranks within segments, else ``{}``.

    Pass the result to ``fit`` (one segment per training row) and to ``score_items`` (one per
    query row).

    Examples
    --------
    >>> segment_arguments(ModelParams(), ["a", "b"])
    {}
    """
    return {"groups": groups} if needs_segments(params) else {}
