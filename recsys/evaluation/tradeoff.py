"""What reward-aware ranking costs: NDCG@N and offer coverage against ``reward_boost``.

The model is fitted once on the training part of a temporal holdout
(:func:`recsys.evaluation.split.temporal_split`); each boost re-ranks the same candidates
(:mod:`recsys.rewards.rerank`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.data.dataset import Dataset
from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.split import temporal_split
from recsys.params import ModelParams
from recsys.pipeline import RecommenderPipeline

__all__ = ["DEFAULT_BOOSTS", "reward_boost_tradeoff"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

DEFAULT_BOOSTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))


def reward_boost_tradeoff(
    data: Dataset,
    params: ModelParams | None = None,
    *,
    boosts: Iterable[float] = DEFAULT_BOOSTS,
    n: int = 10,
    test_fraction: float = 0.2,
    min_products: int = 5,
    seed: int = 0,
    as_of: object | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """NDCG@n and offer coverage against ``reward_boost``, on a temporal holdout.

    The model is fitted once on the training part of
    :func:`recsys.evaluation.split.temporal_split`; each boost re-ranks the same candidates.

    Parameters
    ----------
    data : Dataset
        The full data set (rewards, customers and redemptions are kept for training).
    params : ModelParams, optional
        Model settings (their ``reward_boost`` is ignored).
    boosts : iterable of float
        Default 0, 0.1, ..., 1.
    n, test_fraction, min_products, seed
        As in :mod:`recsys.evaluation.runner`.
    as_of : date-like, optional
        Day of offer validity; default the last training purchase day.

    Returns
    -------
    DataFrame
        One row per boost: ``reward_boost``, ``n``, ``ndcg``, ``recall``, ``offer_coverage``
        (share of recommendations with a usable offer), ``boosted_share`` (share labelled
        ``+offer``), ``expected_reward`` (mean per recommendation, currency), ``ndcg_change``
        and ``coverage_change`` (against the first boost), ``n_customers``.
    """

    boosts = [float(b) for b in boosts]
    split = temporal_split(
        data.purchases, test_fraction=test_fraction, min_products=min_products, seed=seed
    )
    train = Dataset(
        purchases=split.train,
        rewards=data.rewards,
        customers=data.customers,
        products=data.products,
        redemptions=data.redemptions,
        name=f"{data.name} (train)",
    )
    base = replace(params or ModelParams(), reward_boost=0.0)
    pipe = RecommenderPipeline(base).fit(train)
    customers = np.asarray([c for c in split.customers if c in pipe.customers_], dtype=object)
    truth = _truth(split.test, customers, pipe.products_)
    rows_of = pd.Index(customers)
    out = []
    for step, boost in enumerate(boosts):
        variant = copy.copy(pipe)  # fitted state shared; only the setting differs
        variant.params = replace(base, reward_boost=boost)
        recs = pd.concat(
            variant.iter_recommendations(customers, n, chunk_size=chunk_size, as_of=as_of),
            ignore_index=True,
        )
        offers = variant.attach_offers(recs, as_of=as_of)
        grid = np.full((len(customers), n), -1, dtype=np.int64)
        grid[rows_of.get_indexer(recs[S.CUSTOMER_ID]), recs[S.RANK].to_numpy(np.int64) - 1] = (
            pipe.products_.indices_of(recs[S.PRODUCT_ID])
        )
        metrics = ranking_metrics(grid, truth)
        out.append(
            {
                "reward_boost": boost,
                "n": n,
                "ndcg": metrics[f"ndcg@{n}"],
                "recall": metrics[f"recall@{n}"],
                "offer_coverage": float(offers[S.OFFER_ID].notna().mean()),
                "boosted_share": float(recs[S.REASON].eq(S.REASON_OFFER_BOOST).mean()),
                S.EXPECTED_REWARD: float(offers[S.EXPECTED_REWARD].fillna(0.0).mean()),
                "n_customers": int(metrics["n_customers"]),
            }
        )
        if progress is not None:
            progress((step + 1) / len(boosts), f"reward_boost={boost:g}")
    table = pd.DataFrame(out)
    if len(table):
        table["ndcg_change"] = table["ndcg"] - table["ndcg"].iloc[0]
        table["coverage_change"] = table["offer_coverage"] - table["offer_coverage"].iloc[0]
    return table


def _truth(test: pd.DataFrame, customers: np.ndarray, products: Any) -> sp.csr_matrix:
    """Held-out products per evaluated customer; unseen products get their own columns, so they
    count in recall and NDCG (never hit) instead of silently vanishing."""
    rows = pd.Index(customers).get_indexer(test[S.CUSTOMER_ID].astype(str))
    cols = products.indices_of(test[S.PRODUCT_ID], missing="mask")
    keep = rows >= 0
    rows, cols = rows[keep], cols[keep]
    unseen = cols < 0
    cols[unseen] = len(products) + np.arange(unseen.sum())
    return sp.csr_matrix(
        (np.ones(rows.size), (rows, cols)), shape=(len(customers), len(products) + unseen.sum())
    )
