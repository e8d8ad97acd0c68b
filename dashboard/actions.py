"""What buttons do: load data, train, load/save models, pick customers, build campaign files.

These functions change session state (the active dataset and model) through the keys in
:mod:`dashboard.state`, and get everything expensive from :mod:`dashboard.cache`. A failure never
changes what is active: the new dataset or model is only stored once it is complete.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import auth, cache, startup, state
from recsys.campaigns.audience import Audience
from recsys.campaigns.campaign_export import write_campaign
from recsys.data.dataset import Dataset
from recsys.errors import RecsysError
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline
from recsys.store import Area, ModelStore

Progress = Callable[[float, str], None]


# --- data ----------------------------------------------------------------------------------------
def activate_dataset(dataset: Dataset, source: str) -> None:
    """Make ``dataset`` the active one (the model is retrained separately)."""
    st.session_state[state.DATASET] = dataset
    st.session_state[state.DATASET_SOURCE] = source
    st.session_state[state.LAST_LOAD_ERROR] = None
    clear_export()


def load_sample_and_train() -> RecommenderPipeline:
    """Load the bundled sample data and train the current settings on it."""
    dataset = cache.sample_dataset()
    activate_dataset(dataset, "sample")
    st.session_state[state.LAST_LOAD_OK] = "Sample data loaded."
    return train(dataset, current_params())


def load_upload(
    files: cache.UploadedFiles,
    column_maps: Mapping[str, Mapping[str, str]],
    step: Callable[[str], None] | None = None,
) -> RecommenderPipeline | None:
    """Validate uploaded files; on success activate them and train the current settings.

    On a validation error the report is kept in session state (shown by the Data page) and the
    previous dataset and model stay active. ``step(message)`` is told which step runs (reading
    and validating each file, ..., training), e.g. to label a status box.
    """
    say = step or (lambda message: None)
    purchases_name = next((name for table, name, _ in files if table == "purchases"), "upload")
    dataset_name = purchases_name.rsplit(".", 1)[0] or "upload"
    try:
        dataset = cache.uploaded_dataset(
            files,
            cache.column_maps_key(column_maps),
            dataset_name,
            progress=lambda fraction, message: say(message),
        )
    except RecsysError as exc:
        st.session_state[state.LAST_LOAD_ERROR] = exc
        st.session_state[state.LAST_LOAD_OK] = None
        return None
    activate_dataset(dataset, "upload")
    st.session_state[state.LAST_LOAD_OK] = f"Loaded {', '.join(name for _, name, _ in files)}."
    params = current_params()
    say(f"Training {params.label()} on {len(dataset.purchases):,} purchase lines")
    return train(dataset, params)


# --- model ---------------------------------------------------------------------------------------
def current_params() -> ModelParams:
    """The active model's settings, or the defaults."""
    pipeline = state.get(state.PIPELINE)
    return pipeline.params if pipeline is not None else ModelParams()


def train(dataset: Dataset, params: ModelParams) -> RecommenderPipeline:
    """Fit (or fetch from the cache) and activate; records wall time and whether it was cached."""
    started, fits = time.perf_counter(), cache.fit_count()
    pipeline = cache.fitted_pipeline(dataset.fingerprint, params, dataset)
    seconds = time.perf_counter() - started
    activate_pipeline(pipeline, source="trained", name=None)
    st.session_state[state.MODEL_INFO]["wall_seconds"] = seconds
    st.session_state[state.MODEL_INFO]["cached"] = cache.fit_count() == fits
    return pipeline


def activate_pipeline(pipeline: RecommenderPipeline, *, source: str, name: str | None) -> None:
    """Make ``pipeline`` the active model."""
    meta = getattr(pipeline, "metadata_", {}) or {}
    st.session_state[state.PIPELINE] = pipeline
    st.session_state[state.APPLIED_PARAMS] = None  # the form follows the new active model
    st.session_state[state.MODEL_INFO] = {
        "source": source,
        "name": name,
        "trained_at": meta.get("created_at"),
        "fit_seconds": meta.get("fit_seconds"),
        "wall_seconds": None,
        "cached": False,
    }
    clear_export()


def save_model(
    pipeline: RecommenderPipeline, name: str, *, overwrite: bool, area: Area | None = None
) -> Any:
    """Save the active model in the user's store (``area``: private or team when signed in).

    Raises ``ModelStoreError`` on a bad name, a clash, or someone else's model.
    """
    info = auth.store().save(pipeline, name.strip(), overwrite=overwrite, area=area)
    model_info = state.get(state.MODEL_INFO)
    if model_info is not None:
        model_info["name"] = info.name
    return info


def load_model(name: str, area: Area | None = None) -> tuple[RecommenderPipeline, list[str]]:
    """Load a saved model as the active one; returns it and any warnings raised while loading."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline = auth.store().load(name, area)
    activate_pipeline(pipeline, source="saved", name=name)
    return pipeline, [str(w.message) for w in caught]


def bootstrap() -> None:
    """On a session's first run: the sample data and a default model, so every page works."""
    if state.get(state.BOOTSTRAPPED):
        return
    st.session_state[state.BOOTSTRAPPED] = True
    if state.get(state.DATASET) is not None:
        return
    if startup.start_data() is not None or startup.start_model() is not None:
        _bootstrap_configured()
        return
    with st.spinner("Loading the sample data and training a default model …"):
        dataset = cache.sample_dataset()
        activate_dataset(dataset, "sample")
        if state.get(state.PIPELINE) is None:
            train(dataset, ModelParams())


def _bootstrap_configured() -> None:
    """The start-up data and model of :mod:`dashboard.startup` (the sample where one is unset)."""
    folder, name = startup.start_data(), startup.start_model()
    if folder is not None:
        activate_dataset(cache.startup_dataset(str(folder.resolve())), "start-up folder")
    else:
        activate_dataset(cache.sample_dataset(), "sample")
    if name is None:
        train(state.get(state.DATASET), ModelParams())
        return
    path = ModelStore().path(name, "team")
    modified = path.stat().st_mtime if path.is_file() else 0.0
    activate_pipeline(cache.startup_model(name, modified), source="saved", name=name)


def as_of_for(dataset: Dataset) -> pd.Timestamp:
    """The reference date for offer status: the active model's, else the last purchase date."""
    pipeline = state.get(state.PIPELINE)
    if pipeline is not None and getattr(pipeline, "fingerprint_", None) == dataset.fingerprint:
        return pd.Timestamp(pipeline.as_of_)
    if dataset.has_dates:
        summary = cache.dataset_summary(dataset.fingerprint, dataset)
        return pd.Timestamp(summary["date_max"]).normalize()
    return pd.Timestamp.today().normalize()


# --- customer explorer ---------------------------------------------------------------------------
def pick_random_customer(ids: np.ndarray) -> None:
    """Callback: select a random customer."""
    if len(ids):
        st.session_state[state.CUSTOMER] = str(np.random.default_rng().choice(ids))


def pick_customer(customer_id: str | None) -> None:
    """Callback: select a given customer (e.g. the one with most offers)."""
    if customer_id is not None:
        st.session_state[state.CUSTOMER] = str(customer_id)


def reach_of_every_customer(key: str) -> bool:
    """Whether the analyst asked to count the reach over every customer of the model ``key``
    rather than a sample (:func:`dashboard.cache.offer_reach`'s ``whole``)."""
    return key in st.session_state.get(state.REACH_WHOLE, ())


def count_every_customer(key: str) -> None:
    """Callback: count the reach of model ``key`` over every customer from now on."""
    st.session_state[state.REACH_WHOLE] = (*st.session_state.get(state.REACH_WHOLE, ()), key)


def offer_reach(pipeline: RecommenderPipeline, n: int, as_of: pd.Timestamp) -> dict[str, Any]:
    """:func:`dashboard.cache.offer_reach` as this session asked for it (sample or everyone)."""
    key = cache.model_key(pipeline)
    return cache.offer_reach(key, pipeline, n, as_of, reach_of_every_customer(key))


def most_offers_customer(pipeline: RecommenderPipeline, n: int) -> str | None:
    """The customer with the most distinct eligible offers in their top-``n`` (None if nobody;
    among the reach's sample at scale)."""
    return offer_reach(pipeline, n, pipeline.as_of_)["reach"].most_offers_customer


# --- export --------------------------------------------------------------------------------------
def build_campaign(
    pipeline: RecommenderPipeline,
    *,
    fmt: Literal["csv", "parquet"],
    n: int,
    as_of: pd.Timestamp,
    segment: str | None = None,
    audience: Audience | None = None,
    progress: Progress | None = None,
) -> tuple[bytes, int]:
    """A campaign export (``recsys.campaigns.export.CAMPAIGN_COLUMNS``) as CSV or Parquet bytes.

    Everyone's top ``n`` (default), a ``segment``'s, or an offer's (already cut) ``audience``;
    written chunk by chunk by :func:`recsys.campaigns.campaign_export.write_campaign` into a
    temporary file, so
    only the finished file is held in memory. Returns the bytes and the number of rows.
    """
    with tempfile.TemporaryDirectory(prefix="campaign-") as tmp:
        path = Path(tmp) / f"campaign.{fmt}"
        rows = write_campaign(
            pipeline,
            path,
            n,
            fmt=fmt,
            segment=segment,
            audience=audience,
            as_of=as_of,
            progress=progress,
        )
        return path.read_bytes(), rows


def clear_export() -> None:
    """Forget a built campaign file (the data or model it came from changed)."""
    if state.CAMPAIGN_FILE in st.session_state:
        st.session_state[state.CAMPAIGN_FILE] = None
