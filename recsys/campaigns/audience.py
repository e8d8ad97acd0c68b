"""Offer audiences: who to target with an offer, how many, and at what expected cost.

Customers are ranked by the model's score for the offer's product, or for a category offer the
**maximum** score over the category's products (``aggregate="max"``, the default: one strong
interest is enough; ``"sum"`` favours broad category buyers). Segment eligibility and caps
(``max_per_customer`` against the redemptions file) are applied; customers who bought the
product (the category) recently can be left out. Scores are computed in chunks of customers,
so memory stays at one chunk's sparse score rows plus a few numbers per customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.errors import RecsysError, UnknownOfferError
from recsys.models.user_knn import neighbors_to_graph
from recsys.rewards.eligibility import offer_status
from recsys.rewards.offer_book import capped

if TYPE_CHECKING:  # type hints only: audiences sit above the pipeline
    from recsys.pipeline import RecommenderPipeline
    from recsys.rewards.offer_book import OfferBook

__all__ = [
    "AUDIENCE_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "Audience",
    "offer_audience",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Aggregate = Literal["max", "sum"]

DEFAULT_THRESHOLDS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9)
"""Audience sizes are reported at these shares of the top score."""
AUDIENCE_COLUMNS = [
    S.CUSTOMER_ID,
    S.RANK,
    S.SCORE,
    S.SCORE_SHARE,
    S.PRODUCT_ID,
    S.SEGMENT,
    S.QUALIFIES,
    S.REWARD_IF_EARNED,
    S.EXPECTED_REWARD,
]


@dataclass(frozen=True)
class Audience:
    """Who to target with an offer.

    Attributes
    ----------
    offer : Series
        The offer's row of the rewards file.
    members : DataFrame
        :data:`AUDIENCE_COLUMNS`, best first (after ``top``): ``score_share`` is the score over
        the top score; ``product_id`` is the product of the offer's scope the customer scored
        highest; ``reward_if_earned`` / ``expected_reward`` are in currency
        (recsys.rewards.offer_book).
    sizes : DataFrame
        Over the whole audience (before ``top``): ``min_score_share``, ``customers``,
        ``expected_cost`` (each earns the reward once) and ``expected_cost_weighted`` (times the
        likelihood of reaching ``min_spend``).
    excluded : dict
        Customers left out: ``segment``, ``used_up`` (cap reached), ``recent_buyers``.
    status : str
        The offer's status on the as-of day (active, expired, upcoming).
    """

    offer: pd.Series
    members: pd.DataFrame
    sizes: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    status: str = ""
    as_of: pd.Timestamp | None = None


def _find_offer(rewards: pd.DataFrame, offer_id: str) -> pd.Series:
    ids = rewards[S.OFFER_ID].astype(str)
    hit = np.flatnonzero(ids.to_numpy() == str(offer_id))
    if not hit.size:
        raise UnknownOfferError(offer_id, sorted(ids.tolist()))
    return rewards.iloc[hit[0]]


def _offer_columns(pipe: RecommenderPipeline, offer: pd.Series) -> np.ndarray:
    """Product columns the offer applies to (its product, or every product of its category)."""
    product, category = offer.get(S.PRODUCT_ID), offer.get(S.CATEGORY)
    if isinstance(product, str) and product.strip():
        return pipe.products_.indices_of([product], missing="drop")
    if isinstance(category, str) and category.strip():
        in_category = pipe.catalogue_[S.CATEGORY].astype(str).to_numpy() == category.strip()
        return np.flatnonzero(in_category)
    return np.array([], dtype=np.int64)


def offer_audience(
    pipe: RecommenderPipeline,
    offer_id: str,
    *,
    top: int | None = None,
    as_of: object | None = None,
    exclude_recent_days: int | None = 30,
    aggregate: Aggregate = "max",
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> Audience:
    """The customers most likely to buy an offer's product or category, best first.

    Parameters
    ----------
    pipe : RecommenderPipeline
        Fitted.
    offer_id : str
        Raises :class:`UnknownOfferError` when the model's rewards lack it.
    top : int, optional
        Keep only the best ``top`` members (sizes still describe the whole audience).
    as_of : date-like, optional
        Default the model's as-of day.
    exclude_recent_days : int or None, default 30
        Leave out customers who bought the product (any product of the category) on or after
        ``as_of - exclude_recent_days`` days; None keeps them. Without purchase dates every
        past buyer counts as recent.
    aggregate : {"max", "sum"}
        How a category offer combines the scores of its products.
    thresholds : sequence of float
        Shares of the top score at which :attr:`Audience.sizes` counts customers.
    chunk_size : int, optional
        Customers scored together (bounds memory).
    """
    if aggregate not in ("max", "sum"):
        raise RecsysError(f"aggregate={aggregate!r}: use 'max' or 'sum'.")
    book = pipe.offer_book(as_of)
    offer = _find_offer(book.rewards, offer_id)
    cols = _offer_columns(pipe, offer)
    eligible, excluded = _eligible_customers(pipe, offer, cols, book.as_of, exclude_recent_days)
    rows = np.flatnonzero(eligible)
    scores, best_cols = _audience_scores(pipe, rows, cols, aggregate, chunk_size, progress)
    members = _members(pipe, book, offer, rows, scores, best_cols)
    sizes = _sizes(members, thresholds)
    if top is not None:
        members = members.head(int(top))
    status = str(offer_status(offer.to_frame().T, book.as_of).iloc[0])
    return Audience(offer, members, sizes, excluded, status, book.as_of)


def _eligible_customers(
    pipe: RecommenderPipeline,
    offer: pd.Series,
    cols: np.ndarray,
    day: pd.Timestamp,
    exclude_recent_days: int | None,
) -> tuple[np.ndarray, dict[str, int]]:
    """Who may get the offer (segment, caps, recent buyers), and how many each rule left out."""
    n_customers = len(pipe.customers_)
    ids = pipe.customers_.ids
    eligible = np.ones(n_customers, dtype=bool)
    excluded: dict[str, int] = {}
    segment = offer.get(S.SEGMENT)
    if isinstance(segment, str) and segment.strip():
        theirs = (
            pipe.segments_.astype(str).to_numpy() == segment.strip()
            if pipe.segments_ is not None
            else np.zeros(n_customers, dtype=bool)
        )
        excluded["segment"] = int((eligible & ~theirs).sum())
        eligible &= theirs
    cap = pd.array([offer.get(S.MAX_PER_CUSTOMER)] * n_customers, dtype="Int64")
    used_up = capped(
        ids,
        np.full(n_customers, str(offer[S.OFFER_ID]), dtype=object),
        cap,
        getattr(pipe, "redeemed_", None),
    )
    excluded["used_up"] = int((eligible & used_up).sum())
    eligible &= ~used_up
    if exclude_recent_days is not None and cols.size:
        recent = _recent_buyers(pipe, cols, day, int(exclude_recent_days))
        excluded["recent_buyers"] = int((eligible & recent).sum())
        eligible &= ~recent
    return eligible, excluded


def _members(
    pipe: RecommenderPipeline,
    book: OfferBook,
    offer: pd.Series,
    rows: np.ndarray,
    scores: np.ndarray,
    best_cols: np.ndarray,
) -> pd.DataFrame:
    """The scored customers, best first (score, then id), with the offer's value to each."""
    ids = pipe.customers_.ids
    keep = scores > 0
    rows, scores, best_cols = rows[keep], scores[keep], best_cols[keep]
    order = np.lexsort((ids[rows].astype(str), -scores))
    rows, scores, best_cols = rows[order], scores[order], best_cols[order]
    category = offer.get(S.CATEGORY)
    product_categories = pipe.catalogue_[S.CATEGORY].to_numpy(dtype=object)[best_cols]
    if isinstance(category, str) and category.strip():
        product_categories = np.full(rows.size, category.strip(), dtype=object)
    valued = book.value(
        pd.DataFrame(
            {
                S.CUSTOMER_ID: ids[rows],
                S.CATEGORY: product_categories,
                S.REWARD_TYPE: np.full(rows.size, offer.get(S.REWARD_TYPE), dtype=object),
                S.REWARD_VALUE: np.full(rows.size, offer.get(S.REWARD_VALUE), dtype=np.float64),
                S.MIN_SPEND: np.full(rows.size, offer.get(S.MIN_SPEND), dtype=np.float64),
            }
        )
    )
    segments = (
        pipe.segments_.to_numpy()[rows]
        if pipe.segments_ is not None
        else np.full(rows.size, None, dtype=object)
    )
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: ids[rows],
            S.RANK: np.arange(1, rows.size + 1, dtype=np.int64),
            S.SCORE: scores,
            S.SCORE_SHARE: scores / scores[0] if rows.size else scores,
            S.PRODUCT_ID: pipe.products_.ids[best_cols],
            S.SEGMENT: segments,
            S.QUALIFIES: valued[S.QUALIFIES].to_numpy(),
            S.REWARD_IF_EARNED: valued[S.REWARD_IF_EARNED].to_numpy(),
            S.EXPECTED_REWARD: valued[S.EXPECTED_REWARD].to_numpy(),
        }
    )


def _sizes(members: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """Audience size and cost (every member earns the reward once) at each score threshold."""
    rows = []
    for t in thresholds:
        inside = members[S.SCORE_SHARE] >= t
        rows.append(
            {
                "min_score_share": float(t),
                "customers": int(inside.sum()),
                "expected_cost": float(members.loc[inside, S.REWARD_IF_EARNED].sum()),
                "expected_cost_weighted": float(members.loc[inside, S.EXPECTED_REWARD].sum()),
            }
        )
    return pd.DataFrame(rows)


def _recent_buyers(
    pipe: RecommenderPipeline, cols: np.ndarray, day: pd.Timestamp, window: int
) -> np.ndarray:
    last = getattr(pipe, "last_purchase_", None)
    if last is None:  # no dates: any past purchase counts as recent
        return np.asarray(pipe.purchased_[:, cols].max(axis=1).todense()).ravel() > 0
    # Stored as days since 1970-01-01 plus one (see recsys.rewards.offer_book.last_purchase_days).
    since = (day - pd.Timestamp("1970-01-01")).days - window + 1
    latest = np.asarray(last[:, cols].max(axis=1).todense()).ravel()
    return latest >= since


def _audience_scores(
    pipe: RecommenderPipeline,
    rows: np.ndarray,
    cols: np.ndarray,
    aggregate: Aggregate,
    chunk_size: int | None,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Score of each row for the offer's products, and the best of those products (column)."""
    scores = np.zeros(rows.size, dtype=np.float64)
    best = np.zeros(rows.size, dtype=np.int64)
    if not cols.size:
        return scores, best
    codes_all = pipe.segment_codes_
    # Neighbour lists kept by an earlier pass over every customer (the Rewards page's reach):
    # the scores are the same sums over the same neighbours, without searching them again.
    table = pipe.neighbor_table() if hasattr(pipe, "neighbor_table") else None
    size = chunk_size or (8192 if table is not None else 1024)
    for start in range(0, rows.size, size):
        chunk = rows[start : start + size]
        codes = None if codes_all is None else codes_all[chunk]
        graph = (
            None
            if table is None
            else neighbors_to_graph(table[0][chunk], table[1][chunk], len(pipe.customers_))
        )
        full = pipe.score_rows(pipe.X_[chunk], chunk, codes, graph=graph)
        sub = full[:, cols] if sp.issparse(full) else sp.csr_matrix(np.asarray(full)[:, cols])
        sub = sp.csr_matrix(sub)
        part = slice(start, start + chunk.size)
        best[part] = cols[np.asarray(sub.argmax(axis=1)).ravel()]
        combine = sub.max(axis=1) if aggregate == "max" else sub.sum(axis=1)
        scores[part] = np.asarray(combine.todense() if sp.issparse(combine) else combine).ravel()
        if progress is not None:
            done = min(start + size, rows.size)
            progress(done / max(rows.size, 1), f"{done:,} of {rows.size:,} customers scored")
    return scores, best
