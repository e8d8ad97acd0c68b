"""Every cached call of the dashboard, at module level, each with a ``max_entries`` bound.

Keys: a dataset is identified by its ``fingerprint`` (sha256 of its canonical content), a fitted
model by :func:`model_key` (data fingerprint + :class:`~recsys.params.ModelParams`). The objects
themselves are passed as ``_``-prefixed arguments, which Streamlit does not hash. Uploaded files
are passed as ``bytes`` (hashable, and independent of the upload widget's lifetime); a loaded
upload is kept per session, never in a cache shared by all sessions (:func:`uploaded_dataset`).

``st.cache_resource`` holds fitted pipelines (shared between sessions, never mutated);
``st.cache_data`` holds datasets and result frames (each caller gets its own copy). Long work
draws its progress bar inside the cached function, so a cache hit replays and removes it at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import profile, startup, state
from dashboard.charts import category_colors
from dashboard.columns import AUDIENCE, STATUS
from recsys.campaigns import reach as reach_counts
from recsys.campaigns.audience import Audience, offer_audience
from recsys.data.dataset import Dataset, load_dataset, load_sample
from recsys.data.mapping import detect_mapping
from recsys.data.reading import read_raw_header
from recsys.data.schema import CATEGORY
from recsys.evaluation.results import SweepResult
from recsys.evaluation.runner import DEFAULT_SAMPLE, DEFAULT_TRAIN_SAMPLE, sweep
from recsys.evaluation.tradeoff import reward_boost_tradeoff
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.rewards.eligibility import offer_status
from recsys.store import ModelStore

# (table, file name, content) for each uploaded file.
UploadedFiles = tuple[tuple[str, str, bytes], ...]
# (table, ((canonical, header), ...)) for each explicit column mapping.
ColumnMaps = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

SIMILARITY_SAMPLE = 1000
# Customers scored by default on the Evaluation page, and customers whose purchases it splits
# and trains on (seeded samples), the same defaults as ``python -m recsys evaluate``'s
# ``--max-customers`` and ``--max-train-customers``.
EVAL_SAMPLE = DEFAULT_SAMPLE
EVAL_TRAIN_SAMPLE = DEFAULT_TRAIN_SAMPLE
# Customers whose recommendations calibrate the Campaigns page's propensity (a seeded sample).
PROPENSITY_SAMPLE = 20_000
# Above this many products the page leaves EASE out: its dense solve takes GBs and minutes
# (20,000 products: ~13 GB and several minutes on 2 cores).
EVAL_DENSE_PRODUCTS = 10_000


def model_key(pipeline: RecommenderPipeline) -> str:
    """What identifies a fitted model's answers: the data fingerprint and the parameters."""
    return f"{getattr(pipeline, 'fingerprint_', '')}|{pipeline.params!r}"


# --- data --------------------------------------------------------------------------------------
@st.cache_data(max_entries=2, show_spinner=False)
def sample_dataset() -> Dataset:
    """The bundled sample data set."""
    return load_sample()


def uploaded_dataset(
    files: UploadedFiles,
    column_maps: ColumnMaps = (),
    dataset_name: str = "upload",
    progress: Any = None,
) -> Dataset:
    """Validate and load uploaded files; raises ``DataValidationError`` (nothing kept).

    Not in ``st.cache_data``: that cache is shared by every session of the server and bounded
    in entries, not bytes, so a few large uploads would pin gigabytes for everyone. The loaded
    upload is kept in this session only, one entry (the last upload), and its size is bounded
    by the read limits (:class:`recsys.data.reading.ReadLimits`) checked before reading.
    ``progress(fraction, message)`` is told each step (:func:`recsys.data.dataset.load_dataset`).
    """
    digest = hashlib.sha256()
    for table, name, content in files:
        digest.update(f"{table}\0{name}\0{len(content)}\0".encode())
        digest.update(hashlib.sha256(content).digest())
    digest.update(repr((column_maps, dataset_name)).encode())
    key = digest.hexdigest()
    kept = st.session_state.get(state.UPLOAD_CACHE)
    if kept is not None and kept[0] == key:
        return kept[1]
    sources = {table: content for table, _, content in files}
    names = {table: name for table, name, _ in files}
    maps = {table: dict(pairs) for table, pairs in column_maps}
    dataset = load_dataset(
        **sources, names=names, column_maps=maps, dataset_name=dataset_name, progress=progress
    )
    st.session_state[state.UPLOAD_CACHE] = (key, dataset)
    return dataset


@st.cache_resource(max_entries=1, show_spinner=False)
def startup_dataset(folder: str) -> Dataset:
    """The start-up data folder (:mod:`dashboard.startup`), loaded once per server.

    ``st.cache_resource``: shared by every session without a copy (at 10M purchase lines a copy
    per rerun would cost seconds and gigabytes); nobody mutates a Dataset. The counted progress
    bar is drawn inside, like :func:`fitted_pipeline`'s.
    """
    files = startup.data_files(Path(folder))
    bar, report = _labelled_progress_bar(f"Loading the data in {Path(folder).name}:")
    dataset = load_dataset(
        **files,  # type: ignore[arg-type]
        names={table: path.name for table, path in files.items()},
        dataset_name=files["purchases"].stem,
        progress=report,
    )
    bar.empty()
    return dataset


@st.cache_resource(max_entries=2, show_spinner=False)
def startup_model(name: str, modified: float) -> RecommenderPipeline:
    """A model of the store's team area, loaded once per server (``modified``: the file's mtime,
    so a model saved again under the same name is reloaded)."""
    with st.spinner(f"Loading the model {name} …"):
        return ModelStore().load(name, "team")


@st.cache_data(max_entries=32, show_spinner=False)
def file_headers(content: bytes, name: str, table: str) -> tuple[list[str], dict[str, str | None]]:
    """Raw headers of an uploaded file and the automatically detected mapping."""
    headers = read_raw_header(content, name)
    return headers, detect_mapping(headers, table)


@st.cache_data(max_entries=8, show_spinner=False)
def dataset_summary(fingerprint: str, _dataset: Dataset) -> dict[str, Any]:
    """:meth:`Dataset.summary` (sizes, spend, dates, density), once per dataset: the sidebar
    shows it on every rerun, the Data page and the offers' as-of date use it too."""
    return _dataset.summary()


@st.cache_data(max_entries=8, show_spinner=False)
def data_profile(fingerprint: str, _dataset: Dataset) -> dict[str, Any]:
    """Everything the Data page charts: monthly activity, top products, mix, long tail."""
    purchases = _dataset.purchases
    steps = {
        "catalogue": lambda: dataset_catalogue(fingerprint, _dataset),
        "monthly": lambda: profile.monthly_activity(purchases),
        "top_products": lambda: profile.top_products(purchases, out["catalogue"]),
        "category_mix": lambda: profile.category_mix(purchases, out["catalogue"]),
        "per_customer": lambda: profile.purchases_per_customer(purchases),
        "summary": lambda: dataset_summary(fingerprint, _dataset),
    }
    # Seconds per step at 10M purchase lines: a counted bar, removed at once on a cache hit.
    bar, report = _labelled_progress_bar(f"Profiling {len(purchases):,} purchase lines:")
    out: dict[str, Any] = {}
    for done, (name, step) in enumerate(steps.items()):
        report(done / len(steps), f"step {done + 1} of {len(steps)} ({name.replace('_', ' ')})")
        out[name] = step()
    bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def dataset_catalogue(fingerprint: str, _dataset: Dataset) -> pd.DataFrame:
    """The dataset's product catalogue (one row per product)."""
    return _dataset.catalogue()


@st.cache_data(max_entries=16, show_spinner=False)
def colors(key: str, _catalogue: pd.DataFrame) -> dict[str, str]:
    """One colour per category of a catalogue (the same on every chart); ``key`` names it."""
    return category_colors(_catalogue[CATEGORY])


def colors_for_dataset(dataset: Dataset) -> dict[str, str]:
    """Category colours over the dataset's whole catalogue."""
    return colors(dataset.fingerprint, dataset_catalogue(dataset.fingerprint, dataset))


def colors_for(pipeline: RecommenderPipeline) -> dict[str, str]:
    """Category colours over the model's whole catalogue (equal to the dataset's for its data)."""
    return colors(model_key(pipeline), pipeline.catalogue_)


@st.cache_data(max_entries=64, show_spinner=False)
def offers_with_status(
    fingerprint: str, _rewards: pd.DataFrame | None, as_of: pd.Timestamp
) -> pd.DataFrame | None:
    """The offer catalogue with its status (active / expired / upcoming) on ``as_of``."""
    if _rewards is None:
        return None
    out = _rewards.copy()
    out[STATUS] = offer_status(_rewards, as_of).to_numpy()
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def customer_profile(
    fingerprint: str, _dataset: Dataset, customer_id: str
) -> profile.CustomerProfile:
    """One customer's history from the active dataset."""
    return profile.customer_profile(
        _dataset.purchases,
        customer_id,
        catalogue=dataset_catalogue(fingerprint, _dataset),
        segments=_dataset.segments(),
    )


# Fingerprints of actual fits, appended inside the cached function (so only on a miss).
_FITS: list[str] = []


def fit_count() -> int:
    """How many real fits this process has done (see :func:`fitted_pipeline`)."""
    return len(_FITS)


# --- model -------------------------------------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def fitted_pipeline(
    fingerprint: str, params: ModelParams, _dataset: Dataset
) -> RecommenderPipeline:
    """Train (or serve from the cache) the pipeline for this data and these settings.

    The progress bar is created inside so that Streamlit can replay it on a cache hit (where it
    is removed at once); an element created outside a cached function cannot be replayed.
    """
    _FITS.append(fingerprint)  # only runs on a cache miss: lets callers tell a hit from a fit
    bar = st.progress(0.0, text=f"Training {params.label()} …")

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    pipeline = RecommenderPipeline(params).fit(_dataset, progress=report)
    bar.empty()
    return pipeline


@st.cache_data(max_entries=16, show_spinner=False)
def similarity_sample(
    key: str, _pipeline: RecommenderPipeline, limit: int = SIMILARITY_SAMPLE
) -> np.ndarray:
    """Neighbour similarities of a seeded sample of ``limit`` customers (distribution chart)."""
    return _pipeline.neighbor_similarities(sample=limit)


@st.cache_data(max_entries=4, show_spinner=False)
def model_artifact(key: str, _pipeline: RecommenderPipeline) -> bytes:
    """The active model as a joblib file (for download), compressed like the store's."""
    import io

    import joblib

    buffer = io.BytesIO()
    joblib.dump(_pipeline, buffer, compress=3)
    return buffer.getvalue()


@st.cache_data(max_entries=32, show_spinner=False)
def customer_search(key: str, _ids: np.ndarray, query: str, limit: int) -> tuple[list[str], int]:
    """:func:`dashboard.profile.search_ids` over the model's customers (the picker's list)."""
    return profile.search_ids(_ids, query, limit)


# --- answers for one customer --------------------------------------------------------------------
@st.cache_data(max_entries=256, show_spinner=False)
def similar_customers(
    key: str, _pipeline: RecommenderPipeline, customer_id: str, n: int
) -> pd.DataFrame:
    return _pipeline.similar_customers(customer_id, n)


@st.cache_data(max_entries=256, show_spinner=False)
def recommendations(
    key: str, _pipeline: RecommenderPipeline, customer_id: str, n: int
) -> pd.DataFrame:
    return _pipeline.recommend(customer_id, n)


@st.cache_data(max_entries=256, show_spinner=False)
def customer_offers(
    key: str, _pipeline: RecommenderPipeline, customer_id: str, n: int, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Every eligible offer for the customer's recommendations, best first."""
    return _pipeline.eligible_offers(customer_id, n, as_of=as_of)


@st.cache_data(max_entries=256, show_spinner=False)
def explanation(
    key: str, _pipeline: RecommenderPipeline, customer_id: str, product_id: str
) -> pd.DataFrame:
    return _pipeline.explain(customer_id, product_id)


@st.cache_data(max_entries=64, show_spinner=False)
def basket(
    key: str, _pipeline: RecommenderPipeline, product_ids: tuple[str, ...], n: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _pipeline.recommend_for_basket(list(product_ids), n)


# --- answers for every customer ------------------------------------------------------------------
@st.cache_resource(max_entries=4, show_spinner=False)
def offer_reach(
    key: str, _pipeline: RecommenderPipeline, n: int, as_of: pd.Timestamp, whole: bool = False
) -> dict[str, Any]:
    """Reach per offer in the top ``n``, offers per customer and coverage (Rewards page).

    :func:`recsys.campaigns.reach.offer_reach` walks the customers chunk by chunk and keeps
    only the aggregates (a few numbers per offer), with a counted progress bar. Beyond
    :data:`~recsys.campaigns.reach.DEFAULT_REACH_SAMPLE` customers it counts a seeded sample of
    them unless ``whole`` (one neighbour search per customer: minutes at a million), and the
    figures are estimates for every customer (``"sampled"``). Computed once per model
    (``key``), ``n``, date and ``whole``, and shared between sessions and pages without a copy
    (``st.cache_resource``: callers only read it).
    """
    # The module's constant, read at call time (tests lower it).
    sample = (
        None if whole else reach_counts.reach_sample(_pipeline, reach_counts.DEFAULT_REACH_SAMPLE)
    )
    counted = (
        "every customer's" if sample is None else f"a seeded sample of {len(sample):,} customers'"
    )
    bar, report = _labelled_progress_bar(f"Matching {counted} recommendations with the offers:")
    # A pass over every customer keeps their neighbour lists on the (shared, cached) model:
    # every targeted audience is then scored from them instead of searching again.
    counts = reach_counts.offer_reach(
        _pipeline, n, customers=sample, as_of=as_of, progress=report, keep_neighbors=True
    )
    bar.empty()
    reach = counts.scaled()
    rewards = offers_with_status(key, _pipeline.rewards_, as_of)
    per_offer = (
        profile.reach_per_offer(reach.audience, rewards, reach.n_customers)
        if rewards is not None
        else None
    )
    return {
        "reach": reach,
        "per_offer": per_offer,
        "reached": None if per_offer is None else per_offer[per_offer[AUDIENCE] > 0],
        "coverage": reach.coverage,
        "n_customers": reach.n_customers,
        "n_reached": reach.n_reached,
        "sampled": reach.sampled,
        "n_counted": reach.n_counted,
    }


# --- reward-aware features: boost trade-off, targeted audience, segments -------------------------
def _labelled_progress_bar(text: str) -> tuple[Any, Any]:
    """A progress bar whose label keeps ``text`` and appends the core's step message."""
    bar = st.progress(0.0, text=text)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{text} {message}")

    return bar, report


@st.cache_data(max_entries=8, show_spinner=False)
def boost_tradeoff(
    fingerprint: str,
    params: ModelParams,
    _dataset: Dataset,
    n: int,
    test_fraction: float = 0.2,
    min_products: int = 5,
) -> pd.DataFrame:
    """:func:`recsys.evaluation.tradeoff.reward_boost_tradeoff` for boosts 0, 0.1, ..., 1.

    ``params`` should have ``reward_boost=0`` (the sweep ignores it): then every boost of the
    same model shares one cache entry.
    """
    bar, report = _labelled_progress_bar("Measuring NDCG and offer coverage per reward boost …")
    table = reward_boost_tradeoff(
        _dataset,
        params,
        n=n,
        test_fraction=test_fraction,
        min_products=min_products,
        progress=report,
    )
    bar.empty()
    return table


@st.cache_resource(max_entries=4, show_spinner=False)
def targeted_audience(
    key: str,
    _pipeline: RecommenderPipeline,
    offer_id: str,
    as_of: pd.Timestamp,
    exclude_recent_days: int | None,
) -> Audience:
    """The whole audience of an offer (:func:`recsys.campaigns.audience.offer_audience`), best
    first.

    No ``top``: the page cuts it (top N or a score threshold) without recomputing.
    ``st.cache_resource``: at a million customers the audience is a frame of that many rows,
    which ``st.cache_data`` would copy on every read; callers only cut it into new frames.
    """
    bar, report = _labelled_progress_bar(f"Scoring customers for offer {offer_id} …")
    audience = offer_audience(
        _pipeline, offer_id, as_of=as_of, exclude_recent_days=exclude_recent_days, progress=report
    )
    bar.empty()
    return audience


@st.cache_data(max_entries=16, show_spinner=False)
def segment_names(key: str, _pipeline: RecommenderPipeline) -> list[str]:
    """The model's customer segments, sorted (empty without a customers file)."""
    segments = getattr(_pipeline, "segments_", None)
    if segments is None:
        return []
    return sorted(segments.dropna().astype(str).unique().tolist())


# --- offline evaluation --------------------------------------------------------------------------
def _progress_bar(text: str) -> Any:
    """A progress bar and a ``progress(fraction, message)`` callback feeding it.

    Created inside the cached functions below (like :func:`fitted_pipeline`), so a cache hit
    replays it and removes it at once.
    """
    bar = st.progress(0.0, text=text)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return bar, report


@st.cache_data(max_entries=4, show_spinner=False)
def tuning(
    fingerprint: str,
    _dataset: Dataset,
    n: int,
    test_fraction: float,
    min_products: int,
    max_customers: int | None = EVAL_SAMPLE,
    max_train_customers: int | None = EVAL_TRAIN_SAMPLE,
) -> SweepResult:
    """:func:`recsys.evaluation.runner.sweep` over the default grid (validation split, then
    test), on the purchases of a seeded sample of at most ``max_train_customers`` customers,
    scoring a seeded sample of at most ``max_customers`` of them on each split."""
    bar, report = _progress_bar("Tuning settings on the validation split …")
    result = sweep(
        _dataset.purchases,
        customers=_dataset.segments(),
        n=n,
        test_fraction=test_fraction,
        min_products=min_products,
        progress=report,
        max_customers=max_customers,
        max_train_customers=max_train_customers,
        max_dense_products=EVAL_DENSE_PRODUCTS,
    )
    bar.empty()
    return result


def column_maps_key(maps: Mapping[str, Mapping[str, str]]) -> ColumnMaps:
    """A hashable, order-independent form of {table: {canonical: header}}."""
    return tuple(sorted((t, tuple(sorted(m.items()))) for t, m in maps.items() if m))


# --- campaign planning (Campaigns page) ----------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def propensity_fit(key: str, _pipeline: RecommenderPipeline, _dataset: Dataset, n: int) -> Any:
    """The calibrated propensity of a model (:func:`recsys.campaigns.propensity.fit_propensity`),
    fitted once per model and data on a temporal holdout, with a counted progress bar.

    The recommendations of a seeded sample of :data:`PROPENSITY_SAMPLE` customers are labelled
    (a calibrator of two inputs needs no million of them; the model still trains on everyone).
    """
    from recsys.campaigns.propensity import fit_propensity

    bar, report = _labelled_progress_bar("Calibrating the propensity on a temporal holdout:")
    fit = fit_propensity(
        _dataset, _pipeline.params, n=n, max_customers=PROPENSITY_SAMPLE, progress=report
    )
    bar.empty()
    return fit


@st.cache_data(max_entries=8, show_spinner=False)
def campaign_plan(
    key: str, _pipeline: RecommenderPipeline, _calibrator: Any, offers: tuple[str, ...],
    constraints: Any, control_share: float, n: int,
) -> Any:  # fmt: skip
    """:func:`recsys.campaigns.planner.plan_campaign`, with a counted progress bar."""
    from recsys.campaigns.planner import plan_campaign

    bar, report = _progress_bar("Planning the campaign …")
    plan = plan_campaign(_pipeline, offers, constraints, control_share=control_share,
                         calibrator=_calibrator, n=n, progress=report)  # fmt: skip
    bar.empty()
    return plan
