"""Reach of every offer in the customers' top-N recommendations, counted block by block.

An offer **reaches** a customer when at least one of the customer's top ``n`` recommended
products qualifies for it on the day (product or category match, segment rule, caps): the
usable pairs of :meth:`recsys.rewards.offer_book.OfferBook.pairs`. At a million customers those
pairs are tens of millions of rows, so :func:`offer_reach` never gathers them: it walks the
customers in the export's chunks (:meth:`~recsys.pipeline.RecommenderPipeline.iter_slots`, the
recommendations as codes), matches each chunk on integer codes
(:meth:`~recsys.rewards.offer_book.OfferBook.usable_pairs`) and keeps only the aggregates:
customers per offer, customers per number of distinct offers, customers reached, the customer
with the most offers, and each offer's best-scored customers. Memory is one chunk plus a few
numbers per offer, whatever the number of customers.

Counting every customer costs one neighbour search per customer: minutes at a million. A seeded
sample of customers (:func:`reach_sample`, ``customers=``) gives the same figures as estimates
(:meth:`OfferReach.scaled`) in a fraction of that time; the dashboard shows those first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsys.data import schema as S
from recsys.errors import RecsysError

if TYPE_CHECKING:  # type hints only: reach sits above the pipeline
    from recsys.pipeline import RecommenderPipeline

__all__ = [
    "DEFAULT_REACH_SAMPLE",
    "REACH_CHUNK_SIZE",
    "TOP_CUSTOMERS",
    "TOP_CUSTOMER_COLUMNS",
    "OfferReach",
    "offer_reach",
    "reach_sample",
]

Progress = Callable[[float, str], None]

# Customers matched together: the export's chunk (recsys.campaigns.export.EXPORT_CHUNK_SIZE),
# large enough that the per-chunk work is noise, small enough that a chunk stays tens of MB.
REACH_CHUNK_SIZE = 4096
TOP_CUSTOMERS = 20
"""Customers kept per offer by default (the best scored; see :attr:`OfferReach.top`)."""
TOP_CUSTOMER_COLUMNS = [S.CUSTOMER_ID, S.PRODUCT_ID, S.PRODUCT_NAME, S.RANK, S.SCORE]
DEFAULT_REACH_SAMPLE = 20_000
"""Customers counted for an estimate (:func:`reach_sample`): a share of customers reached is
then known to within about +/-0.7 percentage points (95 %), whatever the portfolio's size."""


@dataclass(frozen=True)
class OfferReach:
    """The reach of every offer in the top ``n`` recommendations of every customer.

    Attributes
    ----------
    n : int
        Recommendations per customer searched for offers.
    as_of : Timestamp
        Day on which offers had to be valid.
    n_customers : int
        Customers the figures are about: every customer of the model, or the sample counted
        (see ``n_total``; :meth:`scaled` turns a sample's counts into estimates for all).
    audience : Series
        Distinct customers reached per offer valid on the day (``offer_id`` index, int64,
        0 included), in the book's order of valid offers.
    offers_per_customer : DataFrame
        ``n_offers``, ``customers``: how many reached customers have each number of distinct
        offers (ascending, counts >= 1 only).
    n_reached : int
        Customers with at least one offer.
    most_offers_customer : str or None
        The customer with the most distinct offers (the smallest id among ties), None when
        nobody is reached.
    top : DataFrame
        ``offer_id`` plus :data:`TOP_CUSTOMER_COLUMNS`: per offer its best-scored reached
        customers (each with their best-scored product carrying the offer), score descending
        then customer id, at most the ``top_customers`` asked for per offer (of those counted).
    n_total : int
        Customers of the model; more than ``n_customers`` for a sample.
    n_counted : int
        Customers actually matched (the sample's size; ``n_customers`` until :meth:`scaled`).
    """

    n: int
    as_of: pd.Timestamp
    n_customers: int
    audience: pd.Series
    offers_per_customer: pd.DataFrame
    n_reached: int
    most_offers_customer: str | None
    top: pd.DataFrame
    n_total: int = -1  # -1: every customer (set by __post_init__)
    n_counted: int = -1

    def __post_init__(self) -> None:
        if self.n_total < 0:
            object.__setattr__(self, "n_total", self.n_customers)
        if self.n_counted < 0:
            object.__setattr__(self, "n_counted", self.n_customers)

    @property
    def sampled(self) -> bool:
        """Whether the figures come from a sample of the customers (estimates)."""
        return self.n_counted < self.n_total

    def scaled(self) -> OfferReach:
        """The figures for every customer: a sample's counts times ``n_total / n_counted``,
        rounded (the customers reached per offer, per number of offers, in all; the latter
        apportioned so that they add up to the customers reached); itself when every customer
        was counted. The best-scored customers stay those of the sample."""
        if not self.sampled or self.n_counted == 0:
            return self
        factor = self.n_total / self.n_counted
        n_reached = min(round(self.n_reached * factor), self.n_total)
        buckets = self.offers_per_customer[S.CUSTOMERS].to_numpy()
        per_customer = self.offers_per_customer.assign(
            **{S.CUSTOMERS: _apportion(buckets, n_reached)}
        )
        audience = np.rint(self.audience.to_numpy(dtype=np.float64) * factor).astype(np.int64)
        return replace(
            self,
            n_customers=self.n_total,
            audience=pd.Series(audience, index=self.audience.index, name=S.CUSTOMERS),
            offers_per_customer=per_customer,
            n_reached=n_reached,
        )

    @property
    def coverage(self) -> float:
        """Share of customers with at least one offer in their top ``n`` (0..1)."""
        return self.n_reached / self.n_customers if self.n_customers > 0 else 0.0

    def top_customers(self, offer_id: str) -> pd.DataFrame:
        """:attr:`top` of one offer (:data:`TOP_CUSTOMER_COLUMNS`, best first); empty for an
        offer that reaches nobody or is not valid on the day."""
        rows = self.top[self.top[S.OFFER_ID] == str(offer_id)]
        return rows[TOP_CUSTOMER_COLUMNS].reset_index(drop=True)


class _Tally:
    """The running aggregates of :func:`offer_reach` (a few numbers per offer)."""

    def __init__(self, n_offers: int, keep: int) -> None:
        self.n_offers, self.keep = n_offers, keep
        self.audience = np.zeros(n_offers, dtype=np.int64)
        self.histogram = np.zeros(1, dtype=np.int64)  # index: distinct offers per customer
        self.most = (0, -1)  # (distinct offers, customer row) of the customer with the most
        # The kept candidates of every offer, parallel arrays: offer, -score, row, product, rank.
        empty_int, empty_float = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        self.best = (empty_int, empty_float, empty_int, empty_int, empty_int)

    def add(
        self,
        customer: np.ndarray,
        offer: np.ndarray,
        score: np.ndarray,
        product: np.ndarray,
        rank: np.ndarray,
    ) -> None:
        """Count one chunk's usable pairs (each customer is in one chunk only).

        ``customer`` rows ascend with the customer ids (the vocabulary is sorted), so "then
        by id" is "then by row" everywhere below.
        """
        if not offer.size:
            return
        # Each (customer, offer) once, keeping its best-scored recommendation; among equal
        # scores the one ranked first (the long frame's order, which the old frame kept).
        order = np.lexsort((rank, -score, customer, offer))
        offer, customer = offer[order], customer[order]
        first = np.ones(offer.size, dtype=bool)
        first[1:] = (offer[1:] != offer[:-1]) | (customer[1:] != customer[:-1])
        offer, customer = offer[first], customer[first]
        score, product, rank = score[order][first], product[order][first], rank[order][first]
        self.audience += np.bincount(offer, minlength=self.n_offers)
        distinct, per_customer = np.unique(customer, return_counts=True)
        counts = np.bincount(per_customer)
        if counts.size > self.histogram.size:
            counts[: self.histogram.size] += self.histogram
            self.histogram = counts
        else:
            self.histogram[: counts.size] += counts
        most = int(per_customer.max())
        if most > self.most[0]:  # strictly more: earlier chunks hold the smaller ids
            self.most = (most, int(distinct[np.argmax(per_customer == most)]))
        self._keep_best(offer, -score, customer, product, rank)

    def _keep_best(self, *arrays: np.ndarray) -> None:
        """Merge the chunk's (offer, -score, row, ...) pairs into the kept best per offer."""
        offer, neg_score, row, product, rank = (
            np.concatenate([kept, new]) for kept, new in zip(self.best, arrays, strict=True)
        )
        order = np.lexsort((row, neg_score, offer))
        offer = offer[order]
        starts = np.searchsorted(offer, offer, side="left")
        within = np.arange(offer.size) - starts
        keep = order[within < self.keep]
        self.best = (offer[within < self.keep], neg_score[keep], row[keep], product[keep],
                     rank[keep])  # fmt: skip


def offer_reach(
    pipe: RecommenderPipeline,
    n: int = 10,
    *,
    customers: np.ndarray | None = None,
    as_of: object | None = None,
    top_customers: int = TOP_CUSTOMERS,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    n_jobs: int | None = -1,
    keep_neighbors: bool = False,
) -> OfferReach:
    """Count every offer's reach in every customer's top ``n`` recommendations.

    Parameters
    ----------
    pipe : RecommenderPipeline
        Fitted; its recommendations are ranked for ``as_of`` (it matters with a reward boost),
        exactly as in the export and the customer explorer.
    n : int, default 10
        Recommendations per customer.
    customers : array of customer ids, optional
        Count only these known customers (e.g. :func:`reach_sample`); default every customer.
        The result keeps ``n_total`` (the model's customers) for :meth:`OfferReach.scaled`.
    as_of : date-like, optional
        Day on which offers must be valid; default the model's as-of day.
    top_customers : int, default 20
        Best-scored customers kept per offer (:attr:`OfferReach.top`).
    chunk_size : int, optional
        Customers matched together (bounds memory); default :data:`REACH_CHUNK_SIZE`.
    progress : callable, optional
        ``progress(fraction, message)`` after each chunk ("12,288 of 1,000,000 customers").
    n_jobs : int, optional
        Threads of the neighbour search (see ``iter_recommendations``); results do not depend
        on it.
    keep_neighbors : bool, default False
        Keep every customer's neighbour lists on the pipeline (see
        :meth:`~recsys.pipeline.RecommenderPipeline.neighbor_table`), so that offer audiences
        and later passes need no new search (the dashboard does; costs 12 bytes per customer
        and neighbour). Only a pass over every customer keeps them.

    Returns
    -------
    OfferReach

    Examples
    --------
    >>> from recsys.data.dataset import load_dataset
    >>> from recsys.pipeline import RecommenderPipeline
    >>> from recsys.params import ModelParams
    >>> purchases = b"customer_id,product_id\\na,x\\na,y\\nb,x\\nb,y\\nb,z\\nc,z\\n"
    >>> rewards = b"offer_id,product_id\\nOZ,z\\n"
    >>> pipe = RecommenderPipeline(ModelParams(n_neighbors=2)).fit(
    ...     load_dataset(purchases, rewards=rewards))
    >>> reach = offer_reach(pipe, n=1)
    >>> reach.audience.to_dict(), reach.n_reached, reach.most_offers_customer
    ({'OZ': 1}, 1, 'a')
    """
    n = _whole(n, "n", 1)
    top_customers = _whole(top_customers, "top_customers", 0)
    book = pipe.offer_book(as_of)
    offers = book.day_offers
    tally = _Tally(len(offers), top_customers)
    counted_rows = None if customers is None else _known_rows(pipe, customers)
    if len(offers):
        chunks = pipe.iter_slots(
            None if counted_rows is None else pipe.customers_.ids[counted_rows],
            n,
            chunk_size=chunk_size or REACH_CHUNK_SIZE,
            progress=progress,
            as_of=as_of,
            n_jobs=n_jobs,
            keep_neighbors=keep_neighbors,
        )
    else:  # nothing is valid on the day: nobody can be reached, no pass is needed
        chunks = iter(())
        if progress is not None:
            progress(1.0, "no offer is valid on the day")
    for rows, slots in chunks:
        codes = pipe.slot_codes(rows, slots, as_of)
        rec, offer, _ = book.usable_pairs(codes)
        # rec indexes the filled slots in the order slot_codes lists them (row by row).
        row_idx, slot = np.nonzero(slots.items >= 0)
        row_idx, slot = row_idx[rec], slot[rec]
        tally.add(
            codes.customer[rec],
            offer,
            slots.scores[row_idx, slot].astype(np.float64),
            codes.product[rec],
            (slot + 1).astype(np.int64),
        )
    counted = len(pipe.customers_) if counted_rows is None else len(counted_rows)
    return _result(pipe, tally, offers, n, book.as_of, counted)


def reach_sample(
    pipe: RecommenderPipeline, size: int = DEFAULT_REACH_SAMPLE, seed: int = 0
) -> np.ndarray | None:
    """A seeded sample of ``size`` of the model's customer ids (sorted), or None when the
    model has no more customers than that (count them all).

    Examples
    --------
    >>> from recsys.data.dataset import load_dataset
    >>> from recsys.pipeline import RecommenderPipeline
    >>> purchases = b"customer_id,product_id\\na,x\\nb,x\\nc,y\\n"
    >>> pipe = RecommenderPipeline().fit(load_dataset(purchases))
    >>> reach_sample(pipe, 2).tolist(), reach_sample(pipe, 3)
    (['b', 'c'], None)
    """
    size = _whole(size, "size", 1)
    ids = pipe.customers_.ids
    if len(ids) <= size:
        return None
    rows = np.sort(np.random.default_rng(seed).choice(len(ids), size, replace=False))
    return np.asarray(ids[rows])


def _known_rows(pipe: RecommenderPipeline, customers: np.ndarray) -> np.ndarray:
    """Sorted distinct rows of ``customers`` (ids); an unknown id raises
    :class:`~recsys.errors.UnknownCustomerError`, naming it. Ascending rows keep every chunk's
    customers in id order, as the tally expects."""
    return np.unique(pipe.customers_.indices_of(customers))


def _apportion(counts: np.ndarray, total: int) -> np.ndarray:
    """``counts`` scaled to add up to ``total`` exactly (largest remainders get the rest).

    >>> _apportion(np.array([1, 1, 1]), 10).tolist()
    [4, 3, 3]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.sum() <= 0:
        return np.zeros(counts.size, dtype=np.int64)
    exact = counts * (total / counts.sum())
    out = np.floor(exact).astype(np.int64)
    rest = int(total - out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def _whole(value: object, name: str, minimum: int) -> int:
    """``value`` as an int, or a clear error (a bool or a float is not a count)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise RecsysError(f"{name}={value!r}: give a whole number >= {minimum}.")
    return int(value)


def _result(
    pipe: RecommenderPipeline,
    tally: _Tally,
    offers: pd.DataFrame,
    n: int,
    day: pd.Timestamp,
    counted: int,
) -> OfferReach:
    ids = pd.Index(offers[S.OFFER_ID].astype("str").to_numpy(), name=S.OFFER_ID)
    audience = pd.Series(tally.audience, index=ids, name=S.CUSTOMERS)
    histogram = tally.histogram
    has = np.flatnonzero(histogram[1:] > 0) + 1
    per_customer = pd.DataFrame(
        {S.N_OFFERS: has.astype(np.int64), S.CUSTOMERS: histogram[has].astype(np.int64)}
    )
    offer, neg_score, row, product, rank = tally.best
    catalogue = pipe.catalogue_
    top = pd.DataFrame(
        {
            S.OFFER_ID: pd.array(ids.to_numpy()[offer], dtype="str"),
            S.CUSTOMER_ID: pd.array(pipe.customers_.ids[row], dtype="str"),
            S.PRODUCT_ID: pipe.products_.take(product),
            S.PRODUCT_NAME: pd.array(catalogue[S.PRODUCT_NAME], dtype="str").take(product),
            S.RANK: rank,
            S.SCORE: -neg_score,
        }
    )
    most = tally.most[1]
    return OfferReach(
        n=n,
        as_of=day,
        n_customers=counted,
        audience=audience,
        offers_per_customer=per_customer,
        n_reached=int(histogram[1:].sum()),
        most_offers_customer=None if most < 0 else str(pipe.customers_.ids[most]),
        top=top,
        n_total=len(pipe.customers_),
        n_counted=counted,
    )
