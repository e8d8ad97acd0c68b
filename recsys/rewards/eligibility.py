"""Reward offers: validity, eligibility rules, and matching recommendations to offers.

An offer is **eligible** for a recommended product when

- it names that product (``match == "product"``) or the product's category
  (``match == "category"``); an offer matching both ways counts once, as a product match;
- it is valid on the as-of day: ``start_date <= as_of <= end_date``, compared by calendar day,
  both ends inclusive, a missing date meaning open-ended on that side;
- its segment is empty (everyone) or equal to the customer's segment.

``min_spend`` and ``max_per_customer`` are carried along: ruling offers out by spend and by
redemptions, and ranking them, is :class:`recsys.rewards.offer_book.OfferBook`'s job.

Matching is done on integer codes (:class:`OfferIndex`): each offer list is grouped by product
and by category once, and every recommendation's offers are gathered with array arithmetic, no
Python loop and no join per chunk of recommendations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from recsys.data import schema as S

__all__ = [
    "OfferIndex",
    "ACTIVE",
    "EXPIRED",
    "MATCH_CATEGORY",
    "MATCH_PRODUCT",
    "OFFER_COLUMNS",
    "UPCOMING",
    "eligible_offers",
    "offer_dtypes",
    "offer_status",
    "text_keys",
]

logger = logging.getLogger(__name__)

MATCH_PRODUCT = "product"
MATCH_CATEGORY = "category"

# Offer statuses returned by offer_status.
ACTIVE = "active"
EXPIRED = "expired"
UPCOMING = "upcoming"

# Offer columns added to each recommendation by eligible_offers, in order.
OFFER_COLUMNS: tuple[str, ...] = (
    S.OFFER_ID,
    S.OFFER_TITLE,
    S.REWARD_TYPE,
    S.REWARD_VALUE,
    S.MIN_SPEND,
    S.START_DATE,
    S.OFFER_END_DATE,
    S.SEGMENT,
    S.MAX_PER_CUSTOMER,
    S.MATCH,
)

AsOf = str | date | datetime | pd.Timestamp | np.datetime64

# The match keys of the valid offers table; the leading underscore keeps them apart from the
# offer columns copied to the pairs.
_KEY_PRODUCT = "_key_product"
_KEY_CATEGORY = "_key_category"

_STRING_COLUMNS = (S.OFFER_ID, S.PRODUCT_ID, S.CATEGORY, S.TITLE, S.REWARD_TYPE, S.SEGMENT)


def offer_status(rewards: pd.DataFrame, as_of: AsOf) -> pd.Series:
    """Status of each offer on the as-of day: ``"active"``, ``"expired"`` or ``"upcoming"``.

    Parameters
    ----------
    rewards : DataFrame
        Offers with the canonical rewards columns (``start_date``/``end_date`` may be missing or
        NaT: open-ended).
    as_of : date-like
        The day to judge on; only its calendar day is used.

    Returns
    -------
    Series of str
        Indexed like ``rewards``, named ``"status"``. An offer is expired when it ended before
        the as-of day, upcoming when it starts after it, and active otherwise (both ends
        inclusive).

    Examples
    --------
    >>> offers = pd.DataFrame({
    ...     "offer_id": ["O1", "O2", "O3"],
    ...     "start_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-03-01"]),
    ...     "end_date": pd.to_datetime(["2026-01-31", "2026-02-01", None]),
    ... })
    >>> offer_status(offers, "2026-02-01").tolist()
    ['expired', 'active', 'upcoming']
    """
    day = _as_day(as_of)
    start = _day_column(rewards, S.START_DATE)
    end = _day_column(rewards, S.END_DATE)
    status = np.where(end.lt(day), EXPIRED, np.where(start.gt(day), UPCOMING, ACTIVE))
    return pd.Series(status, index=rewards.index, name="status", dtype="str")


def eligible_offers(
    recs: pd.DataFrame,
    rewards: pd.DataFrame | None,
    *,
    as_of: AsOf,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """Every offer each recommendation is eligible for (long form, not ranked).

    Which of them is best is the offer book's decision
    (:class:`recsys.rewards.offer_book.OfferBook`), the one rule for every caller.

    Parameters
    ----------
    recs : DataFrame
        Recommendations with ``customer_id``, ``product_id`` and ``category`` (missing category:
        only product offers can match); any other columns are kept.
    rewards : DataFrame or None
        Offers with the canonical rewards columns; ``None`` or empty means no offers.
    as_of : date-like
        The day on which offers must be valid (calendar day, inclusive).
    segments : Series, optional
        Customer segment indexed by ``customer_id``. Without it (or for a customer missing from
        it), only offers open to everyone are eligible.

    Returns
    -------
    DataFrame
        One row per (recommendation, eligible offer), with a fresh index: the columns of
        ``recs`` then :data:`OFFER_COLUMNS` (``segment`` is the offer's; ``match`` is
        ``"product"`` or ``"category"``). Rows follow the order of ``recs``, then the offer id.
        A column of ``recs`` with the same name as an offer column is replaced by the offer's.

    Examples
    --------
    >>> recs = pd.DataFrame({"customer_id": ["C1", "C1"], "product_id": ["P1", "P2"],
    ...                      "category": ["dining", "travel"]})
    >>> offers = pd.DataFrame({"offer_id": ["O1", "O2"], "product_id": ["P1", None],
    ...                        "category": [None, "dining"], "reward_value": [5.0, 10.0]})
    >>> out = eligible_offers(recs, offers, as_of="2026-10-31")
    >>> out[["product_id", "offer_id", "match"]].values.tolist()
    [['P1', 'O1', 'product'], ['P1', 'O2', 'category']]
    """
    return eligible_with(recs, valid_offers(rewards, as_of), segment_lookup(segments))


def eligible_with(
    recs: pd.DataFrame, offers: pd.DataFrame, lookup: pd.Series | None
) -> pd.DataFrame:
    """:func:`eligible_offers` with its per-file work done once, for callers that match many
    chunks of recommendations against the same offers: ``offers`` from :func:`valid_offers`,
    ``lookup`` from :func:`segment_lookup`."""
    base = _base(recs)
    index = OfferIndex.build(offers, lookup)
    rec, offer, by_product = index.match(base[S.CUSTOMER_ID], base[S.PRODUCT_ID], base[S.CATEGORY])
    out = base.iloc[rec].reset_index(drop=True)
    chosen = index.offers.iloc[offer]
    for col in OFFER_COLUMNS[:-1]:
        out[col] = chosen[col].array  # positional: both follow the order of the pairs
    out[S.MATCH] = np.where(by_product, MATCH_PRODUCT, MATCH_CATEGORY)
    return offer_dtypes(out)


def text_keys(values: object) -> pd.Index:
    """Values as a text index for lookups: stripped strings, missing and empty as NA."""
    text = pd.Index(pd.array(np.asarray(values, dtype=object), dtype="str")).str.strip()
    return text.where(text != "", None)


def _groups(keys: pd.Index, order: np.ndarray) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Offers grouped by a key: ``(vocabulary, pointers, offers)`` in CSR layout.

    ``offers[pointers[k]:pointers[k + 1]]`` are the positions of the offers whose key is
    ``vocabulary[k]``, in ``order`` (the offer-id order); offers without a key are left out.
    """
    codes, vocabulary = pd.factorize(keys, use_na_sentinel=True)
    positions = order[codes[order] >= 0]  # offer positions in offer-id order, keyed ones
    by_key = positions[np.argsort(codes[positions], kind="stable")]
    counts = np.bincount(codes[by_key], minlength=len(vocabulary))
    pointers = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return pd.Index(vocabulary), pointers, by_key.astype(np.int64)


def _expand(
    codes: np.ndarray, pointers: np.ndarray, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each row with a code >= 0, every member of its group: ``(row, member)`` arrays."""
    rows = np.flatnonzero(codes >= 0)
    starts = pointers[codes[rows]]
    counts = pointers[codes[rows] + 1] - starts
    total = int(counts.sum())
    repeated = np.repeat(rows, counts)
    # Position within each row's run, added to the run's start: one gather, no loop.
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return repeated, members[np.repeat(starts, counts) + offsets]


@dataclass(frozen=True)
class OfferIndex:
    """Valid offers grouped by product and by category, and segments as codes, for matching.

    Built once per offer list (:meth:`build`); :meth:`match` then finds every eligible
    (recommendation, offer) pair of a chunk with array arithmetic.
    """

    offers: pd.DataFrame  # from valid_offers, with a fresh index: positions are offer numbers
    offer_rank: np.ndarray  # position of each offer in offer-id order (the tie rule)
    offer_product: np.ndarray  # code of each offer's product (-1: a category offer)
    products: pd.Index
    product_pointers: np.ndarray
    product_offers: np.ndarray
    categories: pd.Index
    category_pointers: np.ndarray
    category_offers: np.ndarray
    offer_segment: np.ndarray  # code of each offer's segment, -1 = open to everyone
    customers: pd.Index | None  # customers with a segment, and that segment's code (-2: none)
    customer_segment: np.ndarray

    @classmethod
    def build(cls, offers: pd.DataFrame, lookup: pd.Series | None) -> OfferIndex:
        offers = offers.reset_index(drop=True)
        order = np.argsort(offers[S.OFFER_ID].astype("str").to_numpy(dtype=object), kind="stable")
        rank = np.empty(len(offers), dtype=np.int64)
        rank[order] = np.arange(len(offers))
        products = _groups(text_keys(offers[_KEY_PRODUCT]), order)
        offer_product = products[0].get_indexer(text_keys(offers[_KEY_PRODUCT]))
        categories = _groups(text_keys(offers[_KEY_CATEGORY]), order)
        offer_codes, segments = pd.factorize(text_keys(offers[S.SEGMENT]), use_na_sentinel=True)
        customers, customer_segment = None, np.empty(0, dtype=np.int64)
        if lookup is not None:
            customers = lookup.index
            found = pd.Index(segments).get_indexer(text_keys(lookup.to_numpy(dtype=object)))
            customer_segment = np.where(found >= 0, found, -2).astype(np.int64)
        return cls(
            offers, rank, offer_product, *products, *categories, offer_codes.astype(np.int64),
            customers, customer_segment,
        )  # fmt: skip

    def segment_codes(self, customer_ids: object) -> np.ndarray:
        """Each customer's segment code among the offers' segments (-2: none or no offer's)."""
        n = len(np.asarray(customer_ids, dtype=object))
        if self.customers is None or not len(self.customers):
            return np.full(n, -2, dtype=np.int64)
        at = self.customers.get_indexer(text_keys(customer_ids))
        return np.where(at >= 0, self.customer_segment[np.maximum(at, 0)], -2)

    def product_codes(self, product_ids: object) -> np.ndarray:
        """Each product's code among the offers' products (-1: no offer names it)."""
        return self.products.get_indexer(text_keys(product_ids))

    def category_codes(self, categories: object) -> np.ndarray:
        """Each category's code among the offers' categories (-1: no offer names it)."""
        return self.categories.get_indexer(text_keys(categories))

    def match(
        self, customer_ids: object, product_ids: object, categories: object
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Eligible pairs of recommendations (given by their three columns) and offers.

        Returns ``(rec, offer, by_product)``: the recommendation's position, the offer's
        position in :attr:`offers`, and whether it matched by product (else by category);
        sorted by recommendation, then offer id.
        """
        return self.match_codes(
            self.product_codes(product_ids),
            self.category_codes(categories),
            self.segment_codes(customer_ids),
        )

    def match_codes(
        self, product: np.ndarray, category: np.ndarray, segment: np.ndarray, *, sort: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`match` on codes (:meth:`product_codes`, :meth:`category_codes`,
        :meth:`segment_codes`, one per recommendation); ``sort=False`` leaves the pairs in no
        particular order (for callers that sort them their own way)."""
        by_product = _expand(product, self.product_pointers, self.product_offers)
        by_category = _expand(category, self.category_pointers, self.category_offers)
        # An offer naming both the product and its category counts once, as a product match.
        named = product[by_category[0]]
        twice = (named >= 0) & (self.offer_product[by_category[1]] == named)
        rec = np.concatenate([by_product[0], by_category[0][~twice]])
        offer = np.concatenate([by_product[1], by_category[1][~twice]])
        product_first = np.arange(len(rec)) < len(by_product[0])
        wanted = self.offer_segment[offer]
        if wanted.size and (wanted >= 0).any():
            keep = (wanted < 0) | (wanted == segment[rec])
            rec, offer, product_first = rec[keep], offer[keep], product_first[keep]
        if sort:
            order = np.lexsort((self.offer_rank[offer], rec))
            rec, offer, product_first = rec[order], offer[order], product_first[order]
        return rec, offer, product_first


# --- helpers ------------------------------------------------------------------------------------
def _as_day(as_of: AsOf) -> pd.Timestamp:
    """The as-of calendar day as a tz-naive midnight Timestamp."""
    if as_of is None:
        raise ValueError("as_of is required: the day on which offers must be valid")
    day = pd.Timestamp(as_of)
    if pd.isna(day):
        raise ValueError("as_of is missing (NaT): give the day on which offers must be valid")
    if day.tzinfo is not None:
        # Offer dates are calendar days without a time zone; compare on the local calendar day.
        day = day.tz_localize(None)
    return day.normalize()


def _day_column(rewards: pd.DataFrame, col: str) -> pd.Series:
    """A date column reduced to calendar days (all NaT when the column is absent)."""
    if col not in rewards.columns:
        return pd.Series(pd.NaT, index=rewards.index, dtype="datetime64[ns]")
    values = pd.to_datetime(rewards[col])
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.dt.normalize()


def _canonical_rewards(rewards: pd.DataFrame | None) -> pd.DataFrame:
    """Rewards with every contract column present and typed (tolerates hand-made frames)."""
    names = list(S.REWARDS.names)
    if rewards is None:
        rewards = pd.DataFrame(columns=names)
    frame = rewards.reindex(columns=names).reset_index(drop=True)
    for col in _STRING_COLUMNS:
        text = frame[col].astype("str").str.strip()
        frame[col] = text.mask(text.eq(""))  # empty segment/product/category means "none"
    frame[S.TITLE] = frame[S.TITLE].fillna(frame[S.OFFER_ID])
    frame[S.REWARD_VALUE] = pd.to_numeric(frame[S.REWARD_VALUE]).astype("float64")
    frame[S.MIN_SPEND] = pd.to_numeric(frame[S.MIN_SPEND]).astype("float64").fillna(0.0)
    frame[S.MAX_PER_CUSTOMER] = pd.to_numeric(frame[S.MAX_PER_CUSTOMER]).astype("Int64")
    for col in (S.START_DATE, S.END_DATE):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def _base(recs: pd.DataFrame) -> pd.DataFrame:
    """``recs`` without the columns the offers replace, with a fresh index."""
    missing = [c for c in (S.CUSTOMER_ID, S.PRODUCT_ID, S.CATEGORY) if c not in recs.columns]
    if missing:
        raise ValueError(f"recommendations need the column(s) {missing} to be matched with offers")
    dropped = [c for c in recs.columns if c in OFFER_COLUMNS]
    if dropped:
        logger.debug("columns %s of recs are replaced by the offers' values", dropped)
    return recs.drop(columns=dropped).reset_index(drop=True)


def valid_offers(rewards: pd.DataFrame | None, as_of: AsOf) -> pd.DataFrame:
    """Offers valid on the as-of day, renamed to the output columns plus the match keys."""
    frame = _canonical_rewards(rewards)
    frame = frame.loc[offer_status(frame, as_of).eq(ACTIVE).to_numpy()]
    return frame.rename(
        columns={
            S.PRODUCT_ID: _KEY_PRODUCT,
            S.CATEGORY: _KEY_CATEGORY,
            S.TITLE: S.OFFER_TITLE,
            S.END_DATE: S.OFFER_END_DATE,
        }
    )


def segment_lookup(segments: pd.Series | None) -> pd.Series | None:
    """Customer segments prepared for matching: text ids (first kept), trimmed text values."""
    if segments is None:
        return None
    lookup = segments.copy()
    lookup.index = lookup.index.astype("str")
    return lookup[~lookup.index.duplicated(keep="first")].astype("str").str.strip()


# The contract dtypes of the offer columns, parsed once.
_OFFER_DTYPES = {
    col: pd.api.types.pandas_dtype(dtype)
    for col, dtype in {
        S.OFFER_ID: "str",
        S.OFFER_TITLE: "str",
        S.REWARD_TYPE: "str",
        S.REWARD_VALUE: "float64",
        S.MIN_SPEND: "float64",
        S.START_DATE: "datetime64[ns]",
        S.OFFER_END_DATE: "datetime64[ns]",
        S.SEGMENT: "str",
        S.MAX_PER_CUSTOMER: "Int64",
        S.MATCH: "str",
    }.items()
}


def offer_dtypes(frame: pd.DataFrame, columns: tuple[str, ...] = OFFER_COLUMNS) -> pd.DataFrame:
    """Give the offer columns their contract dtypes, whether or not any offer matched."""
    # Only the columns not in their dtype yet: astype copies even a column already right, a
    # fixed cost that dominates one customer's ten rows.
    changes = {col: _OFFER_DTYPES[col] for col in columns if frame[col].dtype != _OFFER_DTYPES[col]}
    return frame.astype(changes) if changes else frame
