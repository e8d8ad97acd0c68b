"""Cached calls behind the reward-aware features (issue 5), same conventions as ``cache.py``.

Module-level ``st.cache_data`` with ``max_entries`` bounds, keyed on the model key
(:func:`dashboard.cache.model_key`: data fingerprint + ``ModelParams``) or the data fingerprint
and parameters, plus every argument; the objects themselves are ``_``-prefixed (not hashed).
Long work draws its progress bar inside the cached function, so a cache hit replays and
removes it at once (as :func:`dashboard.cache.fitted_pipeline` does).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recsys.campaigns.audience import Audience, offer_audience
from recsys.data.dataset import Dataset
from recsys.evaluation.tradeoff import reward_boost_tradeoff
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline


def _progress_bar(text: str) -> tuple[Any, Any]:
    """A progress bar and a ``progress(fraction, message)`` callback feeding it."""
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
    bar, report = _progress_bar("Measuring NDCG and offer coverage per reward boost …")
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


@st.cache_data(max_entries=32, show_spinner=False)
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
    """
    bar, report = _progress_bar(f"Scoring customers for offer {offer_id} …")
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
