"""Model settings: one frozen, hashable dataclass that is a cache key, printable and saved."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from recsys.errors import InvalidParamsError

__all__ = ["METRICS", "MODEL_KINDS", "VALUES", "WEIGHTINGS", "InvalidParamsError", "ModelParams"]

MODEL_KINDS: tuple[str, ...] = (
    "user_knn",
    "item_knn",
    "rp3beta",
    "ease",
    "als",
    "popularity",
    "popularity_segment",
)
METRICS: tuple[str, ...] = ("cosine", "euclidean", "manhattan")
WEIGHTINGS: tuple[str, ...] = ("binary", "count", "log1p", "tfidf", "bm25")
VALUES: tuple[str, ...] = ("count", "quantity", "amount")
# Settings added after models were first saved, with the value that reproduces a model trained
# before they existed (not today's default: k=200's power 3, say, would change an old model).
LEGACY_VALUES: dict[str, Any] = {
    "similarity_power": 1.0,
    "shrink": 0.0,
    "asymmetry": 0.5,
    "popularity_penalty": 0.0,
    "half_life_days": 0.0,
}


@dataclass(frozen=True)
class ModelParams:
    """Settings of a :class:`~recsys.pipeline.RecommenderPipeline`.

    Parameters
    ----------
    model : {"user_knn", "item_knn", "rp3beta", "ease", "als", "popularity", "popularity_segment"}
        Which recommender scores products. ``user_knn`` is the product's model; the others are
        baselines and alternatives offered by the evaluation (``als`` needs the ``implicit``
        package).
    n_neighbors : int
        k: how many similar customers (user-kNN) or similar products (item-kNN, RP3beta) are
        used. The user-kNN defaults, k=200, ``similarity_power=3``, ``asymmetry=0.7``,
        ``popularity_penalty=0.2`` (binary weights, no shrinkage), were chosen on the
        validation splits only of three real data sets (MovieLens 100K, MovieLens
        latest-small, Instacart; ``bench/quality.py --search-default``): of 960 candidates,
        the one whose validation NDCG@10 is nearest the best on every set (at least 0.965 of
        it); the seed's plain k=20 cosine recipe is ``n_neighbors=20, similarity_power=1,
        asymmetry=0.5, popularity_penalty=0``.
    metric : {"cosine", "euclidean", "manhattan"}
        Distance between customers' purchase vectors (user-kNN).
    weighting : {"binary", "count", "log1p", "tfidf", "bm25"}
        How raw values become matrix weights.
    value : {"count", "quantity", "amount"}
        What a cell holds before weighting: purchase lines, units bought or spend.
    min_similarity : float
        Neighbours less similar than this are ignored.
    similarity_power : float
        User-kNN scores weight each neighbour by ``similarity ** similarity_power`` (1 = plain
        similarity-weighted sum; 2-3 favour the closest neighbours, often better with a larger k).
    shrink : float
        User-kNN, cosine: each similarity times ``n_common / (n_common + shrink)`` (0 = none).
        Cosine only: with another metric it is set to 0 (checked for range first).
    asymmetry : float
        User-kNN, cosine: asymmetric cosine ``u.v / (|u|^(2a) |v|^(2(1-a)))`` of the customer
        ``u`` and a neighbour ``v``, ``a`` in [0, 1] (0.5 = cosine; above it, large baskets
        count for more). Cosine only: with another metric it is set to 0.5.
    popularity_penalty : float
        User-kNN: a product's score is divided by its buyers ** this (0 = none).
    half_life_days : float
        Time decay (as Microsoft SAR's): each customer x product weight times
        ``0.5 ** (days since the customer last bought it / half_life_days)``, counted back from
        the latest purchase date of the data; needs purchase dates. 0 (default) = no decay; any
        model kind (it shapes the matrix, like ``weighting``).
    exclude_purchased : bool
        Leave out products the customer already bought (default).
    l2 : float
        Regularisation of the EASE model.
    alpha : float
        RP3beta: exponent of the transition probabilities (1 = plain random walk, below 1
        flattens them).
    beta : float
        RP3beta: popularity penalty; a product's similarity is divided by its number of buyers
        ** beta (0 = none), so the long tail gets its share.
    factors : int
        ALS: latent factors per customer and product.
    regularization : float
        ALS: L2 regularisation of the factors (10 is the best of 3 to 100 on the validation
        splits of the three real data sets of ``bench/quality.py``).
    iterations : int
        ALS: alternating least-squares sweeps.
    confidence : float
        ALS: weight of an observed purchase (implicit's ``alpha``: confidence = confidence x
        the matrix value).
    reward_boost : float
        0 (default) ranks by relevance only; up to 1, each customer's candidates are re-ranked
        by ``(1 - reward_boost) x relevance + reward_boost x offer value`` (both normalised per
        customer, see :mod:`recsys.rewards.rerank`), and the best offer is the reachable one first.

    Examples
    --------
    >>> ModelParams().label()
    'user_knn k=200 cosine power=3 asym=0.7 pop_penalty=0.2 binary/count'
    >>> ModelParams(n_neighbors=15, similarity_power=1, asymmetry=0.5, popularity_penalty=0).label()
    'user_knn k=15 cosine binary/count'
    """

    model: str = "user_knn"
    # The user-kNN defaults (k, power, asymmetry, popularity penalty; binary weights, no
    # shrinkage) are the setting nearest the best on the validation splits of all three real
    # data sets of bench/quality.py (--search-default, 960 candidates): see n_neighbors.
    n_neighbors: int = 200
    metric: str = "cosine"
    weighting: str = "binary"
    value: str = "count"
    min_similarity: float = 0.0
    exclude_purchased: bool = True
    l2: float = 200.0
    reward_boost: float = 0.0
    similarity_power: float = 3.0
    alpha: float = 0.5
    beta: float = 0.4
    factors: int = 64
    regularization: float = 10.0
    iterations: int = 15
    confidence: float = 1.0
    shrink: float = 0.0
    asymmetry: float = 0.7
    popularity_penalty: float = 0.2
    half_life_days: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for name, allowed in (
            ("model", MODEL_KINDS),
            ("metric", METRICS),
            ("weighting", WEIGHTINGS),
            ("value", VALUES),
        ):
            if getattr(self, name) not in allowed:
                problems.append(
                    f"{name}={getattr(self, name)!r} is not one of {', '.join(allowed)}"
                )
        if (
            isinstance(self.n_neighbors, bool)
            or not isinstance(self.n_neighbors, int)
            or self.n_neighbors < 1
        ):
            problems.append(f"n_neighbors={self.n_neighbors!r} must be a whole number >= 1")
        if not 0.0 <= float(self.min_similarity) < 1.0:
            problems.append(f"min_similarity={self.min_similarity!r} must be in [0, 1)")
        if not 0.0 < float(self.similarity_power) <= 10.0:
            problems.append(f"similarity_power={self.similarity_power!r} must be in (0, 10]")
        if not 0.0 <= float(self.shrink) < float("inf"):
            problems.append(f"shrink={self.shrink!r} must be a finite number >= 0")
        if not 0.0 <= float(self.asymmetry) <= 1.0:
            problems.append(f"asymmetry={self.asymmetry!r} must be in [0, 1]")
        if not 0.0 <= float(self.popularity_penalty) <= 2.0:
            problems.append(f"popularity_penalty={self.popularity_penalty!r} must be in [0, 2]")
        if not 0.0 <= float(self.half_life_days) < float("inf"):
            problems.append(
                f"half_life_days={self.half_life_days!r} must be a finite number of days >= 0 "
                "(0 = no time decay)"
            )
        if float(self.l2) <= 0:
            problems.append(f"l2={self.l2!r} must be > 0")
        if not 0.0 < float(self.alpha) <= 5.0:
            problems.append(f"alpha={self.alpha!r} must be in (0, 5]")
        if not 0.0 <= float(self.beta) <= 2.0:
            problems.append(f"beta={self.beta!r} must be in [0, 2]")
        for name in ("factors", "iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name}={value!r} must be a whole number >= 1")
        if float(self.regularization) < 0:
            problems.append(f"regularization={self.regularization!r} must be >= 0")
        if float(self.confidence) <= 0:
            problems.append(f"confidence={self.confidence!r} must be > 0")
        if not 0.0 <= float(self.reward_boost) <= 1.0:
            problems.append(f"reward_boost={self.reward_boost!r} must be in [0, 1]")
        if problems:
            raise InvalidParamsError("Invalid model settings: " + "; ".join(problems) + ".")
        if self.metric != "cosine":
            # Shrinkage and asymmetry shape the cosine only: with another metric they take their
            # neutral values, so a form or flag set for cosine never makes the settings invalid,
            # and equal models have equal settings (one cache key, one label).
            object.__setattr__(self, "shrink", 0.0)
            object.__setattr__(self, "asymmetry", 0.5)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelParams:
        """Build from a dict, ignoring keys this version does not know (older/newer artifacts).

        A setting missing from ``values`` (an artifact saved before it existed) takes its
        :data:`LEGACY_VALUES` value when it has one, so an old model keeps its meaning.

        >>> ModelParams.from_dict({"n_neighbors": 20}).label()
        'user_knn k=20 cosine binary/count'
        """
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in values.items() if k in known}
        return cls(**{**LEGACY_VALUES, **given})

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A pickled ModelParams (inside a saved pipeline) from before a setting existed lacks
        # it: fill it as from_dict does, then the rest from the class defaults.
        defaults = {f.name: f.default for f in fields(self)}
        for name, value in {**defaults, **LEGACY_VALUES, **state}.items():
            object.__setattr__(self, name, value)

    def label(self) -> str:
        """A short human-readable description, e.g. for a chart legend."""
        if self.reward_boost > 0:
            base = ModelParams.from_dict({**self.to_dict(), "reward_boost": 0.0}).label()
            return f"{base} reward_boost={self.reward_boost:g}"
        if self.half_life_days > 0:
            base = ModelParams.from_dict({**self.to_dict(), "half_life_days": 0.0}).label()
            return f"{base} half_life={self.half_life_days:g}d"
        if self.model == "user_knn":
            power = f" power={self.similarity_power:g}" if self.similarity_power != 1.0 else ""
            floor = f" min_sim={self.min_similarity:g}" if self.min_similarity > 0 else ""
            extra = "".join(
                f" {name}={value:g}"
                for name, value, neutral in (
                    ("shrink", self.shrink, 0.0),
                    ("asym", self.asymmetry, 0.5),
                    ("pop_penalty", self.popularity_penalty, 0.0),
                )
                if value != neutral
            )
            return (
                f"user_knn k={self.n_neighbors} {self.metric}{power}{floor}{extra} "
                f"{self.weighting}/{self.value}"
            )
        if self.model == "item_knn":
            return f"item_knn k={self.n_neighbors} {self.weighting}/{self.value}"
        if self.model == "rp3beta":
            return (
                f"rp3beta k={self.n_neighbors} alpha={self.alpha:g} beta={self.beta:g} "
                f"{self.weighting}/{self.value}"
            )
        if self.model == "ease":
            return f"ease l2={self.l2:g} {self.weighting}/{self.value}"
        if self.model == "als":
            return (
                f"als factors={self.factors} reg={self.regularization:g} "
                f"iterations={self.iterations} confidence={self.confidence:g} "
                f"{self.weighting}/{self.value}"
            )
        return self.model
