"""Offline evaluation: per-customer temporal holdout, ranking metrics at N, model comparison.

The flow is :func:`temporal_split` (or :func:`validation_split` for tuning) -> customer x product
matrices over one shared vocabulary -> :func:`evaluate_model` per model (recommendations computed
in chunks of customers, training purchases excluded) -> :func:`ranking_metrics`.
:func:`evaluate` compares models on the test split; :func:`sweep` tunes each model's settings on
the validation split and reports the chosen settings on the test split.

Split in :mod:`recsys.evaluation.split`, metric definitions in :mod:`recsys.evaluation.metrics`;
their public names are
re-exported here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recsys.data import schema
from recsys.errors import RecsysError
from recsys.evaluation.metrics import (
    PER_CUSTOMER_METRICS,
    _as_truth,
    average_popularity,
    catalogue_coverage,
    per_customer_metrics,
    ranking_metrics,
)
from recsys.evaluation.split import Split, temporal_split, validation_split
from recsys.models.baselines import MODELS, ModelTooLargeError
from recsys.params import InvalidParamsError, ModelParams

__all__ = [
    "DEFAULT_GRID",
    "DEFAULT_MODELS",
    "PER_CUSTOMER_METRICS",
    "EvaluationResult",
    "Split",
    "SweepResult",
    "average_popularity",
    "catalogue_coverage",
    "evaluate",
    "evaluate_model",
    "per_customer_metrics",
    "params_from_settings",
    "ranking_metrics",
    "settings_from_params",
    "sweep",
    "temporal_split",
    "validation_split",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

NO_SEGMENT = "(no segment)"

# Settings keys that choose the matrix rather than the model's constructor arguments.
_MATRIX_KEYS = ("weighting", "value")

DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "user_knn": {"n_neighbors": 20},
    "item_knn": {"n_neighbors": 50},
    "ease": {"l2": 200.0},
    "popularity": {},
    "popularity_segment": {},
}
"""Models compared by :func:`evaluate` by default (``popularity_segment`` only with segments)."""

DEFAULT_GRID: dict[str, list[dict[str, Any]]] = {
    "user_knn": [
        {
            "n_neighbors": k,
            "metric": "cosine",
            "weighting": w,
            "min_similarity": s,
            "similarity_power": p,
        }
        for k in (10, 20, 50, 100, 200)
        for w in ("binary", "log1p", "bm25")
        for s in (0.0, 0.05)
        for p in (1.0, 2.0)
    ],
    "item_knn": [{"n_neighbors": k} for k in (20, 50, 100)],
    "ease": [{"l2": l2} for l2 in (50.0, 200.0, 500.0)],
    "popularity": [{}],
}
"""Settings tried by :func:`sweep` by default (24 user-kNN settings, 3 item-kNN, 3 EASE, 1)."""


# =========================================================================== one model
def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n={n!r} must be a whole number >= 1.")


def _default_chunk_size(n_products: int) -> int:
    # Dense score chunks of at most ~4M float64 (32 MB).
    return int(max(16, min(4096, 4_000_000 // max(n_products, 1))))


def _fit_if_needed(model: Any, X_train: sp.csr_matrix, fit_params: Mapping[str, Any]) -> Any:
    """Instantiate a factory / class and fit it, or fit an unfitted estimator instance."""
    if isinstance(model, type) or not hasattr(model, "score_items"):
        return model().fit(X_train, **fit_params)
    try:
        check_is_fitted(model)
    except NotFittedError:
        model.fit(X_train, **fit_params)
    return model


def _recommend_rows(
    model: Any,
    X: sp.csr_matrix,
    rows: np.ndarray,
    *,
    n: int,
    exclude: sp.csr_matrix | None,
    chunk_size: int,
) -> np.ndarray:
    """Top-``n`` columns for the given training rows, scored chunk by chunk (``-1`` padded)."""
    from recsys.models.ranking import top_n  # the contract's ranking: positive scores, id ties

    recs = np.full((len(rows), n), -1, dtype=np.int64)
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        scores = model.score_items(X[chunk], rows=chunk)
        index, _ = top_n(scores, n, exclude=None if exclude is None else exclude[chunk])
        recs[start : start + len(chunk)] = index
    return recs


def _popularity_share(X: sp.csr_matrix) -> np.ndarray:
    bought = np.bincount(X.indices[X.data != 0], minlength=X.shape[1]).astype(np.float64)
    return bought / max(X.shape[0], 1)


def evaluate_model(
    model: Any,
    X_train: sp.spmatrix,
    X_test: sp.spmatrix,
    *,
    n: int = 10,
    exclude: sp.spmatrix | bool = True,
    chunk_size: int | None = None,
    fit_params: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Recommend ``n`` products to every customer with test products and score the lists.

    Parameters
    ----------
    model : estimator, estimator class or factory
        A fitted model (used as is), an unfitted one, a class or a zero-argument callable
        returning one (fitted on ``X_train`` with ``fit_params``). It must offer
        ``score_items(X_rows, *, rows=None)`` like :class:`~recsys.models.user_knn.UserKNN`.
    X_train : sparse matrix of shape (n_customers, n_products)
        Weighted training matrix; its rows are the query rows.
    X_test : sparse matrix of shape (n_customers, n_products)
        Test products (non-zeros) per customer, same rows and columns as ``X_train``.
    n : int, default 10
        Recommendations per customer (N of the metrics).
    exclude : sparse matrix or bool, default True
        Products never recommended to a row: ``True`` = the non-zeros of ``X_train`` (already
        purchased), ``False`` = none, or a matrix shaped like ``X_train``.
    chunk_size : int, optional
        Customers scored at once (bounds memory); by default about 4M score cells per chunk.
    fit_params : mapping, optional
        Extra ``fit`` arguments, e.g. ``groups`` for segment popularity.

    Returns
    -------
    dict
        See :func:`ranking_metrics`; ``avg_popularity`` uses ``X_train``'s buyers.

    Examples
    --------
    >>> from recsys.models.baselines import Popularity
    >>> X_train = sp.csr_matrix([[1, 0, 0], [1, 1, 0], [1, 1, 0]])
    >>> X_test = sp.csr_matrix([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    >>> evaluate_model(Popularity, X_train, X_test, n=1)["hit_rate@1"]
    1.0
    """
    _check_n(n)
    X_train = sp.csr_matrix(X_train)
    X_test = sp.csr_matrix(X_test)
    if X_train.shape != X_test.shape:
        raise ValueError(f"X_train {X_train.shape} and X_test {X_test.shape} must align.")
    if isinstance(exclude, bool):
        exclude_matrix = X_train if exclude else None
    else:
        exclude_matrix = sp.csr_matrix(exclude)
    fitted = _fit_if_needed(model, X_train, fit_params or {})
    rows = np.flatnonzero(np.diff(_as_truth(X_test).indptr) > 0)
    recs = _recommend_rows(
        fitted,
        X_train,
        rows,
        n=n,
        exclude=exclude_matrix,
        chunk_size=chunk_size or _default_chunk_size(X_train.shape[1]),
    )
    return ranking_metrics(recs, X_test[rows], popularity=_popularity_share(X_train))


# =========================================================================== many models
@dataclass(eq=False)
class EvaluationResult:
    """Metrics of several models on one split.

    Attributes
    ----------
    metrics : DataFrame
        Tidy: ``model``, ``settings`` (JSON text), ``metric``, ``value``. Metrics are those of
        :func:`ranking_metrics` plus ``seconds`` (fit and scoring time).
    by_segment : DataFrame
        Tidy: ``model``, ``segment``, ``metric``, ``value`` (empty without segments).
    split : dict
        :meth:`Split.describe` of the split evaluated.
    n : int
        N of the metrics.
    skipped : dict
        Model -> reason, for models that could not run (e.g. EASE on a huge catalogue).
    """

    metrics: pd.DataFrame
    by_segment: pd.DataFrame
    split: dict[str, Any]
    n: int
    skipped: dict[str, str] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """Wide view: one row per (model, settings), one column per metric."""
        if self.metrics.empty:
            return pd.DataFrame()
        return self.metrics.pivot_table(
            index=["model", "settings"], columns="metric", values="value", sort=False
        ).reset_index()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``nan`` becomes ``None``)."""
        return {
            "n": int(self.n),
            "split": dict(self.split),
            "metrics": _records(self.metrics),
            "by_segment": _records(self.by_segment),
            "skipped": dict(self.skipped),
        }


@dataclass(eq=False)
class SweepResult:
    """Outcome of :func:`sweep`.

    Attributes
    ----------
    validation : DataFrame
        Tidy metrics of every setting on the validation split (``model``, ``settings``,
        ``metric``, ``value``).
    best : dict
        Model -> chosen settings (highest ``ndcg@N`` on validation; the first in grid order on
        ties).
    test : EvaluationResult
        The chosen settings evaluated on the test split.
    validation_split : dict
        :meth:`Split.describe` of the validation split.
    seconds : float
        Wall time of the whole sweep.
    """

    validation: pd.DataFrame
    best: dict[str, dict[str, Any]]
    test: EvaluationResult
    validation_split: dict[str, Any]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "validation": _records(self.validation),
            "best": {k: dict(v) for k, v in self.best.items()},
            "test": self.test.to_dict(),
            "validation_split": dict(self.validation_split),
            "seconds": float(self.seconds),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]


def _segment_labels(
    customers: pd.DataFrame | pd.Series | None, ids: np.ndarray
) -> np.ndarray | None:
    """Segment of each id in ``ids`` (NO_SEGMENT when unknown); None without any segment."""
    if customers is None:
        return None
    if isinstance(customers, pd.DataFrame):
        if schema.SEGMENT not in customers.columns:
            return None
        customers = customers.drop_duplicates(schema.CUSTOMER_ID).set_index(schema.CUSTOMER_ID)[
            schema.SEGMENT
        ]
    series = pd.Series(customers.to_numpy(), index=customers.index.astype(str))
    labels = series[~series.index.duplicated()].reindex(ids)
    if labels.isna().all():
        return None
    return labels.astype(object).where(labels.notna(), NO_SEGMENT).astype(str).to_numpy(object)


class _Matrices:
    """The matrices of one split over one shared vocabulary, built once and cached."""

    def __init__(self, split: Split, segments: pd.DataFrame | pd.Series | None) -> None:
        from recsys.models.matrix import IdIndex

        cid, pid = schema.CUSTOMER_ID, schema.PRODUCT_ID
        self.split = split
        self.customers = IdIndex(pd.concat([split.train[cid], split.test[cid]]), what="customer")
        self.products = IdIndex(pd.concat([split.train[pid], split.test[pid]]), what="product")
        shape = (len(self.customers), len(self.products))
        rows = self.customers.indices_of(split.test[cid])
        cols = self.products.indices_of(split.test[pid])
        self.truth = _as_truth(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape))
        self.segments = _segment_labels(segments, self.customers.ids)
        # What segment models see: None (not the display label) where a segment is unknown.
        self.segment_groups = (
            None
            if self.segments is None
            else np.where(self.segments == NO_SEGMENT, None, self.segments)
        )
        self._raw: dict[str, sp.csr_matrix] = {}
        self._weighted: dict[tuple[str, str], sp.csr_matrix] = {}

    def raw(self, value: str) -> sp.csr_matrix:
        from recsys.models.matrix import build_interactions

        if value not in self._raw:
            self._raw[value] = build_interactions(
                self.split.train, value=value, customers=self.customers, products=self.products
            ).matrix
        return self._raw[value]

    def weighted(self, value: str, weighting: str) -> sp.csr_matrix:
        from recsys.models.matrix import Weighting

        key = (value, weighting)
        if key not in self._weighted:
            raw = self.raw(value)
            self._weighted[key] = Weighting(weighting=weighting).fit_transform(raw).tocsr()
        return self._weighted[key]


def _settings_json(settings: Mapping[str, Any]) -> str:
    return json.dumps({k: settings[k] for k in sorted(settings)}, default=str)


def _evaluate_configs(
    mats: _Matrices,
    configs: Sequence[tuple[str, str, dict[str, Any]]],
    *,
    n: int,
    chunk_size: int | None,
    report: Callable[[int, str], None],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Evaluate (label, model name, resolved settings) triples; returns tidy rows and skips."""
    rows_metrics: list[dict[str, Any]] = []
    rows_segments: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    eval_rows = np.flatnonzero(np.diff(mats.truth.indptr) > 0)
    if not len(eval_rows):
        raise RecsysError(
            f"No customer has {mats.split.min_products} or more distinct products, so there is "
            "nothing to evaluate. Lower min_products or use more purchase history."
        )
    truth = mats.truth[eval_rows]
    size = chunk_size or _default_chunk_size(len(mats.products))
    for step, (label, name, settings) in enumerate(configs):
        report(step, f"Evaluating {label} {_settings_json(settings)}")
        params = {k: v for k, v in settings.items() if k not in _MATRIX_KEYS}
        model = _build(label, name, params)
        fit_params: dict[str, Any] = {}
        if getattr(model, "by_segment", False):
            if mats.segments is None:
                skipped[label] = "no customer segments (upload customers with a segment column)"
                continue
            fit_params["groups"] = mats.segment_groups
        started = time.perf_counter()
        try:
            X = mats.weighted(settings["value"], settings["weighting"])
            model.fit(X, **fit_params)
        except ModelTooLargeError as error:
            skipped[label] = str(error)
            log.warning("skipped %s: %s", label, error)
            continue
        except (TypeError, ValueError) as error:
            if isinstance(error, RecsysError):
                raise
            raise InvalidParamsError(f"Invalid settings for {label}: {error}") from error
        # Purchase counts, not the chosen value: a zero-spend purchase is still a purchase.
        bought = mats.raw("count")
        recs = _recommend_rows(model, X, eval_rows, n=n, exclude=bought, chunk_size=size)
        seconds = time.perf_counter() - started
        popularity = _popularity_share(bought)
        values = ranking_metrics(recs, truth, popularity=popularity)
        values["seconds"] = seconds
        text = _settings_json(settings)
        rows_metrics += [
            {"model": label, "settings": text, "metric": metric, "value": value}
            for metric, value in values.items()
        ]
        if mats.segments is not None:
            rows_segments += _segment_rows(label, recs, truth, mats.segments[eval_rows], popularity)
        log.info("%s %s: ndcg@%d=%.4f in %.2fs", label, text, n, values[f"ndcg@{n}"], seconds)
    return rows_metrics, rows_segments, skipped


def _build(label: str, name: str, params: Mapping[str, Any]) -> Any:
    """Instantiate a registered model; a wrong setting name becomes an actionable error."""
    try:
        return MODELS[name](**params)
    except TypeError as error:
        raise InvalidParamsError(
            f"Invalid settings for {label}: {error}. Check the setting names of {name!r}."
        ) from error


def _segment_rows(
    label: str, recs: np.ndarray, truth: sp.csr_matrix, segments: np.ndarray, popularity: np.ndarray
) -> list[dict[str, Any]]:
    """Metrics per segment (a loop over the few segments, not over customers)."""
    out: list[dict[str, Any]] = []
    for segment in np.unique(segments):
        mask = segments == segment
        values = ranking_metrics(recs[mask], truth[np.flatnonzero(mask)], popularity=popularity)
        out += [
            {"model": label, "segment": segment, "metric": metric, "value": value}
            for metric, value in values.items()
        ]
    return out


def _resolve(
    models: Mapping[str, Mapping[str, Any]], *, weighting: str, value: str
) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, model name, settings with weighting and value) for each requested model."""
    configs = []
    for label, given in models.items():
        settings = dict(given)
        name = str(settings.pop("model", label))
        if name not in MODELS:
            raise RecsysError(f"Unknown model {name!r}: choose one of {', '.join(MODELS)}.")
        settings.setdefault("weighting", weighting)
        settings.setdefault("value", value)
        configs.append((label, name, settings))
    return configs


def _progress_reporter(
    progress: Progress | None, total: int, start: float, span: float
) -> Callable[[int, str], None]:
    def report(step: int, message: str) -> None:
        if progress is not None:
            progress(start + span * step / max(total, 1), message)

    return report


def _result(
    rows: list[dict[str, Any]],
    segment_rows: list[dict[str, Any]],
    split: Split,
    n: int,
    skipped: dict[str, str],
) -> EvaluationResult:
    metrics = pd.DataFrame(rows, columns=["model", "settings", "metric", "value"])
    by_segment = pd.DataFrame(segment_rows, columns=["model", "segment", "metric", "value"])
    metrics["value"] = metrics["value"].astype(np.float64)
    by_segment["value"] = by_segment["value"].astype(np.float64)
    return EvaluationResult(
        metrics=metrics, by_segment=by_segment, split=split.describe(), n=n, skipped=skipped
    )


def evaluate(
    purchases: pd.DataFrame,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    models: Mapping[str, Mapping[str, Any]] | None = None,
    n: int = 10,
    test_fraction: float = 0.2,
    min_products: int = 5,
    weighting: str = "binary",
    value: str = "count",
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Compare models on a per-customer temporal holdout (see :func:`temporal_split`).

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases.
    customers : DataFrame or Series, optional
        Customers with a ``segment`` column (or a Series customer id -> segment, as
        ``Dataset.segments()`` returns): enables ``by_segment`` and ``popularity_segment``.
    models : mapping, optional
        Label -> settings. The label is the model name (a key of
        :data:`~recsys.models.baselines.MODELS`) unless the settings name one under ``"model"``;
        ``"weighting"`` and ``"value"`` choose the matrix, the rest go to the constructor.
        Default :data:`DEFAULT_MODELS`.
    n : int, default 10
        Recommendations per customer.
    test_fraction, min_products, seed
        See :func:`temporal_split`.
    weighting, value : str
        Matrix settings for models that do not set their own.
    chunk_size : int, optional
        Customers scored at once.
    progress : callable, optional
        ``progress(fraction, message)``, called before each model and at the end.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    RecsysError
        When no customer has ``min_products`` distinct products, or a model name is unknown
        (:class:`~recsys.params.InvalidParamsError` for a wrong setting).

    Examples
    --------
    >>> days = list(pd.date_range("2024-01-01", periods=5)) * 3
    >>> df = pd.DataFrame({"customer_id": ["a"] * 5 + ["b"] * 5 + ["c"] * 5,
    ...                    "product_id": list("vwxyz") + list("vwxzy") + list("wvyzx"),
    ...                    "purchase_date": days})
    >>> result = evaluate(df, models={"popularity": {}}, n=2)
    >>> result.split["customers_evaluated"], float(result.table().loc[0, "recall@2"])
    (3, 1.0)
    """
    _check_n(n)
    split = temporal_split(
        purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    mats = _Matrices(split, customers)
    chosen = dict(DEFAULT_MODELS if models is None else models)
    if models is None and mats.segments is None:
        chosen.pop("popularity_segment")
    configs = _resolve(chosen, weighting=weighting, value=value)
    report = _progress_reporter(progress, len(configs), 0.0, 1.0)
    rows, segment_rows, skipped = _evaluate_configs(
        mats, configs, n=n, chunk_size=chunk_size, report=report
    )
    report(len(configs), "Done")
    return _result(rows, segment_rows, split, n, skipped)


def sweep(
    purchases: pd.DataFrame,
    grid: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    *,
    customers: pd.DataFrame | pd.Series | None = None,
    n: int = 10,
    test_fraction: float = 0.2,
    min_products: int = 5,
    weighting: str = "binary",
    value: str = "count",
    seed: int = 0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Tune each model's settings on the validation split, then test the chosen ones.

    Every setting of ``grid`` is fitted on the validation split's training part and scored on
    its held-out products (:func:`validation_split`, never touching the test pairs); the
    setting with the highest ``ndcg@N`` wins per model (first in grid order on ties); the
    winners are then fitted on the full training part and evaluated on the test split.

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases.
    grid : mapping, optional
        Model name -> list of settings (see :func:`evaluate` for settings keys). Default
        :data:`DEFAULT_GRID`.
    customers, n, test_fraction, min_products, weighting, value, seed, chunk_size
        As in :func:`evaluate`.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    SweepResult
    """
    _check_n(n)
    started = time.perf_counter()
    grid = DEFAULT_GRID if grid is None else grid
    split = temporal_split(
        purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    inner = validation_split(split)
    configs = [
        _resolve({name: settings}, weighting=weighting, value=value)[0]
        for name, options in grid.items()
        for settings in options
    ]
    total = len(configs) + len(grid)
    rows, _, skipped = _evaluate_configs(
        _Matrices(inner, customers),
        configs,
        n=n,
        chunk_size=chunk_size,
        report=_progress_reporter(progress, len(configs), 0.0, len(configs) / total),
    )
    validation = pd.DataFrame(rows, columns=["model", "settings", "metric", "value"])
    validation["value"] = validation["value"].astype(np.float64)
    best: dict[str, dict[str, Any]] = {}
    ndcg = validation[validation["metric"] == f"ndcg@{n}"]
    for label, group in ndcg.groupby("model", sort=False):
        winner = int(group["value"].fillna(-np.inf).to_numpy().argmax())
        best[str(label)] = json.loads(group["settings"].iloc[winner])
    test_configs = _resolve(best, weighting=weighting, value=value)
    test_report = _progress_reporter(
        progress, len(test_configs), len(configs) / total, 1.0 - len(configs) / total
    )
    rows, segment_rows, test_skipped = _evaluate_configs(
        _Matrices(split, customers), test_configs, n=n, chunk_size=chunk_size, report=test_report
    )
    skipped.update(test_skipped)
    test_report(len(test_configs), "Done")
    return SweepResult(
        validation=validation,
        best=best,
        test=_result(rows, segment_rows, split, n, skipped),
        validation_split=inner.describe(),
        seconds=time.perf_counter() - started,
    )


# =========================================================================== ModelParams bridge
_MODEL_SETTINGS: dict[str, tuple[str, ...]] = {
    "user_knn": ("n_neighbors", "metric", "min_similarity", "similarity_power"),
    "item_knn": ("n_neighbors",),
    "ease": ("l2",),
    "popularity": (),
    "popularity_segment": (),
}


def settings_from_params(params: ModelParams) -> dict[str, Any]:
    """The evaluation settings (see :func:`evaluate`) that reproduce a pipeline's model.

    Examples
    --------
    >>> settings_from_params(ModelParams(n_neighbors=15, weighting="bm25"))["n_neighbors"]
    15
    """
    chosen = {key: getattr(params, key) for key in _MODEL_SETTINGS[params.model]}
    return {"model": params.model, **chosen, "weighting": params.weighting, "value": params.value}


def params_from_settings(
    model: str, settings: Mapping[str, Any], base: ModelParams | None = None
) -> ModelParams:
    """A :class:`ModelParams` applying evaluated ``settings`` of ``model`` on top of ``base``.

    This is how a sweep's winner becomes the model an analyst trains and deploys.
    """
    known = {f.name for f in fields(ModelParams)}
    values = {k: v for k, v in settings.items() if k in known}
    values["model"] = str(settings.get("model", model))
    return replace(base or ModelParams(), **values)
