"""Recommendation slots, and popular products for the slots a model leaves empty.

A batch of recommendations is a :class:`Slots`: four ``m x n`` arrays (product column with ``-1``
padding, score, support, reason code). Customers without purchases, or whose neighbours have too
little to offer, get their free slots filled by :class:`PopularityFallback`: first with what is
popular in their segment (when known), then with what is popular overall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from recsys.data import schema as S

__all__ = [
    "OFFER_BOOST",
    "MODEL",
    "POPULAR",
    "POPULAR_IN_SEGMENT",
    "REASON_NAMES",
    "PopularityFallback",
    "Slots",
]

# Reason codes per slot (-1 marks padding), and the names the frames show for them.
MODEL, POPULAR, POPULAR_IN_SEGMENT, OFFER_BOOST = 0, 1, 2, 3
REASON_NAMES = np.array(
    [S.REASON_NEIGHBORS, S.REASON_POPULAR, S.REASON_POPULAR_IN_SEGMENT, S.REASON_OFFER_BOOST],
    dtype=object,
)


@dataclass
class Slots:
    """Ranked recommendations of ``m`` rows, ``n`` slots each.

    ``items`` are product columns (``-1`` = empty slot), ``scores`` the model's scores (NaN when
    empty), ``support`` how many neighbours bought the product, ``reasons`` a code of
    :data:`REASON_NAMES` (``-1`` when empty).
    """

    items: np.ndarray
    scores: np.ndarray
    support: np.ndarray
    reasons: np.ndarray

    def take_rows(self, rows: np.ndarray) -> Slots:
        return Slots(self.items[rows], self.scores[rows], self.support[rows], self.reasons[rows])


class PopularityFallback:
    """Fills empty slots with popular products, within the segment first.

    Parameters
    ----------
    purchased : csr_matrix of shape (n_customers, n_products)
        1 where a customer bought a product.
    segment_codes : ndarray of int, optional
        Each customer's segment code (``-1`` unknown); None without segments.
    n_segments : int
        Number of segment codes.

    Examples
    --------
    >>> purchased = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=float))
    >>> fallback = PopularityFallback(purchased, None, 0)
    >>> empty = Slots(np.full((1, 2), -1), np.full((1, 2), np.nan), np.zeros((1, 2), int),
    ...               np.full((1, 2), -1))
    >>> fallback.fill(empty, None, None).items.tolist()
    [[0, 1]]
    """

    def __init__(
        self, purchased: sp.csr_matrix, segment_codes: np.ndarray | None, n_segments: int
    ) -> None:
        n_customers = purchased.shape[0]
        # Share of customers who bought each product, overall and per segment (small: segments
        # x products).
        self.share_ = np.asarray(purchased.sum(axis=0)).ravel() / max(n_customers, 1)
        self.segment_share_: np.ndarray | None = None
        if segment_codes is not None and n_segments:
            known = segment_codes >= 0
            indicator = sp.csr_matrix(
                (np.ones(known.sum()), (segment_codes[known], np.flatnonzero(known))),
                shape=(n_segments, n_customers),
            )
            counts = np.asarray((indicator @ purchased).todense())
            sizes = np.bincount(segment_codes[known], minlength=n_segments)
            self.segment_share_ = counts / np.maximum(sizes, 1)[:, None]

    def fill(
        self,
        slots: Slots,
        exclude: sp.csr_matrix | None,
        segment_codes: np.ndarray | None,
    ) -> Slots:
        """``slots`` with their empty places filled; the model's own slots keep their places."""
        if self.segment_share_ is not None and segment_codes is not None:
            short = np.flatnonzero((slots.items < 0).any(axis=1) & (segment_codes >= 0))
            if short.size:
                groups = segment_codes[short].astype(np.int64)
                slots = _fill(
                    slots, exclude, short, self.segment_share_, groups, POPULAR_IN_SEGMENT
                )
        short = np.flatnonzero((slots.items < 0).any(axis=1))
        if short.size:
            groups = np.zeros(short.size, dtype=np.int64)
            slots = _fill(slots, exclude, short, self.share_[None, :], groups, POPULAR)
        return slots


def _fill(
    slots: Slots,
    exclude: sp.csr_matrix | None,
    short: np.ndarray,
    shares: np.ndarray,
    groups: np.ndarray,
    reason: int,
) -> Slots:
    """Append the most popular products to the ``short`` rows' free slots.

    ``shares[groups[i]]`` is the popularity of every product for short row ``i``. Products
    already purchased (``exclude``) or already in the row are skipped; padding moves to the end.
    Same picks as ranking the shares with ``top_n`` (strictly positive, ties by lower column),
    without a dense rows x products array: each row walks its group's popularity order.
    """
    part = slots.take_rows(short)
    n = part.items.shape[1]
    mask_rows, mask_slots = np.nonzero(part.items >= 0)
    blocked = sp.csr_matrix(
        (np.ones(mask_rows.size), (mask_rows, part.items[mask_rows, mask_slots])),
        shape=(short.size, shares.shape[1]),
    )
    if exclude is not None:
        blocked = blocked + exclude[short]
    blocked = blocked.tocsr()
    used = np.unique(groups)
    orders = np.full((shares.shape[0], shares.shape[1]), -1, dtype=np.int64)
    for group in used:  # a handful of segments: one popularity order each
        order = np.argsort(-shares[group], kind="stable")
        order = order[shares[group][order] > 0]
        orders[group, : order.size] = order
    fill_items = _walk_popular(
        orders, groups, blocked.indptr.astype(np.int64), blocked.indices.astype(np.int64), n,
        shares.shape[1],
    )  # fmt: skip
    picked = np.where(fill_items >= 0, fill_items, 0)
    fill_scores = np.where(fill_items >= 0, shares[groups[:, None], picked], np.nan)
    merged = Slots(
        np.concatenate([part.items, fill_items], axis=1),
        np.concatenate([part.scores, fill_scores], axis=1),
        np.concatenate([part.support, np.zeros_like(fill_items)], axis=1),
        np.concatenate([part.reasons, np.where(fill_items >= 0, reason, -1)], axis=1),
    )
    # Stable: model slots keep their order, popular ones follow, padding goes last.
    order = np.argsort(merged.items < 0, axis=1, kind="stable")[:, :n]
    out = Slots(slots.items.copy(), slots.scores.copy(), slots.support.copy(), slots.reasons.copy())
    for name in ("items", "scores", "support", "reasons"):
        getattr(out, name)[short] = np.take_along_axis(getattr(merged, name), order, axis=1)
    return out


@numba.njit(cache=True, nogil=True)
def _walk_popular(
    orders: np.ndarray,
    groups: np.ndarray,
    blocked_ptr: np.ndarray,
    blocked_idx: np.ndarray,
    n: int,
    n_products: int,
) -> np.ndarray:
    """For each row, the first ``n`` products of its group's order that it does not block."""
    m = groups.shape[0]
    picks = np.full((m, n), -1, dtype=np.int64)
    mark = np.zeros(n_products, dtype=np.bool_)
    for row in range(m):
        for j in range(blocked_ptr[row], blocked_ptr[row + 1]):
            mark[blocked_idx[j]] = True
        order = orders[groups[row]]
        found = 0
        for at in range(order.shape[0]):
            item = order[at]
            if item < 0 or found == n:
                break
            if not mark[item]:
                picks[row, found] = item
                found += 1
        for j in range(blocked_ptr[row], blocked_ptr[row + 1]):
            mark[blocked_idx[j]] = False
    return picks
