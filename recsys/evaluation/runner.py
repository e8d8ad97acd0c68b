"""Offline evaluation: per-customer temporal holdout, ranking metrics at N, model comparison.

The flow is :func:`temporal_split` (or :func:`validation_split` for tuning) -> customer x product
matrices over one shared vocabulary -> each :class:`~recsys.params.ModelParams` fitted once
(:func:`recsys.models.factory.make_model`) -> its top-``max(ns)`` list per customer, computed in
chunks with training purchases excluded -> :func:`ranking_metrics` at every N of ``ns`` from
prefixes of that one list (the top-N list is the first N of the top-``max(ns)`` list: ranking is
by score, ties by column). :func:`evaluate` compares configurations on the test split;
:func:`sweep` picks each model kind's best configuration on the validation split and reports it on
the test split. Results are in :mod:`recsys.evaluation.results`.

The runner evaluates the model alone: purchased products are always excluded, and
``reward_boost`` is not applied (its trade-off is :mod:`recsys.evaluation.tradeoff`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.errors import (
    InvalidParamsError,
    MissingDependencyError,
    ModelTooLargeError,
    RecsysError,
)
from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.results import EvaluationResult, SweepResult
from recsys.evaluation.scoring import (
    check_n,
    default_chunk_size,
    evaluate_model,
    popularity_share,
    recommend_rows,
)
from recsys.evaluation.selection import choose
from recsys.evaluation.split import SplitMatrices, temporal_split, validation_split
from recsys.models import factory
from recsys.models.als import implicit_available
from recsys.params import ModelParams

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_MODELS",
    "DEFAULT_SAMPLE",
    "DEFAULT_TRAIN_SAMPLE",
    "EvaluationResult",
    "SweepResult",
    "evaluate",
    "sample_purchases",
    "evaluate_model",
    "sample_customers",
    "sweep",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
OnResult = Callable[[EvaluationResult], None]

DEFAULT_SAMPLE = 5_000
"""Customers scored by default by the Evaluation page and ``python -m recsys evaluate``: a
seeded sample of the customers with held-out products (:func:`sample_customers`)."""
DEFAULT_TRAIN_SAMPLE = 100_000
"""Customers whose purchases an Evaluation page run (and ``python -m recsys evaluate``) splits
and trains on by default: above it, a seeded sample of the customers (all their purchases,
:func:`sample_purchases`), so a run costs about the same at a million customers as at 100,000
(bench/README.md); every model is compared on the same sample."""
DENSE_MODELS = ("ease",)
"""Model kinds whose fit is a dense product x product solve (memory n^2, time n^3)."""

DEFAULT_MODELS: tuple[ModelParams, ...] = (
    ModelParams(model="user_knn"),
    ModelParams(model="item_knn", n_neighbors=50),
    ModelParams(model="rp3beta", n_neighbors=100),
    ModelParams(model="ease", l2=200.0),
    *((ModelParams(model="als"),) if implicit_available() else ()),
    ModelParams(model="popularity"),
    ModelParams(model="popularity_segment"),
)
"""Compared by :func:`evaluate` by default (``popularity_segment`` only with segments; ALS only
when the ``implicit`` package is installed). Each is its kind's default, and is in
:data:`DEFAULT_GRID`; :func:`sweep` keeps it unless another setting is clearly ahead of it on the
validation split."""

DEFAULT_GRID: tuple[ModelParams, ...] = (
    # Plain cosine user-kNN (no asymmetry, no popularity penalty), stated in full so that the
    # family does not move with the defaults.
    *(
        ModelParams(
            model="user_knn",
            n_neighbors=k,
            weighting=w,
            min_similarity=s,
            similarity_power=p,
            asymmetry=0.5,
            popularity_penalty=0.0,
            shrink=0.0,
        )
        for k in (10, 20, 50, 100, 200)
        for w in ("binary", "log1p", "bm25")
        for s in (0.0, 0.05)
        for p in (1.0, 2.0)
    ),
    # Asymmetric cosine with a popularity penalty and a larger, sharpened k: the family of the
    # default (k=200, power 3, asymmetry 0.7, penalty 0.2), the nearest the best on the
    # validation splits of bench/quality.py's three real data sets.
    *(
        ModelParams(
            model="user_knn",
            n_neighbors=k,
            weighting="binary",
            min_similarity=0.0,
            similarity_power=p,
            asymmetry=a,
            popularity_penalty=b,
            shrink=0.0,
        )
        for k in (100, 200)
        for p in (2.0, 3.0)
        for a in (0.6, 0.7)
        for b in (0.1, 0.2)
    ),
    *(ModelParams(model="item_knn", n_neighbors=k) for k in (20, 50, 100)),
    *(
        ModelParams(model="rp3beta", n_neighbors=k, alpha=a, beta=b)
        for k in (50, 100, 200)
        for a in (0.3, 0.5)
        for b in (0.2, 0.4)
    ),
    *(ModelParams(model="ease", l2=l2) for l2 in (200.0, 500.0)),
    *(
        (
            ModelParams(model="als", factors=f, regularization=r)
            for f in (32, 64, 128)
            for r in (3.0, 10.0)
        )
        if implicit_available()
        else ()
    ),
    ModelParams(model="popularity"),
)
"""Tried by :func:`sweep` by default: 76 user-kNN configurations (60 plain cosine of k,
weighting, minimum similarity and power; 16 of k, power, asymmetry and popularity penalty),
3 item-kNN (k), 12 RP3beta (k, alpha, beta), 2 EASE (l2), 6 ALS (factors, regularisation; with
``implicit``) and popularity. It holds every default configuration (:data:`DEFAULT_MODELS`, and
``ModelParams()`` itself); :func:`sweep` keeps each kind's default unless the validation winner
is clearly ahead of it. ``python -m recsys evaluate --tune`` on MovieLens latest-small (671
customers x 3,496 products rated by >= 5 users, 90,072 pairs) took 143.6 s wall (peak RSS
945 MiB) on a shared 2-core machine at load average 7 (a test suite running beside it); with
the earlier 68-setting grid and k=20 default it took 29.1 s at load average 1.5. It keeps the
user-kNN default there (the best, k=100 asymmetry 0.6, +0.0028 [-0.0011, +0.0065] on
validation), test NDCG@10 0.1332, as ``bench/quality.py`` reports."""


def _check_ns(ns: Iterable[int]) -> tuple[int, ...]:
    chosen = tuple(ns)
    if not chosen:
        raise ValueError("ns must hold at least one N.")
    for n in chosen:
        check_n(n)
    return tuple(sorted({int(n) for n in chosen}))


def _distinct(configs: Iterable[ModelParams]) -> list[ModelParams]:
    """Each configuration once, in the given order (one fit each)."""
    configs = list(configs)
    for params in configs:
        if not isinstance(params, ModelParams):
            raise TypeError(f"Configurations must be ModelParams, got {params!r}.")
    return list(dict.fromkeys(configs))


def _fit(mats: SplitMatrices, params: ModelParams) -> tuple[Any, sp.csr_matrix]:
    """The configuration's model fitted on its weighted training matrix."""
    X = mats.weighted(params.value, params.weighting, params.half_life_days)
    model = factory.make_model(params)
    try:
        model.fit(X, **factory.segment_arguments(params, mats.segment_groups))
    except (TypeError, ValueError) as error:
        if isinstance(error, RecsysError):
            raise
        raise InvalidParamsError(f"Invalid settings for {params.label()}: {error}") from error
    return model, X


def _metric_rows(
    params: ModelParams,
    recs: np.ndarray,
    truth: sp.csr_matrix,
    ns: Sequence[int],
    popularity: np.ndarray,
    **keys: Any,
) -> list[dict[str, Any]]:
    """Tidy rows of every metric at every N, from prefixes of the top-``max(ns)`` lists."""
    rows = []
    for n in ns:
        values = ranking_metrics(recs[:, :n], truth, popularity=popularity)
        base = {"params": params, "model": params.model, "n": n, **keys}
        rows += [{**base, "metric": metric, "value": value} for metric, value in values.items()]
    return rows


def _segment_rows(
    params: ModelParams,
    recs: np.ndarray,
    truth: sp.csr_matrix,
    segments: np.ndarray,
    ns: Sequence[int],
    popularity: np.ndarray,
) -> list[dict[str, Any]]:
    """Metrics per segment (a loop over the few segments, not over customers)."""
    out: list[dict[str, Any]] = []
    for segment in np.unique(segments):
        mask = segments == segment
        chosen = truth[np.flatnonzero(mask)]
        out += _metric_rows(params, recs[mask], chosen, ns, popularity, segment=segment)
    return out


def sample_customers(rows: np.ndarray, max_customers: int | None, *, seed: int = 0) -> np.ndarray:
    """At most ``max_customers`` of ``rows``, drawn without replacement, in ascending order.

    The same ``rows``, ``max_customers`` and ``seed`` always give the same sample, so every
    configuration of a comparison (and a rerun) is scored on the same customers; ``None`` (or a
    bound of at least ``len(rows)``) keeps every row.

    Examples
    --------
    >>> sample_customers(np.arange(10), 3, seed=0).tolist() == sample_customers(
    ...     np.arange(10), 3, seed=0).tolist()
    True
    >>> sample_customers(np.arange(4), None).tolist()
    [0, 1, 2, 3]
    """
    rows = np.asarray(rows)
    if max_customers is None or max_customers >= len(rows):
        return rows
    if isinstance(max_customers, bool) or int(max_customers) < 1:
        raise ValueError(f"max_customers={max_customers!r} must be a whole number >= 1.")
    rng = np.random.default_rng(seed)
    return np.sort(rows[rng.choice(len(rows), int(max_customers), replace=False)])


def sample_purchases(
    purchases: pd.DataFrame, max_customers: int | None, *, seed: int = 0
) -> tuple[pd.DataFrame, int]:
    """Every purchase line of a seeded sample of at most ``max_customers`` customers, and how
    many customers there are in all.

    The sample depends only on the set of customer ids, ``max_customers`` and ``seed`` (not on
    the order of the lines); ``None`` (or a bound of at least the number of customers) keeps
    every line, as the same frame.

    Examples
    --------
    >>> df = pd.DataFrame({"customer_id": list("abcabc"), "product_id": list("xyzzyx")})
    >>> kept, total = sample_purchases(df, 2, seed=0)
    >>> total, kept["customer_id"].nunique(), len(kept)
    (3, 2, 4)
    """
    codes, ids = pd.factorize(purchases[S.CUSTOMER_ID], sort=True)
    total = len(ids)
    if max_customers is None or max_customers >= total:
        return purchases, total
    if isinstance(max_customers, bool) or int(max_customers) < 1:
        raise ValueError(f"max_train_customers={max_customers!r} must be a whole number >= 1.")
    chosen = np.zeros(total, dtype=bool)
    chosen[np.random.default_rng(seed).choice(total, int(max_customers), replace=False)] = True
    return purchases.loc[chosen[codes]].reset_index(drop=True), total


def _too_dense(params: ModelParams, n_products: int, bound: int | None) -> str | None:
    """Why a dense model is left out of a run on ``n_products`` products (None: it is not)."""
    if bound is None or params.model not in DENSE_MODELS or n_products <= bound:
        return None
    gigabytes = 4 * 8 * n_products**2 / 1e9  # Gram matrix, factor, inverse and weights
    return (
        f"its dense {n_products:,} x {n_products:,} solve needs about {gigabytes:.0f} GB and "
        f"minutes of computing; this run leaves it out above {bound:,} products"
    )


def _evaluate_configs(
    mats: SplitMatrices,
    configs: Sequence[ModelParams],
    *,
    ns: tuple[int, ...],
    chunk_size: int | None,
    report: Callable[[float, str], None],
    keep_lists: bool = True,
    max_customers: int | None = None,
    seed: int = 0,
    on_result: OnResult | None = None,
    sampled: dict[str, Any] | None = None,
    max_dense_products: int | None = None,
) -> EvaluationResult:
    """Fit each configuration once and score its top-``max(ns)`` lists at every N.

    With ``keep_lists`` the result keeps every list (for bootstrap intervals). Only a seeded
    sample of at most ``max_customers`` of the customers with held-out products is scored
    (:func:`sample_customers`); the models are fitted on every customer's training purchases.
    ``on_result`` gets each configuration's own result as soon as it is scored (or skipped).
    """
    rows: list[dict[str, Any]] = []
    lists: dict[ModelParams, np.ndarray] = {}
    segment_rows: list[dict[str, Any]] = []
    skipped: dict[ModelParams, str] = {}
    eligible = np.flatnonzero(np.diff(mats.truth.indptr) > 0)
    if not len(eligible):
        raise RecsysError(
            f"No customer has {mats.split.min_products} or more distinct products, so there is "
            "nothing to evaluate. Lower min_products or use more purchase history."
        )
    eval_rows = sample_customers(eligible, max_customers, seed=seed)
    split = {
        **mats.split.describe(),
        "customers_eligible": int(len(eligible)),
        "customers_evaluated": int(len(eval_rows)),
        "max_customers": None if max_customers is None else int(max_customers),
        **(sampled or {}),
    }
    truth = mats.truth[eval_rows]
    size = chunk_size or default_chunk_size(len(mats.products))
    # Purchase counts, not the chosen value: a zero-spend purchase is still a purchase.
    bought = mats.raw("count")
    popularity = popularity_share(bought)
    kept = {"truth": truth, "popularity": popularity} if keep_lists else {}

    def hand_over(mine: list[dict[str, Any]], mine_segments: list[dict[str, Any]],
                  params: ModelParams) -> None:  # fmt: skip
        if on_result is not None:
            one = {params: lists[params]} if params in lists else {}
            why = {params: skipped[params]} if params in skipped else {}
            on_result(
                EvaluationResult.from_rows(mine, mine_segments, split, ns, why, lists=one, **kept)
            )

    for step, params in enumerate(configs):
        label = params.label()
        report(step, f"Evaluating {label}")
        if factory.needs_segments(params) and mats.segments is None:
            skipped[params] = "no customer segments (upload customers with a segment column)"
            hand_over([], [], params)
            continue
        too_dense = _too_dense(params, len(mats.products), max_dense_products)
        if too_dense is not None:
            skipped[params] = too_dense
            hand_over([], [], params)
            continue
        started = time.perf_counter()
        try:
            model, X = _fit(mats, params)
        except (ModelTooLargeError, MissingDependencyError) as error:
            skipped[params] = str(error)
            log.warning("skipped %s: %s", label, error)
            hand_over([], [], params)
            continue

        def scored(fraction: float, step: int = step, label: str = label) -> None:
            report(step + fraction, f"Evaluating {label}: {fraction:.0%} of customers scored")

        recs = recommend_rows(
            model, X, eval_rows, n=max(ns), exclude=bought, chunk_size=size, progress=scored
        )
        seconds = time.perf_counter() - started
        if keep_lists:
            lists[params] = recs.astype(np.int32)  # column numbers; half the memory
        mine = _metric_rows(params, recs, truth, ns, popularity)
        mine += [
            {"params": params, "model": params.model, "n": n, "metric": "seconds", "value": seconds}
            for n in ns
        ]
        mine_segments = []
        if mats.segments is not None:
            segments = mats.segments[eval_rows]
            mine_segments = _segment_rows(params, recs, truth, segments, ns, popularity)
        rows += mine
        segment_rows += mine_segments
        log.info("%s: fitted and scored at N = %s in %.2fs", label, ns, seconds)
        hand_over(mine, mine_segments, params)
    return EvaluationResult.from_rows(rows, segment_rows, split, ns, skipped, lists=lists, **kept)


def _training_sample(
    purchases: pd.DataFrame, max_train_customers: int | None, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The purchases a run splits and trains on, and what ``split`` says about the sample."""
    kept, total = sample_purchases(purchases, max_train_customers, seed=seed)
    bound = None if max_train_customers is None else int(max_train_customers)
    return kept, {"customers_total": int(total), "max_train_customers": bound}


def _progress_reporter(
    progress: Progress | None, total: int, start: float, span: float
) -> Callable[[float, str], None]:
    def report(step: float, message: str) -> None:
        if progress is not None:
            progress(start + span * step / max(total, 1), message)

    return report


def evaluate(
    purchases: pd.DataFrame,
    configs: Sequence[ModelParams] | None = None,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    ns: Iterable[int] = (10,),
    test_fraction: float = 0.2,
    min_products: int = 5,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    max_customers: int | None = None,
    on_result: OnResult | None = None,
    max_train_customers: int | None = None,
    max_dense_products: int | None = None,
) -> EvaluationResult:
    """Compare configurations on a per-customer temporal holdout (see :func:`temporal_split`).

    Each distinct configuration is fitted once; its metrics at every N of ``ns`` come from that
    one fit.

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases.
    configs : sequence of ModelParams, optional
        What to compare (duplicates are evaluated once). Default :data:`DEFAULT_MODELS`, without
        ``popularity_segment`` when there are no segments.
    customers : DataFrame or Series, optional
        Customers with a ``segment`` column (or a Series customer id -> segment, as
        ``Dataset.segments()`` returns): enables ``by_segment`` and ``popularity_segment``.
    ns : iterable of int, default (10,)
        Recommendations per customer: the N of the metrics.
    test_fraction, min_products, seed
        See :func:`temporal_split`.
    chunk_size : int, optional
        Customers scored at once.
    progress : callable, optional
        ``progress(fraction, message)``, called before each configuration, as its customers
        are scored, and at the end.
    max_customers : int, optional
        Score only a sample of at most this many of the customers with held-out products
        (seeded by ``seed``, the same for every configuration; :func:`sample_customers`).
        Every customer's training purchases (of the ``max_train_customers`` sample, if any)
        are still used to fit. ``split`` then says how many
        were eligible (``customers_eligible``) and how many were scored
        (``customers_evaluated``). Default: all.
    on_result : callable, optional
        ``on_result(result)`` with each configuration's own :class:`EvaluationResult` as soon
        as it is scored (or skipped), e.g. to show or keep results while the rest runs;
        :meth:`EvaluationResult.combine` joins them.
    max_train_customers : int, optional
        Split and train on the purchases of a seeded sample of at most this many customers
        (:func:`sample_purchases`, seeded by ``seed``); ``split`` then gives
        ``customers_total`` (all customers) and ``max_train_customers``. Default: everyone.
    max_dense_products : int, optional
        Leave dense models (EASE) out, as skipped with the reason, when the catalogue has more
        products. Default: no bound.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    RecsysError
        When no customer has ``min_products`` distinct products
        (:class:`~recsys.errors.InvalidParamsError` for a setting the model rejects).

    Examples
    --------
    >>> days = list(pd.date_range("2024-01-01", periods=5)) * 3
    >>> df = pd.DataFrame({"customer_id": ["a"] * 5 + ["b"] * 5 + ["c"] * 5,
    ...                    "product_id": list("vwxyz") + list("vwxzy") + list("wvyzx"),
    ...                    "purchase_date": days})
    >>> result = evaluate(df, [ModelParams(model="popularity")], ns=[2])
    >>> result.split["customers_evaluated"], float(result.table().loc[0, "recall@2"])
    (3, 1.0)
    """
    ns = _check_ns(ns)
    purchases, sampled = _training_sample(purchases, max_train_customers, seed)
    split = temporal_split(
        purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    mats = SplitMatrices(split, customers)
    if configs is None:
        configs = [
            p
            for p in DEFAULT_MODELS
            if mats.segments is not None or p.model != "popularity_segment"
        ]
    chosen = _distinct(configs)
    report = _progress_reporter(progress, len(chosen), 0.0, 1.0)
    result = _evaluate_configs(
        mats,
        chosen,
        ns=ns,
        chunk_size=chunk_size,
        report=report,
        max_customers=max_customers,
        seed=seed,
        on_result=on_result,
        sampled=sampled,
        max_dense_products=max_dense_products,
    )
    report(len(chosen), "Done")
    return result


def default_of(kind: str) -> ModelParams:
    """A model kind's default configuration: its entry of :data:`DEFAULT_MODELS`, else the
    :class:`ModelParams` defaults with that kind."""
    for params in DEFAULT_MODELS:
        if params.model == kind:
            return params
    return ModelParams(model=kind)


def _with_defaults(configs: list[ModelParams]) -> list[ModelParams]:
    """``configs`` plus each of their kinds' default, where missing (appended, in kind order)."""
    kinds = dict.fromkeys(p.model for p in configs)
    return _distinct([*configs, *(default_of(kind) for kind in kinds)])


def sweep(
    purchases: pd.DataFrame,
    grid: Sequence[ModelParams] | None = None,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    n: int = 10,
    test_fraction: float = 0.2,
    min_products: int = 5,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    max_customers: int | None = None,
    max_train_customers: int | None = None,
    max_dense_products: int | None = None,
) -> SweepResult:
    """Pick each model kind's configuration on the validation split, then test it.

    Every configuration of ``grid``, plus each of its kinds' default (:func:`default_of`) where
    the grid lacks it, is fitted on the validation split's training part and scored on its
    held-out products (:func:`validation_split`, never touching the test pairs). Per model kind,
    the one with the highest ``ndcg@n`` (first in grid order on ties, the default before any)
    replaces the default only when it is clearly ahead: the lower end of the 95 % paired
    bootstrap interval of its NDCG minus the default's, on the validation customers, is above 0
    (:func:`recsys.evaluation.selection.choose`). So a sweep does not trade the default for a
    winner of luck. The chosen configurations are then fitted on the full training part and
    evaluated on the test split; ``SweepResult.choices`` says per kind what was kept and why.

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases.
    grid : sequence of ModelParams, optional
        The configurations to try. Default :data:`DEFAULT_GRID`.
    n : int, default 10
        The N whose NDCG chooses, and of the test metrics.
    customers, test_fraction, min_products, seed, chunk_size, max_customers
        As in :func:`evaluate` (the sample is drawn on each split).
    max_train_customers, max_dense_products
        As in :func:`evaluate` (one training sample for both splits).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    SweepResult
    """
    ns = _check_ns([n])
    started = time.perf_counter()
    configs = _with_defaults(_distinct(DEFAULT_GRID if grid is None else grid))
    purchases, sampled = _training_sample(purchases, max_train_customers, seed)
    split = temporal_split(
        purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    kinds = len({p.model for p in configs})
    total = len(configs) + kinds
    validation = _evaluate_configs(
        SplitMatrices(validation_split(split), customers),
        configs,
        ns=ns,
        chunk_size=chunk_size,
        report=_progress_reporter(progress, len(configs), 0.0, len(configs) / total),
        max_customers=max_customers,
        seed=seed,
        sampled=sampled,
        max_dense_products=max_dense_products,
    )
    choices = choose(validation, {p.model: default_of(p.model) for p in configs}, n, seed=seed)
    # The lists served the decision; a grid's worth of them is not worth keeping.
    validation.lists = {}
    best = {kind: choice.chosen for kind, choice in choices.items()}
    winners = list(best.values())
    test_report = _progress_reporter(
        progress, len(winners), len(configs) / total, 1.0 - len(configs) / total
    )
    test = _evaluate_configs(
        SplitMatrices(split, customers),
        winners,
        ns=ns,
        chunk_size=chunk_size,
        report=test_report,
        max_customers=max_customers,
        seed=seed,
        sampled=sampled,
        max_dense_products=max_dense_products,
    )
    test.skipped = {**validation.skipped, **test.skipped}
    test_report(len(winners), "Done")
    for sentence in (c.sentence() for c in choices.values()):
        log.info("%s", sentence)
    return SweepResult(validation, best, test, time.perf_counter() - started, choices)
