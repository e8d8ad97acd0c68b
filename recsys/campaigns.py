"""Reward-aware ranking and its measured cost in relevance.

With ``ModelParams.reward_boost = b`` in [0, 1], each customer's ``POOL_FACTOR x n`` most relevant
candidates are re-scored as

``(1 - b) x score / max score of the customer's pool + b x value / max value of the pool``

where ``value`` is the expected reward, in currency, of the candidate's best usable offer for
this customer (:mod:`recsys.spend`: reward at their typical spend in the product's category,
times the likelihood that they reach ``min_spend``; 0 without an offer). Both parts are
normalised per customer, so one customer's ranking never depends on who else is in the batch
(one-by-one and batch agree). Ties keep relevance order. A candidate that ends up above its
relevance rank is labelled ``similar_customers+offer``; the ``score`` column keeps the model's
relevance score. Popular fallbacks fill the slots left over, as without a boost: their scores
are on another scale.

:func:`reward_boost_tradeoff` measures what the boost costs: NDCG@N and offer coverage on the
temporal holdout of :mod:`recsys.evaluation`, for boosts 0, 0.1, ..., 1.

Offer audiences live in :mod:`recsys.audience`, campaign exports in
:mod:`recsys.campaign_export`; both are re-exported here.
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

from recsys import schema as S
from recsys.audience import Audience, UnknownOfferError, offer_audience
from recsys.campaign_export import campaign_frames, write_campaign
from recsys.spend import OfferBook

__all__ = [
    "DEFAULT_BOOSTS",
    "POOL_FACTOR",
    "Audience",
    "UnknownOfferError",
    "campaign_frames",
    "offer_audience",
    "pool_offer_values",
    "rerank_for_rewards",
    "reward_boost_tradeoff",
    "write_campaign",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

POOL_FACTOR = 3
"""Candidates re-ranked per customer: ``POOL_FACTOR x n`` of the most relevant."""
DEFAULT_BOOSTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))


def pool_offer_values(
    book: OfferBook,
    customer_ids: np.ndarray,
    pool_items: np.ndarray,
    product_ids: np.ndarray,
    categories: np.ndarray,
) -> np.ndarray:
    """Expected reward (currency) of each pool candidate's best usable offer, ``m x P``.

    One pandas pass over the chunk's (customer, candidate) pairs; 0 where there is no offer
    or no candidate (``-1``).
    """
    rows, slots = np.nonzero(pool_items >= 0)
    cols = pool_items[rows, slots]
    values = np.zeros(pool_items.shape, dtype=np.float64)
    if not rows.size or not len(book.rewards):
        return values
    pairs = pd.DataFrame(
        {
            S.CUSTOMER_ID: np.asarray(customer_ids, dtype=object)[rows],
            S.PRODUCT_ID: product_ids[cols],
            S.CATEGORY: categories[cols],
        }
    )
    values[rows, slots] = book.best_values(pairs)
    return values


def rerank_for_rewards(
    pool_items: np.ndarray,
    pool_scores: np.ndarray,
    offer_values: np.ndarray,
    n: int,
    boost: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blend normalised relevance with normalised offer value and keep the top ``n``.

    Parameters
    ----------
    pool_items, pool_scores : ndarray of shape (m, P)
        Candidates by descending relevance (``-1`` / NaN padding), as from ``top_n``.
    offer_values : ndarray of shape (m, P)
        Value of each candidate's best offer (0 when none).
    n : int
        Recommendations kept per row.
    boost : float
        Weight of the offer value, in [0, 1].

    Returns
    -------
    items, scores : ndarray of shape (m, n)
        The new order; scores stay the model's relevance scores.
    boosted : ndarray of bool, shape (m, n)
        True where a candidate with an offer sits above its relevance rank.

    Examples
    --------
    >>> items = np.array([[7, 8, 9]])
    >>> scores = np.array([[1.0, 0.9, 0.5]])
    >>> out = rerank_for_rewards(items, scores, np.array([[0.0, 0.0, 20.0]]), 2, 0.5)
    >>> out[0].tolist(), out[2].tolist()
    ([[9, 7]], [[True, False]])
    """
    valid = pool_items >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        top = np.where(valid, pool_scores, -np.inf).max(axis=1, keepdims=True, initial=-np.inf)
        relevance = np.where(valid & (top > 0), pool_scores / top, 0.0)
        best = offer_values.max(axis=1, keepdims=True) if offer_values.size else offer_values
        value = np.where(best > 0, offer_values / best, 0.0)
    blended = np.where(valid, (1.0 - boost) * relevance + boost * value, -np.inf)
    order = np.argsort(-blended, axis=1, kind="stable")[:, :n]  # stable: ties keep relevance
    items = np.take_along_axis(pool_items, order, axis=1)
    scores = np.take_along_axis(pool_scores, order, axis=1)
    moved_up = order > np.arange(order.shape[1])[None, :]
    boosted = moved_up & (np.take_along_axis(offer_values, order, axis=1) > 0) & (items >= 0)
    if items.shape[1] < n:  # fewer candidates than slots: pad like top_n
        pad = n - items.shape[1]
        items = np.pad(items, ((0, 0), (0, pad)), constant_values=-1)
        scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=np.nan)
        boosted = np.pad(boosted, ((0, 0), (0, pad)), constant_values=False)
    return items, scores, boosted


def reward_boost_tradeoff(
    data: Any,
    params: Any | None = None,
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
    :func:`recsys.evaluation.temporal_split`; each boost re-ranks the same candidates.

    Parameters
    ----------
    data : Dataset
        The full data set (rewards, customers and redemptions are kept for training).
    params : ModelParams, optional
        Model settings (their ``reward_boost`` is ignored).
    boosts : iterable of float
        Default 0, 0.1, ..., 1.
    n, test_fraction, min_products, seed
        As in :mod:`recsys.evaluation`.
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
    from recsys.data import Dataset
    from recsys.metrics import ranking_metrics
    from recsys.params import ModelParams
    from recsys.pipeline import RecommenderPipeline
    from recsys.split import temporal_split

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
