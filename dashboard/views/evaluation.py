"""Evaluation page pieces: which configurations are compared, result reshaping, actions.

One Evaluate click is one :func:`recsys.evaluation.runner.evaluate` call (:func:`page_configs`
at every N of :func:`page_ns`, on a seeded sample of customers): each configuration is fitted
once, its result shown and kept in session state as soon as it finishes
(:func:`evaluate_streaming`), and every table and chart below reads its rows from their union,
one :class:`~recsys.evaluation.results.EvaluationResult`, selecting them by their
:class:`~recsys.params.ModelParams`. The pure helpers (``*_frame``, :func:`comparison_models`,
...) turn results into the small frames :mod:`dashboard.charts` draws; they are tested without a
server. The rest calls the runner or the cached wrappers in :mod:`dashboard.cache` and renders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache, charts, render, state
from dashboard.views import model as model_view  # the Model page's form: keys and ranges
from recsys.campaigns import export
from recsys.data.dataset import Dataset
from recsys.data.schema import CUSTOMER_ID, PRODUCT_ID
from recsys.evaluation.results import EvaluationResult, SweepResult
from recsys.evaluation.runner import DEFAULT_MODELS, evaluate
from recsys.params import ModelParams

PAGE = "pages/6_evaluation.py"
N_VALUES: tuple[int, ...] = (1, 3, 5, 10, 20)  # list lengths of the precision/recall trade-off
# k of the user-kNN curve (without a sweep): around the default k=200, plus the active k.
K_VALUES: tuple[int, ...] = (5, 10, 20, 50, 100, 200, 500)
METRIC_COLUMNS: tuple[str, ...] = (*charts.RANKING_METRICS, "coverage", "avg_popularity")
# Metrics shown with their 95 % bootstrap interval (customers resampled) in the results table.
INTERVAL_COLUMNS: tuple[str, ...] = ("ndcg", "recall", "coverage", "avg_popularity")
POPULARITY = ModelParams(model="popularity")
SAMPLE_DEFAULT = cache.EVAL_SAMPLE  # customers scored by default (the "Customers evaluated" field)
TRAIN_SAMPLE_DEFAULT = cache.EVAL_TRAIN_SAMPLE  # customers trained on ("Customers trained on")

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

Averages are over the customers evaluated (those with enough distinct products). Each
**95 % interval** comes from resampling those customers 500 times (seeded): another draw of
customers of the same kind would give a figure in that range 95 times in 100. Two models whose
interval of the *difference* (paired: the same customers for both) includes 0 cannot be told
apart on this data.
"""


# --- what is compared ----------------------------------------------------------------------------
def as_evaluated(params: ModelParams) -> ModelParams:
    """The model alone, as the runner measures it: no reward boost, purchases excluded."""
    return replace(params, reward_boost=0.0, exclude_purchased=True)


def user_knn_params(params: ModelParams) -> ModelParams:
    """The active settings as a user-kNN model (the k-curve and trade-off are about user-kNN)."""
    return as_evaluated(params if params.model == "user_knn" else replace(params, model="user_knn"))


def comparison_models(params: ModelParams) -> list[ModelParams]:
    """The active model's settings, then every model of ``DEFAULT_MODELS`` of another kind.

    ``popularity_segment`` is always asked for: without segments the core skips it and says why.
    """
    active = as_evaluated(params)
    return [active, *(p for p in DEFAULT_MODELS if p.model != active.model)]


def k_curve_models(params: ModelParams) -> list[ModelParams]:
    """User-kNN with the active settings at each k of :data:`K_VALUES` and at its own k."""
    knn = user_knn_params(params)
    return [replace(knn, n_neighbors=k) for k in sorted({*K_VALUES, knn.n_neighbors})]


def tradeoff_models(params: ModelParams) -> list[ModelParams]:
    """User-kNN with the active settings, and popularity."""
    return [user_knn_params(params), POPULARITY]


def page_configs(params: ModelParams) -> tuple[ModelParams, ...]:
    """Every configuration the page shows, each once: what one Evaluate click fits."""
    every = [*comparison_models(params), *k_curve_models(params), *tradeoff_models(params)]
    return tuple(dict.fromkeys(every))


def page_ns(n: int) -> tuple[int, ...]:
    """The list lengths the page shows: the trade-off's and the chosen N."""
    return tuple(sorted({*N_VALUES, int(n)}))


def tuned_onto(base: ModelParams, tuned: ModelParams) -> ModelParams:
    """``base`` with the user-kNN settings a sweep tunes taken from ``tuned``."""
    return replace(
        base,
        model=tuned.model,
        n_neighbors=tuned.n_neighbors,
        metric=tuned.metric,
        weighting=tuned.weighting,
        value=tuned.value,
        min_similarity=tuned.min_similarity,
        similarity_power=tuned.similarity_power,
        shrink=tuned.shrink,
        asymmetry=tuned.asymmetry,
        popularity_penalty=tuned.popularity_penalty,
    )


# --- reshaping -----------------------------------------------------------------------------------
def metric_table(
    result: EvaluationResult, n: int, params: list[ModelParams] | None = None
) -> pd.DataFrame:
    """One row per configuration: ``params``, ``model``, ``settings`` (its label), the metrics
    at ``n`` without ``@N``."""
    table = result.table(n, params)
    if table.empty:
        return pd.DataFrame(columns=["params", "model", "settings", *METRIC_COLUMNS])
    table.columns = [str(c).split("@")[0] for c in table.columns]
    return table.assign(settings=[p.label() for p in table["params"]])


def interval_text(low: float, high: float) -> str:
    """An interval of shares as text, e.g. ``12.1–14.3 %`` (``–`` when unknown)."""
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"{100 * low:.1f}–{100 * high:.1f} %"


def interval_frame(result: EvaluationResult, n: int, params: list[ModelParams]) -> pd.DataFrame:
    """``params`` and ``<metric>_ci`` (interval text) for each metric of :data:`INTERVAL_COLUMNS`.

    Configurations whose lists were not kept get ``–``.
    """
    tidy = result.intervals(n, params)
    out = pd.DataFrame({"params": params})
    for metric in INTERVAL_COLUMNS:
        name = f"{metric}@{n}" if metric in charts.RANKING_METRICS else metric
        rows = tidy[tidy["metric"] == name].set_index("params")
        out[f"{metric}_ci"] = [
            interval_text(rows.at[p, "low"], rows.at[p, "high"]) if p in rows.index else "–"
            for p in params
        ]
    return out


def verdicts(result: EvaluationResult, n: int, params: list[ModelParams]) -> list[str]:
    """The best configuration by NDCG@N against each other one, in plain sentences (paired)."""
    sentences = []
    for diff in result.against_best(n, params):
        a, b = _display(diff.a, params), _display(diff.b, params)
        if not diff.distinguishable:
            sentences.append(
                f"**{a}** and **{b}** are not distinguishable on NDCG@{n}: the difference is "
                f"{100 * diff.mean:+.2f} points and its 95 % interval "
                f"({100 * diff.low:+.2f} to {100 * diff.high:+.2f}) includes 0."
            )
        else:
            sentences.append(
                f"**{a}** is ahead of **{b}** on NDCG@{n} by {100 * diff.mean:.2f} points "
                f"(95 % interval {100 * diff.low:+.2f} to {100 * diff.high:+.2f})."
            )
    return sentences


def _display(label: str, params: list[ModelParams]) -> str:
    """A configuration's display name from its label (the model's name and its settings)."""
    found = next((p for p in params if p.label() == label), None)
    return label if found is None else f"{charts.model_label(found.model)} ({label})"


def k_curve_frame(result: EvaluationResult, n: int, params: list[ModelParams]) -> pd.DataFrame:
    """``k``, ``ndcg``, ``coverage`` of the :func:`k_curve_models` configurations."""
    table = metric_table(result, n, params)
    k = [p.n_neighbors for p in table["params"]]
    return table.assign(k=k)[["k", "ndcg", "coverage"]].sort_values("k", ignore_index=True)


def k_curve_from_sweep(sweep: SweepResult, n: int) -> pd.DataFrame:
    """``k``, ``ndcg``, ``coverage`` on the validation split, other settings as the winner's."""
    best = sweep.best.get("user_knn")
    if best is None:
        return pd.DataFrame(columns=["k", "ndcg", "coverage"])
    same = [p for p in sweep.validation.params if replace(p, n_neighbors=best.n_neighbors) == best]
    return k_curve_frame(sweep.validation, n, same)


def tradeoff_frame(result: EvaluationResult, params: list[ModelParams]) -> pd.DataFrame:
    """``model``, ``n``, ``precision``, ``recall`` at every N of the result."""
    frames = [metric_table(result, n, params).assign(n=n) for n in result.ns]
    return pd.concat(frames, ignore_index=True)[["model", "n", "precision", "recall"]]


def segment_frame(result: EvaluationResult, n: int, params: list[ModelParams]) -> pd.DataFrame:
    """``model``, ``segment``, ``ndcg``, ``n_customers`` at ``n`` (empty without segments)."""
    seg = result.segments(n)
    wanted = seg[seg["params"].isin(params) & seg["metric"].isin([f"ndcg@{n}", "n_customers"])]
    if wanted.empty:
        return pd.DataFrame(columns=["model", "segment", "ndcg", "n_customers"])
    wide = wanted.pivot_table(index=["model", "segment"], columns="metric", values="value")
    return wide.rename(columns={f"ndcg@{n}": "ndcg"}).reset_index()[
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
    """Per model kind: the settings chosen on validation, their validation and test NDCG@N."""
    n = sweep.test.ns[0]
    val = metric_table(sweep.validation, n).set_index("params")["ndcg"]
    test = metric_table(sweep.test, n).set_index("model")
    winners = [p for p in sweep.best.values() if p in sweep.test.params]
    ci = interval_frame(sweep.test, n, winners).set_index("params")
    rows = []
    for kind, best in sweep.best.items():
        rows.append(
            {
                "model": charts.model_label(kind),
                "chosen settings": best.label(),
                f"validation NDCG@{n}": float(val.get(best, float("nan"))),
                f"test NDCG@{n}": test["ndcg"].get(kind, float("nan")),
                f"test NDCG@{n} 95 % interval": ci["ndcg_ci"].get(best, "–"),
                f"test recall@{n}": test["recall"].get(kind, float("nan")),
                f"test recall@{n} 95 % interval": ci["recall_ci"].get(best, "–"),
            }
        )
    return pd.DataFrame(rows)


def n_settings_tried(sweep: SweepResult) -> int:
    """How many configurations the sweep evaluated on the validation split."""
    return len(sweep.validation.params)


def validation_table(sweep: SweepResult) -> pd.DataFrame:
    """Every configuration tried on the validation split, best NDCG@N first."""
    n = sweep.test.ns[0]
    table = metric_table(sweep.validation, n)
    out = pd.DataFrame(
        {
            "model": table["model"].map(charts.model_label),
            "settings": table["settings"],
            f"NDCG@{n}": table["ndcg"],
            f"recall@{n}": table["recall"],
            f"precision@{n}": table["precision"],
            "coverage": table["coverage"],
        }
    )
    return out.sort_values(f"NDCG@{n}", ascending=False, ignore_index=True)


def form_can_set(params: ModelParams) -> bool:
    """Whether the Model page's form (:func:`dashboard.views.model.train_form`) can set it.

    It can set every metric, weighting, value and similarity power (the power options take in
    the applied one); k and the minimum similarity only up to
    :data:`~dashboard.views.model.K_MAX` and :data:`~dashboard.views.model.MIN_SIMILARITY_MAX`.
    """
    return (
        params.n_neighbors <= model_view.K_MAX
        and params.min_similarity <= model_view.MIN_SIMILARITY_MAX
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
            return tuned_onto(base, best), "tuning", None
        table = metric_table(sweep.validation, sweep.test.ns[0])
        knn = table[table["model"] == "user_knn"]
        ranked = knn.assign(order=range(len(knn))).sort_values(
            ["ndcg", "order"], ascending=[False, True]
        )
        for params in ranked["params"]:
            if form_can_set(params):
                note = (
                    f"The tuned best ({best.label()}) is outside what the Model page's "
                    f"form can set (k up to {model_view.K_MAX}, minimum similarity up to "
                    f"{model_view.MIN_SIMILARITY_MAX:g}), so the best validation result within it "
                    "is offered."
                )
                return tuned_onto(base, params), "tuning", note
    k = int(curve.loc[curve["ndcg"].idxmax(), "k"])
    return replace(base, model="user_knn", n_neighbors=k), "best k of the curve", None


def max_products_per_customer(purchases: pd.DataFrame) -> int:
    """The largest number of distinct products any customer bought."""
    if purchases.empty:
        return 0
    return int(purchases.groupby(CUSTOMER_ID, observed=True)[PRODUCT_ID].nunique().max())


# --- running (through the caches) ----------------------------------------------------------------
@dataclass
class Results:
    """Everything the page shows for one request."""

    main: EvaluationResult  # every configuration of the page, at every N it shows
    table: pd.DataFrame  # the comparison at the chosen N
    curve: pd.DataFrame
    curve_source: str
    tradeoff: pd.DataFrame
    segments: pd.DataFrame
    sweep: SweepResult | None


def request(
    dataset: Dataset,
    n: int,
    test_fraction: float,
    min_products: int,
    max_customers: int | None = SAMPLE_DEFAULT,
    max_train_customers: int | None = TRAIN_SAMPLE_DEFAULT,
) -> dict[str, Any]:
    """What an evaluation run is keyed on (kept in session state; results come from caches)."""
    pipeline = state.get(state.PIPELINE)
    params = pipeline.params if pipeline is not None else ModelParams()
    return {
        "fingerprint": dataset.fingerprint,
        "n": int(n),
        "test_fraction": round(float(test_fraction), 4),
        "min_products": int(min_products),
        "max_customers": None if max_customers is None else int(max_customers),
        "max_train_customers": None if max_train_customers is None else int(max_train_customers),
        "params": params,
    }


def active(key: str, dataset: Dataset) -> dict[str, Any] | None:
    """The stored request under ``key`` if it is for the active dataset."""
    req = state.get(key)
    return req if req and req["fingerprint"] == dataset.fingerprint else None


SPLIT_KEYS = (
    "fingerprint",
    "n",
    "test_fraction",
    "min_products",
    "max_customers",
    "max_train_customers",
)


def same_split(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two requests evaluate the same split (and sample) at the same N (the model may
    differ)."""
    return a is not None and b is not None and all(a.get(k) == b.get(k) for k in SPLIT_KEYS)


def results_key(req: dict[str, Any]) -> tuple[Any, ...]:
    """What the page's results depend on: data, configurations, every N, split and sample."""
    return (
        req["fingerprint"],
        page_configs(req["params"]),
        page_ns(req["n"]),
        req["test_fraction"],
        req["min_products"],
        req.get("max_customers"),
        req.get("max_train_customers"),
    )


def finished(req: dict[str, Any]) -> dict[ModelParams, EvaluationResult]:
    """The configurations of ``req`` already evaluated in this session (kept as each finished,
    so a stopped run keeps them); a new request starts an empty store (the old one is dropped)."""
    key = results_key(req)
    kept = st.session_state.get(state.EVAL_RESULTS)
    if kept is None or kept["key"] != key:
        kept = {"key": key, "results": {}}
        st.session_state[state.EVAL_RESULTS] = kept
    return kept["results"]


def remaining(req: dict[str, Any]) -> list[ModelParams]:
    """The configurations of ``req`` not evaluated yet."""
    done = finished(req)
    return [p for p in page_configs(req["params"]) if p not in done]


def _configuration(result: EvaluationResult) -> ModelParams:
    """The one configuration of a per-configuration result (evaluated or skipped)."""
    return result.params[0] if result.params else next(iter(result.skipped))


def evaluate_streaming(dataset: Dataset, req: dict[str, Any]) -> None:
    """Evaluate the configurations of ``req`` not done yet, keeping and showing each result as
    it finishes (:func:`recsys.evaluation.runner.evaluate` with ``on_result``).

    Each finished configuration goes into session state at once (:func:`finished`): pressing
    Stop, or any rerun, keeps them, and the next run only evaluates the rest.
    """
    todo = remaining(req)
    if not todo:
        return
    done = finished(req)
    total = len(page_configs(req["params"]))
    live = st.empty()
    bar = st.progress(0.0, text=f"Evaluating {total} model configurations …")

    def report(fraction: float, message: str) -> None:
        overall = (total - len(todo) + fraction * len(todo)) / total
        bar.progress(min(max(overall, 0.0), 1.0), text=f"{len(done)} of {total} done · {message}")

    def keep(result: EvaluationResult) -> None:
        done[_configuration(result)] = result
        with live.container():
            st.markdown(f"**Results so far** ({len(done)} of {total} configurations)")
            live_table(EvaluationResult.combine(list(done.values())), req["n"])

    evaluate(
        dataset.purchases,
        todo,
        customers=dataset.segments(),
        ns=page_ns(req["n"]),
        test_fraction=req["test_fraction"],
        min_products=req["min_products"],
        max_customers=req.get("max_customers"),
        max_train_customers=req.get("max_train_customers"),
        max_dense_products=cache.EVAL_DENSE_PRODUCTS,
        progress=report,
        on_result=keep,
    )
    bar.empty()
    live.empty()


def partial(req: dict[str, Any]) -> EvaluationResult | None:
    """What finished of ``req`` as one result, configurations in page order (None: nothing)."""
    done = finished(req)
    results = [done[p] for p in page_configs(req["params"]) if p in done]
    return EvaluationResult.combine(results) if results else None


def run(dataset: Dataset, req: dict[str, Any], tune: dict[str, Any] | None) -> Results:
    """The page's results once every configuration of ``req`` has finished (see
    :func:`evaluate_streaming`), and, with ``tune``, the cached sweep; the page only renders."""
    fp, params, n = dataset.fingerprint, req["params"], req["n"]
    split = (
        req["test_fraction"],
        req["min_products"],
        req.get("max_customers"),
        req.get("max_train_customers"),
    )
    main = partial(req)
    if main is None or remaining(req):
        raise RuntimeError("Evaluate every configuration first (evaluate_streaming).")
    sweep = cache.tuning(fp, dataset, n, *split) if same_split(req, tune) else None
    if sweep is not None:
        curve, source = k_curve_from_sweep(sweep, n), "validation split of the tuning run"
    else:
        curve = k_curve_frame(main, n, k_curve_models(params))
        source = "test split, current settings at each k"
    compared = comparison_models(params)
    table = metric_table(main, n, compared)
    table = table.merge(interval_frame(main, n, list(table["params"])), on="params", how="left")
    return Results(
        main,
        table,
        curve,
        source,
        tradeoff_frame(main, tradeoff_models(params)),
        segment_frame(main, n, compared),
        sweep,
    )


# --- actions -------------------------------------------------------------------------------------
def apply_to_model_page(params: ModelParams, source: str) -> None:
    """Send ``params`` to the Model page's form and go there (training stays manual).

    The form is filled from ``params`` (its widgets are initialised from them, see
    :func:`dashboard.views.model.train_form`) and **Train model** trains exactly ``params``: the
    settings the form does not show (model kind, l2) come from them too.
    """
    st.session_state[state.APPLIED_PARAMS] = params
    for key in model_view.TRAIN_FORM_KEYS:  # re-initialised from ``params`` by the form
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
    for params, reason in res.main.skipped.items():
        label = charts.model_label(params.model)
        st.info(f"{label} was not evaluated: {reason}.", icon=":material/info:")
    st.caption(f"{customers_sentence(s)} · {s['train_rows']:,} purchase lines for training.")


def customers_sentence(split: dict[str, Any]) -> str:
    """Who was evaluated: everyone with enough products, or a seeded sample of them; and who
    trained the models: every customer, or a seeded sample of them (said first, in bold)."""
    evaluated, eligible = split["customers_evaluated"], split.get("customers_eligible")
    enough = f"at least {split['min_products']} distinct products"
    total = split.get("customers_total", split["customers"])
    trained = (
        f"**The purchases of a seeded random sample of {split['customers']:,} of the "
        f"{total:,} customers** split and train the models (*Customers trained on* above). "
        if split["customers"] < total
        else ""
    )
    if eligible is not None and evaluated < eligible:
        everyone = "" if trained else f" ({total:,} customers in all; every one of them trains "
        return (
            f"{trained}**A seeded random sample of {evaluated:,} customers** was evaluated, out "
            f"of the {eligible:,} with {enough}"
            + (f"{everyone}the models)" if everyone else "")
            + ". Change *Customers evaluated* above for another sample size · "
            f"{split['method']} split"
        )
    return (
        f"{trained}{evaluated:,} of {split['customers']:,} customers evaluated (those with "
        f"{enough}) · {split['test_pairs']:,} hidden products · {split['method']} split"
    )


def stopped_notice(req: dict[str, Any], left: list[ModelParams]) -> None:
    """What finished of an evaluation that was stopped (or interrupted), and how to go on."""
    total = len(page_configs(req["params"]))
    st.warning(
        f"The evaluation stopped after {total - len(left)} of {total} model configurations; "
        f"what finished is kept below. Press **Finish the evaluation** to evaluate the "
        f"{len(left)} left ({', '.join(p.label() for p in left[:3])}"
        f"{', …' if len(left) > 3 else ''}).",
        icon=":material/pause_circle:",
    )
    main = partial(req)
    if main is not None:
        st.caption(customers_sentence(main.split) + ".")
        live_table(main, req["n"])


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
    tuned = None if res.sweep is None else ratio_to_popularity(metric_table(res.sweep.test, n))
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
    shown = table.assign(model=table["model"].map(charts.model_label))
    pct = {"format": "percent"}
    # Each interval right after its metric.
    columns = [c for m in METRIC_COLUMNS for c in (m, f"{m}_ci") if c in shown.columns or c == m]
    interval_names = {
        "ndcg": f"NDCG@{n}",
        "recall": f"Recall@{n}",
        "coverage": "Coverage",
        "avg_popularity": "Avg popularity",
    }
    st.dataframe(
        shown[["model", "settings", *columns, "seconds"]],
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
            **{
                f"{m}_ci": st.column_config.TextColumn(
                    f"{interval_names[m]} 95 % CI",
                    help="Bootstrap over the customers evaluated (500 resamples, seeded).",
                )
                for m in INTERVAL_COLUMNS
            },
            "seconds": st.column_config.NumberColumn("Seconds", format="%.2f"),
        },
    )


def live_table(result: EvaluationResult, n: int) -> None:
    """The configurations finished so far: model, settings, NDCG, recall, precision, seconds."""
    table = metric_table(result, n)
    if table.empty:
        table = table.assign(seconds=[])
    shown = pd.DataFrame(
        {
            "Model": table["model"].map(charts.model_label),
            "Settings": table["settings"],
            f"NDCG@{n}": table["ndcg"],
            f"Recall@{n}": table["recall"],
            f"Precision@{n}": table["precision"],
            "Seconds": table["seconds"],
        }
    )
    pct = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "Model": st.column_config.TextColumn(width="medium"),
            **{c: pct for c in shown.columns if "@" in c},
        },
    )
    for params, reason in result.skipped.items():
        st.caption(f"{charts.model_label(params.model)} was not evaluated: {reason}.")


def verdict_lines(result: EvaluationResult, n: int, params: list[ModelParams]) -> None:
    """The paired comparisons of :func:`verdicts`, one line each."""
    for sentence in verdicts(result, n, params):
        st.markdown(f"- {sentence}")


def tuned_tables(sweep: SweepResult) -> None:
    """The chosen settings per model, and every setting tried (folded away), as percentages."""
    pct = st.column_config.NumberColumn(format="percent")
    chosen = chosen_settings(sweep)
    st.markdown(
        "Each model keeps its default settings unless the best setting on the validation "
        "split is clearly ahead (the 95 % paired interval of the gain is above 0):"
    )
    for sentence in sweep.sentences():
        st.markdown(f"- {sentence}")
    st.dataframe(
        chosen,
        hide_index=True,
        key="table_tuned",
        column_config={c: pct for c in chosen.columns if "@" in c and "interval" not in c},
    )
    winners = [p for p in sweep.best.values() if p in sweep.test.params]
    verdict_lines(sweep.test, sweep.test.ns[0], winners)
    with st.expander("Every setting tried (validation split)"):
        tried = validation_table(sweep)
        st.dataframe(
            tried,
            hide_index=True,
            key="table_validation",
            column_config={c: pct for c in tried.columns if "@" in c or c == "coverage"},
        )


def csv_bytes(table: pd.DataFrame, n: int) -> bytes:
    """The comparison (metrics with their ``@N``, settings as their label) as CSV."""
    named = {m: f"{m}@{n}" for m in charts.RANKING_METRICS}
    ci = {f"{m}_ci": f"{m}_95_interval" for m in INTERVAL_COLUMNS}
    out = table.drop(columns=["params"]).rename(columns={**named, **ci})
    return export.csv_bytes(out)
