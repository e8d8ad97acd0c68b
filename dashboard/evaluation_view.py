"""Evaluation page pieces: which models are compared, result reshaping, definitions, actions.

The pure helpers (``*_frame``, :func:`comparison_models`, :func:`settings_text`, ...) turn
:class:`~recsys.evaluation.runner.EvaluationResult` /
:class:`~recsys.evaluation.runner.SweepResult` into the
small frames :mod:`dashboard.charts` draws; they are tested without a server. The rest calls the
cached wrappers in :mod:`dashboard.cache` and renders, so the page itself stays short.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache, charts, render, state
from dashboard.views import model as views  # the Model page's form: its keys and ranges
from recsys.data.dataset import Dataset
from recsys.data.schema import CUSTOMER_ID, PRODUCT_ID
from recsys.evaluation.runner import (
    DEFAULT_MODELS,
    EvaluationResult,
    SweepResult,
    params_from_settings,
    settings_from_params,
)
from recsys.params import ModelParams

PAGE = "pages/6_evaluation.py"
N_VALUES: tuple[int, ...] = (1, 3, 5, 10, 20)  # list lengths of the precision/recall trade-off
K_VALUES: tuple[int, ...] = (5, 10, 20, 50, 100)  # k of the user-kNN curve (without a sweep)
METRIC_COLUMNS: tuple[str, ...] = (*charts.RANKING_METRICS, "coverage", "avg_popularity")

EXPLANATION = (
    "How good are the recommendations? A **temporal holdout** answers it: for each customer, "
    "the most recent 20% of the distinct products they bought (by first purchase date) are "
    "hidden; every model is trained on the rest and recommends N products it has not seen the "
    "customer buy. The more of the hidden products a top-N list finds, the better. Popularity "
    "(everyone gets the best sellers) is the bar to beat."
)


def definitions(n: int) -> str:
    """The metric definitions in plain words (as in :mod:`recsys.evaluation.runner`'s docstring)."""
    return f"""
**What the metrics mean** (each customer gets N = {n} recommendations; a *hit* is a
recommended product that is among their hidden products):

- **Precision@{n}**: hits / {n}. Always divided by N, even when fewer products could be
  recommended.
- **Recall@{n}**: hits / number of hidden products: the share of them that was found.
- **NDCG@{n}**: like recall, but a hit near the top of the list counts more (a hit at rank r
  is worth 1 / log2(r + 1)); 100% = every hidden product at the very top.
- **MAP@{n}**: for each hit, the precision up to its rank; summed and divided by
  min(N, hidden products), then averaged over customers.
- **Hit rate@{n}**: share of customers with at least one hit.
- **Coverage**: share of the whole catalogue recommended to at least one customer.
- **Average popularity**: how many training customers bought a recommended product, on
  average (share); high = the model mostly pushes best sellers.

Averages are over the customers evaluated (those with enough distinct products).
"""


# --- what is compared ----------------------------------------------------------------------------
def user_knn_params(params: ModelParams) -> ModelParams:
    """The active settings as a user-kNN model (the k-curve and trade-off are about user-kNN)."""
    return params if params.model == "user_knn" else replace(params, model="user_knn")


def comparison_models(params: ModelParams) -> dict[str, dict[str, Any]]:
    """The active model's settings, then every baseline of ``DEFAULT_MODELS`` it is not.

    ``popularity_segment`` is always asked for: without segments the core skips it and says why.
    """
    models = {params.model: settings_from_params(params)}
    for name, settings in DEFAULT_MODELS.items():
        models.setdefault(name, dict(settings))
    return models


def k_curve_models(params: ModelParams) -> dict[str, dict[str, Any]]:
    """User-kNN with the active settings at each k of :data:`K_VALUES` (labels ``k=5``, ...)."""
    base = user_knn_params(params)
    return {f"k={k}": settings_from_params(replace(base, n_neighbors=k)) for k in K_VALUES}


def tradeoff_models(params: ModelParams) -> dict[str, dict[str, Any]]:
    """User-kNN with the active settings, and popularity."""
    return {"user_knn": settings_from_params(user_knn_params(params)), "popularity": {}}


def settings_text(settings: str | dict[str, Any]) -> str:
    """Settings JSON as short text: ``k=20 · cosine · binary/count · min sim 0``."""
    s = json.loads(settings) if isinstance(settings, str) else dict(settings)
    parts = []
    if "n_neighbors" in s:
        parts.append(f"k={s['n_neighbors']}")
    if "metric" in s:
        parts.append(str(s["metric"]))
    if "l2" in s:
        parts.append(f"l2={float(s['l2']):g}")
    parts.append(f"{s.get('weighting', 'binary')}/{s.get('value', 'count')}")
    if "min_similarity" in s:
        parts.append(f"min sim {float(s['min_similarity']):g}")
    if float(s.get("similarity_power", 1.0)) != 1.0:
        parts.append(f"power {float(s['similarity_power']):g}")
    return " · ".join(parts)


def params_text(params: ModelParams) -> str:
    """A model's settings as :func:`settings_text` shows them."""
    return settings_text(settings_from_params(params))


# --- reshaping -----------------------------------------------------------------------------------
def metric_table(result: EvaluationResult) -> pd.DataFrame:
    """One row per model: ``model``, ``settings`` (JSON), the metrics without ``@N``."""
    table = result.table()
    if table.empty:
        return pd.DataFrame(columns=["model", "settings", *METRIC_COLUMNS])
    table.columns = [str(c).split("@")[0] for c in table.columns]
    table.columns.name = None
    return table


def k_curve_frame(result: EvaluationResult) -> pd.DataFrame:
    """``k``, ``ndcg``, ``coverage`` from an evaluation of :func:`k_curve_models`."""
    table = metric_table(result)
    k = [json.loads(s)["n_neighbors"] for s in table["settings"]]
    return table.assign(k=k)[["k", "ndcg", "coverage"]].sort_values("k", ignore_index=True)


def k_curve_from_sweep(sweep: SweepResult, n: int) -> pd.DataFrame:
    """``k``, ``ndcg``, ``coverage`` on the validation split, other settings as the winner's."""
    best = sweep.best.get("user_knn")
    val = sweep.validation[sweep.validation["model"] == "user_knn"]
    if best is None or val.empty:
        return pd.DataFrame(columns=["k", "ndcg", "coverage"])
    others = {key: v for key, v in best.items() if key != "n_neighbors"}
    settings = val["settings"].map(json.loads)
    same = settings.map(lambda s: all(s.get(key) == v for key, v in others.items()))
    wide = val[same].pivot_table(index="settings", columns="metric", values="value")
    return pd.DataFrame(
        {
            "k": [json.loads(s)["n_neighbors"] for s in wide.index],
            "ndcg": wide[f"ndcg@{n}"].to_numpy(),
            "coverage": wide["coverage"].to_numpy(),
        }
    ).sort_values("k", ignore_index=True)


def tradeoff_frame(results: dict[int, EvaluationResult]) -> pd.DataFrame:
    """``model``, ``n``, ``precision``, ``recall`` from one evaluation per list length N."""
    frames = [metric_table(r).assign(n=n) for n, r in results.items()]
    return pd.concat(frames, ignore_index=True)[["model", "n", "precision", "recall"]]


def segment_frame(result: EvaluationResult) -> pd.DataFrame:
    """``model``, ``segment``, ``ndcg``, ``n_customers`` (empty without segments)."""
    seg = result.by_segment
    wanted = seg[seg["metric"].isin([f"ndcg@{result.n}", "n_customers"])]
    if wanted.empty:
        return pd.DataFrame(columns=["model", "segment", "ndcg", "n_customers"])
    wide = wanted.pivot_table(index=["model", "segment"], columns="metric", values="value")
    return wide.rename(columns={f"ndcg@{result.n}": "ndcg"}).reset_index()[
        ["model", "segment", "ndcg", "n_customers"]
    ]


def ratio_to_popularity(table: pd.DataFrame) -> tuple[float, float, float] | None:
    """(user-kNN NDCG, popularity NDCG, ratio), or None when either is missing."""
    ndcg = table.set_index("model")["ndcg"]
    if "user_knn" not in ndcg or "popularity" not in ndcg:
        return None
    knn, pop = float(ndcg["user_knn"]), float(ndcg["popularity"])
    return knn, pop, (knn / pop if pop > 0 else float("inf"))


def chosen_settings(sweep: SweepResult) -> pd.DataFrame:
    """Per model: the settings chosen on validation, their validation and test NDCG@N."""
    n = sweep.test.n
    val = sweep.validation[sweep.validation["metric"] == f"ndcg@{n}"]
    test = metric_table(sweep.test).set_index("model")
    rows = []
    for model, best in sweep.best.items():
        text = json.dumps({k: best[k] for k in sorted(best)}, default=str)
        match = val[(val["model"] == model) & (val["settings"] == text)]["value"]
        rows.append(
            {
                "model": charts.model_label(model),
                "chosen settings": settings_text(best),
                f"validation NDCG@{n}": float(match.iloc[0]) if len(match) else float("nan"),
                f"test NDCG@{n}": test["ndcg"].get(model, float("nan")),
                f"test recall@{n}": test["recall"].get(model, float("nan")),
            }
        )
    return pd.DataFrame(rows)


def n_settings_tried(sweep: SweepResult) -> int:
    """How many (model, settings) pairs the sweep evaluated on the validation split."""
    return len(sweep.validation[["model", "settings"]].drop_duplicates())


def validation_table(sweep: SweepResult) -> pd.DataFrame:
    """Every setting tried on the validation split, best NDCG@N first."""
    n = sweep.test.n
    wide = sweep.validation.pivot_table(
        index=["model", "settings"], columns="metric", values="value", sort=False
    ).reset_index()
    out = pd.DataFrame(
        {
            "model": wide["model"].map(charts.model_label),
            "settings": wide["settings"].map(settings_text),
            f"NDCG@{n}": wide[f"ndcg@{n}"],
            f"recall@{n}": wide[f"recall@{n}"],
            f"precision@{n}": wide[f"precision@{n}"],
            "coverage": wide["coverage"],
        }
    )
    return out.sort_values(f"NDCG@{n}", ascending=False, ignore_index=True)


def form_can_set(settings: dict[str, Any]) -> bool:
    """Whether the Model page's form (:func:`dashboard.views.train_form`) can set ``settings``.

    It can set every metric, weighting, value and similarity power (the power options take in
    the applied one); k and the minimum similarity only up to :data:`~dashboard.views.K_MAX` and
    :data:`~dashboard.views.MIN_SIMILARITY_MAX`.
    """
    return (
        int(settings.get("n_neighbors", 1)) <= views.K_MAX
        and float(settings.get("min_similarity", 0.0)) <= views.MIN_SIMILARITY_MAX
    )


def best_user_knn(
    base: ModelParams, sweep: SweepResult | None, curve: pd.DataFrame
) -> tuple[ModelParams, str, str | None]:
    """The user-kNN settings to apply, where they come from, and a note when they differ.

    With a sweep: its best user-kNN setting on validation, or, when the Model page's form cannot
    set that one (:func:`form_can_set`), the best validation setting it can (same order and tie
    rule as the sweep). Without one: the active settings at the best k of the curve.
    """
    if sweep is not None and "user_knn" in sweep.best:
        best = sweep.best["user_knn"]
        if form_can_set(best):
            return params_from_settings("user_knn", best, base), "tuning", None
        val = sweep.validation
        ndcg = val[(val["model"] == "user_knn") & (val["metric"] == f"ndcg@{sweep.test.n}")]
        ranked = ndcg.assign(order=range(len(ndcg))).sort_values(
            ["value", "order"], ascending=[False, True]
        )
        for text in ranked["settings"]:
            settings = json.loads(text)
            if form_can_set(settings):
                note = (
                    f"The tuned best ({settings_text(best)}) is outside what the Model page's "
                    f"form can set (k up to {views.K_MAX}, minimum similarity up to "
                    f"{views.MIN_SIMILARITY_MAX:g}), so the best validation result within it "
                    "is offered."
                )
                return params_from_settings("user_knn", settings, base), "tuning", note
    k = int(curve.loc[curve["ndcg"].idxmax(), "k"])
    return replace(user_knn_params(base), n_neighbors=k), "best k of the curve", None


def max_products_per_customer(purchases: pd.DataFrame) -> int:
    """The largest number of distinct products any customer bought."""
    if purchases.empty:
        return 0
    return int(purchases.groupby(CUSTOMER_ID, observed=True)[PRODUCT_ID].nunique().max())


# --- running (through the caches) ----------------------------------------------------------------
@dataclass
class Results:
    """Everything the page shows for one request."""

    main: EvaluationResult
    table: pd.DataFrame
    curve: pd.DataFrame
    curve_source: str
    tradeoff: pd.DataFrame
    segments: pd.DataFrame
    sweep: SweepResult | None


def request(dataset: Dataset, n: int, test_fraction: float, min_products: int) -> dict[str, Any]:
    """What an evaluation run is keyed on (kept in session state; results come from caches)."""
    pipeline = state.get(state.PIPELINE)
    params = pipeline.params if pipeline is not None else ModelParams()
    return {
        "fingerprint": dataset.fingerprint,
        "n": int(n),
        "test_fraction": round(float(test_fraction), 4),
        "min_products": int(min_products),
        "params": params,
    }


def active(key: str, dataset: Dataset) -> dict[str, Any] | None:
    """The stored request under ``key`` if it is for the active dataset."""
    req = state.get(key)
    return req if req and req["fingerprint"] == dataset.fingerprint else None


def same_split(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two requests evaluate the same split at the same N (the model may differ)."""
    keys = ("fingerprint", "n", "test_fraction", "min_products")
    return a is not None and b is not None and all(a[k] == b[k] for k in keys)


def run(dataset: Dataset, req: dict[str, Any], tune: dict[str, Any] | None) -> Results:
    """Evaluate (and, with ``tune``, sweep) through the caches; the page only renders."""
    fp, params = dataset.fingerprint, req["params"]
    split = (req["test_fraction"], req["min_products"])
    main = cache.evaluation(fp, dataset, comparison_models(params), req["n"], *split)
    sweep = cache.tuning(fp, dataset, req["n"], *split) if same_split(req, tune) else None
    if sweep is not None:
        curve, source = k_curve_from_sweep(sweep, req["n"]), "validation split of the tuning run"
    else:
        k_result = cache.evaluation(fp, dataset, k_curve_models(params), req["n"], *split)
        curve, source = k_curve_frame(k_result), "test split, current settings at each k"
    by_n = {
        n: cache.evaluation(fp, dataset, tradeoff_models(params), n, *split)
        for n in sorted({*N_VALUES, req["n"]})
    }
    return Results(
        main, metric_table(main), curve, source, tradeoff_frame(by_n), segment_frame(main), sweep
    )


# --- actions -------------------------------------------------------------------------------------
def apply_to_model_page(params: ModelParams, source: str) -> None:
    """Send ``params`` to the Model page's form and go there (training stays manual).

    The form is filled from ``params`` (its widgets are initialised from them, see
    :func:`dashboard.views.train_form`) and **Train model** trains exactly ``params``: the
    settings the form does not show (model kind, l2) come from them too.
    """
    st.session_state[state.APPLIED_PARAMS] = params
    for key in views.TRAIN_FORM_KEYS:  # re-initialised from ``params`` by the form
        st.session_state.pop(key, None)
    st.session_state[state.PAGE_NOTICE] = (
        f"Settings from the Evaluation page ({source}) applied to the form below: "
        f"k = {params.n_neighbors}, similarity power {params.similarity_power:g}, "
        f"{params.metric}, {params.weighting}/{params.value}, "
        f"min similarity {params.min_similarity:g}. Press **Train model** to train them."
    )
    st.switch_page(render.MODEL_PAGE)


def show_notice() -> None:
    """A one-shot notice left by the previous page (shown above the page, then forgotten)."""
    notice = st.session_state.get(state.PAGE_NOTICE)
    if notice:
        st.session_state[state.PAGE_NOTICE] = None
        st.success(notice, icon=":material/tune:")


# --- render pieces -------------------------------------------------------------------------------
def split_notices(res: Results) -> None:
    """Say how the data was split, and which models could not run and why."""
    s = res.main.split
    if s["method"] == "random":
        st.info(
            "The purchases have no dates, so each customer's hidden products were picked at "
            "random (seeded) instead of the most recent ones. Upload purchases with a "
            "`purchase_date` column for a temporal holdout.",
            icon=":material/shuffle:",
        )
    for model, reason in res.main.skipped.items():
        st.info(f"{charts.model_label(model)} was not evaluated: {reason}.", icon=":material/info:")
    st.caption(
        f"{s['customers_evaluated']:,} of {s['customers']:,} customers evaluated (those with at "
        f"least {s['min_products']} distinct products) · {s['test_pairs']:,} hidden products · "
        f"{s['train_rows']:,} purchase lines for training · {s['method']} split."
    )


def require_enough_products(dataset: Dataset, min_products: int) -> None:
    """An error with the fix, and ``st.stop()``, when no customer can be evaluated."""
    most = max_products_per_customer(dataset.purchases)
    if most < min_products:
        st.error(
            f"No customer has {min_products} or more distinct products, so there is nothing to "
            "evaluate. **Fix:** lower *Minimum distinct products per customer* (the most any "
            f"customer has is {most}), or upload more purchase history.",
            icon=":material/error:",
        )
        st.stop()


def headline(res: Results, n: int) -> None:
    """User-kNN NDCG@N against popularity ("x times popularity"), and the tuned figure."""
    ratio = ratio_to_popularity(res.table)
    if ratio is None:
        return
    m = st.columns(4)
    m[0].metric(f"User-kNN NDCG@{n}", f"{ratio[0]:.1%}", help="The active model's settings.")
    m[1].metric(f"Popularity NDCG@{n}", f"{ratio[1]:.1%}", help="Everyone gets the best sellers.")
    m[2].metric("User-kNN vs popularity", f"{ratio[2]:.2f}× popularity")
    tuned = None if res.sweep is None else ratio_to_popularity(metric_table(res.sweep.test))
    if tuned is not None:
        m[3].metric(
            f"Tuned user-kNN NDCG@{n}",
            f"{tuned[0]:.1%}",
            f"{tuned[2]:.2f}× popularity",
            delta_color="off",
            help="The settings chosen by tuning, scored on the same test split.",
        )


def results_table(table: pd.DataFrame, n: int) -> None:
    """The comparison as a formatted table."""
    shown = table.assign(
        model=table["model"].map(charts.model_label), settings=table["settings"].map(settings_text)
    )
    pct = {"format": "percent"}
    st.dataframe(
        shown[["model", "settings", *METRIC_COLUMNS, "seconds"]],
        hide_index=True,
        width="stretch",
        key="table_evaluation",
        column_config={
            "model": st.column_config.TextColumn("Model"),
            "settings": st.column_config.TextColumn("Settings"),
            **{
                m: st.column_config.NumberColumn(f"{label}@{n}", **pct)
                for m, label in charts.RANKING_METRICS.items()
            },
            "coverage": st.column_config.NumberColumn("Coverage", **pct),
            "avg_popularity": st.column_config.NumberColumn("Avg popularity", **pct),
            "seconds": st.column_config.NumberColumn("Seconds", format="%.2f"),
        },
    )


def tuned_tables(sweep: SweepResult) -> None:
    """The chosen settings per model, and every setting tried (folded away), as percentages."""
    pct = st.column_config.NumberColumn(format="percent")
    chosen = chosen_settings(sweep)
    st.dataframe(
        chosen,
        hide_index=True,
        key="table_tuned",
        column_config={c: pct for c in chosen.columns if "@" in c},
    )
    with st.expander("Every setting tried (validation split)"):
        tried = validation_table(sweep)
        st.dataframe(
            tried,
            hide_index=True,
            key="table_validation",
            column_config={c: pct for c in tried.columns if "@" in c or c == "coverage"},
        )


def csv_bytes(result: EvaluationResult) -> bytes:
    """The wide results (metrics with their ``@N``, settings as JSON) as CSV."""
    return result.table().to_csv(index=False, float_format="%.6g").encode("utf-8")
