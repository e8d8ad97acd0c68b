"""Reward-aware ranking: relevance blended with the value of each candidate's best offer.

With ``ModelParams.reward_boost = b`` in [0, 1], each customer's ``POOL_FACTOR x n`` most relevant
candidates are re-scored as

``(1 - b) x score / max score of the customer's pool + b x value / max value of the pool``

where ``value`` is the expected reward, in currency, of the candidate's best usable offer for
this customer (:mod:`recsys.rewards.offer_book`: reward at their typical spend in the product's
category, times the likelihood that they reach ``min_spend``; 0 without an offer). Both parts are
normalised per customer, so one customer's ranking never depends on who else is in the batch
(one-by-one and batch agree). Ties keep relevance order. A candidate that ends up above its
relevance rank is labelled ``similar_customers+offer``; the ``score`` column keeps the model's
relevance score. Popular fallbacks fill the slots left over, as without a boost: their scores
are on another scale.

What the boost costs in relevance is measured by :mod:`recsys.evaluation.tradeoff`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.rewards.offer_book import OfferBook

__all__ = ["POOL_FACTOR", "pool_offer_values", "rerank_for_rewards"]

POOL_FACTOR = 3
"""Candidates re-ranked per customer: ``POOL_FACTOR x n`` of the most relevant."""


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
