"""Spend realism: can a customer reach an offer, what is the offer worth to them, and caps.

Every customer gets a spend profile at fit time: the median and 80th percentile of their spend
per purchase line (``amount``) in each category, plus the same over all their purchases (used
when they never bought in the category). An offer's ``min_spend`` is then judged against it:

- ``"likely to qualify"``: median >= min_spend (or the offer has no min spend);
- ``"stretch"``: only the 80th percentile reaches it;
- ``"unlikely"``: not even the 80th percentile does;
- ``"unknown"``: the customer has no spend on record (no amounts, or no purchases).

Reward values of different types are put in one unit, **currency at the customer's spend**:
``spend = max(median, min_spend)`` (the typical purchase, or the least spend that earns the
reward; ``min_spend`` alone when the spend is unknown), then

- ``points_multiplier``: ``reward_value x spend x POINT_VALUE`` (one point is worth 0.01);
- ``cashback`` and ``statement_credit``: ``reward_value``;
- ``discount_pct``: ``reward_value / 100 x spend``.

That is the reward *if earned*; the *expected* reward multiplies it by the likelihood of
qualifying (:data:`LIKELIHOOD`: 1 likely or unknown, 0.5 stretch, 0.1 unlikely).

Caps: an offer that a customer already redeemed ``max_per_customer`` times (redemptions file)
is not eligible for them any more. Every recorded redemption counts, whatever its date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.data.codes import factorize_text
from recsys.models.matrix import IdIndex
from recsys.rewards.eligibility import (
    MATCH_CATEGORY,
    MATCH_PRODUCT,
    OFFER_COLUMNS,
    OfferIndex,
    offer_dtypes,
    segment_lookup,
    text_keys,
    valid_offers,
)

__all__ = [
    "LIKELIHOOD",
    "POINT_VALUE",
    "QUALIFY_LIKELY",
    "QUALIFY_STRETCH",
    "QUALIFY_UNKNOWN",
    "QUALIFY_UNLIKELY",
    "OfferBook",
    "RecCodes",
    "RecKeys",
    "SpendProfile",
    "capped",
    "fit_spend_profile",
    "last_purchase_days",
    "qualification",
    "redemption_counts",
    "reward_in_currency",
]

log = logging.getLogger(__name__)

POINT_VALUE = 0.01
"""Currency value of one reward point (a 3x multiplier on 100 spent earns 3.00)."""

QUALIFY_LIKELY = "likely to qualify"
QUALIFY_STRETCH = "stretch"
QUALIFY_UNLIKELY = "unlikely"
QUALIFY_UNKNOWN = "unknown"
LIKELIHOOD: dict[str, float] = {
    QUALIFY_LIKELY: 1.0,
    QUALIFY_STRETCH: 0.5,
    QUALIFY_UNLIKELY: 0.1,
    QUALIFY_UNKNOWN: 1.0,  # no evidence either way: do not penalise
}


@dataclass(frozen=True)
class SpendProfile:
    """Median and 80th-percentile spend per purchase, per (customer, category) and overall.

    Stored compactly: one sorted int64 key per (customer, category) pair that has purchases,
    ``key = customer_code * (n_categories + 1) + category_code + 1``, code 0 meaning "overall".
    """

    customers: pd.Index
    categories: pd.Index
    keys: np.ndarray
    median: np.ndarray
    p80: np.ndarray

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, max(len(self.keys) - 1, 0))
        found = (keys >= 0) & (self.keys[pos] == keys) if len(self.keys) else keys < -1
        median = np.where(found, self.median[pos] if len(self.keys) else np.nan, np.nan)
        p80 = np.where(found, self.p80[pos] if len(self.keys) else np.nan, np.nan)
        return median.astype(np.float64), p80.astype(np.float64)

    def customer_rows(self, customer_ids: object) -> np.ndarray:
        """Each customer's row in the profile (-1: no spend on record)."""
        ids = pd.Index(np.asarray(customer_ids, dtype=object)).astype(str)
        return self.customers.get_indexer(ids)

    def category_codes(self, categories: object) -> np.ndarray:
        """Each category's code in the profile (-1: nobody's spend is in it)."""
        return self.categories.get_indexer(pd.Index(np.asarray(categories, dtype=object)))

    def lookup(self, customer_ids: object, categories: object) -> tuple[np.ndarray, np.ndarray]:
        """Typical spend of each (customer, category) pair: ``(median, p80)``, NaN if unknown.

        A customer without purchases in the category gets their overall figures.

        Examples
        --------
        >>> df = pd.DataFrame({"customer_id": ["a", "a", "a"], "category": ["x", "x", "y"],
        ...                    "amount": [10.0, 30.0, 100.0]})
        >>> median, p80 = fit_spend_profile(df).lookup(["a", "a", "b"], ["x", "z", "x"])
        >>> median.tolist()[:2], float(p80[0]), bool(np.isnan(median[2]))
        ([20.0, 30.0], 26.0, True)
        """
        return self.lookup_codes(self.customer_rows(customer_ids), self.category_codes(categories))

    def lookup_codes(self, rows: np.ndarray, cats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`lookup` on :meth:`customer_rows` and :meth:`category_codes`."""
        width = len(self.categories) + 1
        per_cat = np.where((rows >= 0) & (cats >= 0), rows * width + cats + 1, -1)
        median, p80 = self._find(per_cat.astype(np.int64))
        missing = np.isnan(median)
        if missing.any():
            overall = np.where(rows >= 0, rows * width, -1).astype(np.int64)
            o_median, o_p80 = self._find(overall[missing])
            median[missing], p80[missing] = o_median, o_p80
        return median, p80


def fit_spend_profile(
    purchases: pd.DataFrame, catalogue: pd.DataFrame | None = None
) -> SpendProfile:
    """Build the :class:`SpendProfile` of every customer from purchase lines (vectorised).

    Parameters
    ----------
    purchases : DataFrame
        Canonical purchases; lines without an ``amount`` are ignored. The category comes from
        the line, else from ``catalogue`` by ``product_id``.
    catalogue : DataFrame, optional
        ``product_id`` and ``category`` of each product.

    Returns
    -------
    SpendProfile
        Empty (every lookup NaN, qualification ``"unknown"``) when no line has an amount.
    """
    if S.AMOUNT in purchases.columns:
        amount = pd.to_numeric(purchases[S.AMOUNT], errors="coerce")
    else:
        amount = pd.Series(np.nan, index=purchases.index)
    keep = amount.notna().to_numpy()
    columns = [c for c in (S.CUSTOMER_ID, S.PRODUCT_ID, S.CATEGORY) if c in purchases.columns]
    lines = purchases[columns] if keep.all() else purchases.loc[keep, columns]
    cust_codes, customers = factorize_text(lines[S.CUSTOMER_ID], sort=True)
    cat_codes, categories = _category_codes(lines, catalogue)
    width = len(categories) + 1
    values = amount.to_numpy(dtype=np.float64)[keep]
    base = cust_codes.astype(np.int64) * width
    has_cat = cat_codes >= 0
    keys = np.concatenate([base, base[has_cat] + cat_codes[has_cat] + 1])
    values = np.concatenate([values, values[has_cat]])
    del base, cust_codes, cat_codes, has_cat
    unique, (median, p80) = _group_quantiles(keys, values, (0.5, 0.8))
    return SpendProfile(
        customers=pd.Index(np.asarray(customers, dtype=object)),
        categories=pd.Index(np.asarray(categories, dtype=object)),
        keys=unique,
        median=median.astype(np.float32),
        p80=p80.astype(np.float32),
    )


def _category_codes(
    lines: pd.DataFrame, catalogue: pd.DataFrame | None
) -> tuple[np.ndarray, pd.Index]:
    """Each line's category as a code into the sorted categories (-1: none): the line's own,
    else its product's in ``catalogue``.

    Both vocabularies are factorised where they are small (distinct values, products) and
    merged by code, so no text column as long as the purchases is built.
    """
    if S.CATEGORY in lines:
        line_codes, line_names = factorize_text(lines[S.CATEGORY])
    else:
        line_codes, line_names = np.full(len(lines), -1, dtype=np.int64), pd.Index([], dtype="str")
    product_names = pd.Index([], dtype="str")
    if catalogue is not None and len(catalogue) and S.PRODUCT_ID in lines:
        by_product = catalogue.drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID)[S.CATEGORY]
        product_codes, products = factorize_text(lines[S.PRODUCT_ID])
        per_product, product_names = pd.factorize(by_product.reindex(products).astype("str"))
        from_catalogue = per_product[product_codes]
    categories = pd.Index(line_names.union(product_names).dropna(), dtype="str").sort_values()
    # A trailing -1 makes code -1 (no category) map to -1.
    codes = np.append(categories.get_indexer(line_names), -1)[line_codes]
    if len(product_names):
        of_product = np.append(categories.get_indexer(product_names), -1)[from_catalogue]
        codes = np.where(line_codes >= 0, codes, of_product)
    # Only the categories some line has (a product's may be overridden by all its lines).
    used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
    codes = np.append(np.cumsum(used) - 1, -1)[codes]
    return codes.astype(np.int64), categories[used]


def _sorted_pairs(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, value) pairs sorted by key, then value.

    The values are ranked once and each pair packed into one int64 (key x n + rank): one plain
    sort of integers is several times faster than ``np.lexsort`` on the two columns.
    """
    n = keys.size
    if n == 0 or keys.min() < 0 or int(keys.max()) >= np.iinfo(np.int64).max // n - 1:
        order = np.lexsort((values, keys))
        return keys[order], values[order]
    by_value = np.argsort(values)  # equal values may come in any order: they are equal
    sorted_values = values[by_value]
    packed = keys.astype(np.int64)  # a copy, updated in place to bound the temporaries
    packed *= n
    packed[by_value] += np.arange(n, dtype=np.int64)  # + each value's rank
    del by_value
    packed.sort()
    rank = packed % n
    np.floor_divide(packed, n, out=packed)
    return packed, sorted_values[rank]


def _group_quantiles(
    keys: np.ndarray, values: np.ndarray, quantiles: tuple[float, ...]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted distinct keys and, per quantile, each key's quantile of its values (linear
    interpolation between the two nearest ranks, as pandas and numpy compute it).

    One sort of (key, value) pairs instead of a groupby per quantile.

    >>> _group_quantiles(np.array([2, 1, 2, 2]), np.array([9.0, 5.0, 1.0, 3.0]), (0.5, 1.0))
    (array([1, 2]), [array([5., 3.]), array([5., 9.])])
    """
    keys, values = _sorted_pairs(keys, values)
    first = np.ones(keys.size, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(first)
    last = np.append(starts[1:], keys.size) - 1
    out = []
    for q in quantiles:
        position = starts + (last - starts) * q
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, last)
        out.append(values[below] + (values[above] - values[below]) * (position - below))
    return keys[starts], out


# Qualification as codes, in the order of :data:`_LABELS`; arrays indexed by code give the
# likelihood of qualifying and the order of preference of the best offer ("reachable first":
# unknown counts as reachable).
_LABELS = np.array([QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNLIKELY, QUALIFY_UNKNOWN], object)
_LIKELIHOOD = np.array([LIKELIHOOD[label] for label in _LABELS], dtype=np.float64)
_REACH = np.array([0, 1, 2, 0], dtype=np.int64)
_LABEL_TEXT = pd.array(_LABELS, dtype="str")
_MATCH_TEXT = pd.array([MATCH_PRODUCT, MATCH_CATEGORY], dtype="str")  # by ``not by_product``


def qualification_codes(median: np.ndarray, p80: np.ndarray, min_spend: np.ndarray) -> np.ndarray:
    """:func:`qualification` as codes into ``_LABELS`` (0 likely, 1 stretch, 2 unlikely,
    3 unknown)."""
    median, p80 = np.asarray(median, dtype=np.float64), np.asarray(p80, dtype=np.float64)
    need = np.nan_to_num(np.asarray(min_spend, dtype=np.float64), nan=0.0)
    with np.errstate(invalid="ignore"):
        codes = np.where(median >= need, 0, np.where(p80 >= need, 1, 2))
    codes[np.isnan(median)] = 3
    codes[need <= 0] = 0  # nothing to reach
    return codes.astype(np.int64)


def qualification(median: np.ndarray, p80: np.ndarray, min_spend: np.ndarray) -> np.ndarray:
    """Label each (customer, offer) pair: likely to qualify / stretch / unlikely / unknown.

    Examples
    --------
    >>> qualification(np.array([50., 50., 50., np.nan, np.nan]),
    ...               np.array([90., 90., 90., np.nan, np.nan]),
    ...               np.array([40., 80., 100., 10., 0.])).tolist()
    ['likely to qualify', 'stretch', 'unlikely', 'unknown', 'likely to qualify']
    """
    return _LABELS[qualification_codes(median, p80, min_spend)]


def _reward_terms(reward_type: object, reward_value: object) -> tuple[np.ndarray, np.ndarray]:
    """Each reward as ``flat + per_spend x spend`` in currency (see the module docstring)."""
    kind = text_keys(reward_type).to_numpy(dtype=object)
    value = np.nan_to_num(np.asarray(reward_value, dtype=np.float64), nan=0.0)
    flat = np.where((kind == "cashback") | (kind == "statement_credit"), value, 0.0)
    per_spend = np.where(kind == "points_multiplier", value * POINT_VALUE, 0.0)
    per_spend = np.where(kind == "discount_pct", value / 100.0, per_spend)
    return flat, per_spend


def reward_in_currency(reward_type: object, reward_value: object, spend: object) -> np.ndarray:
    """The reward earned at ``spend``, in currency (see the module docstring); 0 when unknown.

    Examples
    --------
    >>> reward_in_currency(["points_multiplier", "cashback", "discount_pct", None],
    ...                    [3, 10, 5, 7], [200, 200, 200, 200]).tolist()
    [6.0, 10.0, 10.0, 0.0]
    """
    flat, per_spend = _reward_terms(reward_type, reward_value)
    return flat + per_spend * np.nan_to_num(np.asarray(spend, dtype=np.float64), nan=0.0)


def redemption_counts(redemptions: pd.DataFrame | None) -> pd.Series | None:
    """Redemptions per (customer_id, offer_id), or None without a redemptions file."""
    if redemptions is None or not len(redemptions):
        return None
    keys = [redemptions[S.CUSTOMER_ID].astype(str), redemptions[S.OFFER_ID].astype(str)]
    return redemptions.groupby(keys, sort=True).size().rename("redeemed")


def capped(
    customer_ids: object, offer_ids: object, max_per_customer: object, counts: pd.Series | None
) -> np.ndarray:
    """Whether each customer already used each offer ``max_per_customer`` times (no cap: never).

    Examples
    --------
    >>> used = redemption_counts(pd.DataFrame({"customer_id": ["a", "a"], "offer_id": ["O1"] * 2}))
    >>> capped(["a", "a", "b"], ["O1", "O1", "O1"], pd.array([2, 3, 1], dtype="Int64"),
    ...        used).tolist()
    [True, False, False]
    """
    cap = pd.array(max_per_customer, dtype="Int64").to_numpy(dtype=np.float64, na_value=np.inf)
    if counts is None:
        return np.zeros(cap.shape, dtype=bool)
    index = pd.MultiIndex.from_arrays(
        [
            pd.Index(np.asarray(customer_ids, dtype=object)).astype(str),
            pd.Index(np.asarray(offer_ids, dtype=object)).astype(str),
        ]
    )
    used = counts.reindex(index).to_numpy(dtype=np.float64, na_value=0.0)
    return np.nan_to_num(used, nan=0.0) >= cap


def last_purchase_days(
    purchases: pd.DataFrame, customers: IdIndex, products: IdIndex
) -> sp.csr_matrix | None:
    """Customer x product CSR of the last purchase day (days since 1970-01-01, plus one).

    The ``+ 1`` keeps 1970-01-01 from being an implicit zero. None without any purchase date.
    """
    if S.PURCHASE_DATE not in purchases.columns:
        return None
    dates = pd.to_datetime(purchases[S.PURCHASE_DATE], errors="coerce")
    if not dates.notna().any():
        return None
    days = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)
    dated = dates.notna().to_numpy()
    rows = customers.indices_of(purchases[S.CUSTOMER_ID][dated], missing="mask")
    cols = products.indices_of(purchases[S.PRODUCT_ID][dated], missing="mask")
    ok = (rows >= 0) & (cols >= 0)
    cells = rows[ok].astype(np.int64) * len(products) + cols[ok]
    cells, last = _group_max(cells, days[dated][ok] + 1)
    return sp.csr_matrix(
        (last.astype(np.int32), (cells // len(products), cells % len(products))),
        shape=(len(customers), len(products)),
    )


def _group_max(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the largest of each key's integer values.

    >>> _group_max(np.array([5, 2, 5]), np.array([1, 7, 3]))
    (array([2, 5]), array([7, 3]))
    """
    if keys.size == 0:
        return keys, values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if int(keys.max()) >= np.iinfo(np.int64).max // span - 1:
        frame = pd.DataFrame({"k": keys, "v": values}).groupby("k", sort=True)["v"].max()
        return frame.index.to_numpy(), frame.to_numpy()
    # One sort of (key, value) packed into int64: a key's last entry holds its largest value.
    packed = np.sort(keys.astype(np.int64) * span + (values - low))
    key = packed // span
    last = np.append(key[1:] != key[:-1], True)
    return key[last], packed[last] % span + low


@dataclass(frozen=True)
class OfferBook:
    """Everything needed to match recommendations with the offers a customer can use.

    Parameters
    ----------
    rewards : DataFrame or None
        The offers (canonical columns); None when no offers file was loaded.
    as_of : Timestamp
        Day on which offers must be valid.
    segments : Series, optional
        Customer segment by customer_id.
    profile : SpendProfile, optional
        Spend figures; without it every qualification is ``"unknown"``.
    redeemed : Series, optional
        :func:`redemption_counts` of the redemptions file.

    The best offer is the one the customer can reach first (likely/unknown, then stretch, then
    unlikely), then the highest expected reward in currency, then ``offer_id``: raw
    ``reward_value`` is not comparable across reward types (3x points vs 10 cashback).
    """

    rewards: pd.DataFrame | None
    as_of: pd.Timestamp
    segments: pd.Series | None = None
    profile: SpendProfile | None = None
    redeemed: pd.Series | None = None

    # Per-book work, done once however many chunks of recommendations are matched (a frozen
    # dataclass keeps its __dict__, where cached_property stores the value).
    @cached_property
    def _index(self) -> OfferIndex:
        return OfferIndex.build(
            valid_offers(self.rewards, self.as_of), segment_lookup(self.segments)
        )

    @cached_property
    def _terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per valid offer: min spend, reward as ``flat + per_spend x spend``, and its cap."""
        offers = self._index.offers
        need = offers[S.MIN_SPEND].to_numpy(dtype=np.float64, na_value=0.0)
        flat, per_spend = _reward_terms(offers[S.REWARD_TYPE], offers[S.REWARD_VALUE])
        cap = pd.array(offers[S.MAX_PER_CUSTOMER], dtype="Int64").to_numpy(
            dtype=np.float64, na_value=np.inf
        )
        return need, flat, per_spend, cap

    @cached_property
    def _used(self) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, int] | None:
        """Redemptions: their customers, sorted ``customer x offer-id code`` keys, the counts,
        each valid offer's id code and the key width."""
        if self.redeemed is None or not len(self.redeemed):
            return None
        id_codes, id_names = pd.factorize(text_keys(self._index.offers[S.OFFER_ID]))
        redeemers = text_keys(self.redeemed.index.get_level_values(0))
        customers = redeemers.unique()
        cust = customers.get_indexer(redeemers)
        offer = pd.Index(id_names).get_indexer(text_keys(self.redeemed.index.get_level_values(1)))
        width = max(len(id_names), 1)
        known = offer >= 0
        if not known.any():  # only offers that are not valid on the day were redeemed
            return None
        keys = cust[known].astype(np.int64) * width + offer[known]
        order = np.argsort(keys, kind="stable")
        counts = self.redeemed.to_numpy(dtype=np.float64)[known][order]
        return customers, keys[order], counts, id_codes.astype(np.int64), width

    def keys(self, customer_ids: object, product_ids: object, categories: object) -> RecKeys:
        """The book's codes of distinct customers, products and categories (:class:`RecKeys`).

        Built once for a vocabulary (a fitted model's customers and products), they let
        :meth:`best` match recommendations given as codes, without a text lookup per row.
        """
        index, used = self._index, self._used
        customers = np.asarray(customer_ids, dtype=object)
        categories = np.asarray(categories, dtype=object)
        none = np.full(len(customers), -1, dtype=np.int64)
        redeemer = none if used is None else used[0].get_indexer(text_keys(customers))
        spender = none if self.profile is None else self.profile.customer_rows(customers)
        spend_category = (
            np.full(len(categories), -1, dtype=np.int64)
            if self.profile is None
            else self.profile.category_codes(categories)
        )
        # A last entry for code -1 (a missing or unknown value) in each array.
        return RecKeys(
            product=np.append(index.product_codes(product_ids), -1),
            category=np.append(index.category_codes(categories), -1),
            segment=np.append(index.segment_codes(customers), -2),
            redeemer=np.append(redeemer, -1),
            spender=np.append(spender, -1),
            spend_category=np.append(spend_category, -1),
        )

    def _frame_codes(self, recs: pd.DataFrame) -> RecCodes:
        """The keys of a frame's own distinct values, and each row's codes into them."""
        customer, customers = pd.factorize(text_keys(recs[S.CUSTOMER_ID]))
        product, products = pd.factorize(text_keys(recs[S.PRODUCT_ID]))
        category, categories = pd.factorize(text_keys(recs[S.CATEGORY]))
        keys = self.keys(np.asarray(customers, object), products, np.asarray(categories, object))
        return RecCodes(keys, customer, product, category)

    def _redeemed_counts(self, redeemer: np.ndarray, offer: np.ndarray) -> np.ndarray:
        """How often each pair's customer (code among redeemers) redeemed its offer."""
        used = self._used
        if used is None or not offer.size:
            return np.zeros(offer.shape, dtype=np.float64)
        _, keys, counts, id_codes, width = used
        wanted = redeemer.astype(np.int64) * width + id_codes[offer]
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.where((redeemer >= 0) & (keys[at] == wanted), counts[at], 0.0)

    def value(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Add ``qualifies``, ``reward_if_earned`` and ``expected_reward`` to offer pairs."""
        if self.profile is not None and len(pairs):
            median, p80 = self.profile.lookup(pairs[S.CUSTOMER_ID], pairs[S.CATEGORY])
        else:
            median = p80 = np.full(len(pairs), np.nan)
        need = pairs[S.MIN_SPEND].to_numpy(dtype=np.float64, na_value=0.0)
        codes = qualification_codes(median, p80, need)
        spend = np.where(np.isnan(median), need, np.fmax(median, need))
        earned = reward_in_currency(pairs[S.REWARD_TYPE], pairs[S.REWARD_VALUE], spend)
        pairs[S.QUALIFIES] = pd.array(_LABELS[codes], dtype="str")
        pairs[S.REWARD_IF_EARNED] = earned
        pairs[S.EXPECTED_REWARD] = earned * _LIKELIHOOD[codes]
        return pairs

    @property
    def day_offers(self) -> pd.DataFrame:
        """The offers valid on :attr:`as_of` (canonical columns); the ``offer`` positions of
        :meth:`usable_pairs` index its rows."""
        return self._index.offers

    def usable_pairs(self, codes: RecCodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every usable (recommendation, offer) pair of recommendations given as codes, in no
        particular order: the recommendation's position, the offer's row in
        :attr:`day_offers`, and whether it matched by product (else by category).

        The pairs of :meth:`pairs` and :meth:`best` (segment rule and caps applied), without
        their valuation: what counting reach needs.
        """
        keys, customer, product, category = codes
        rec, offer, by_product = self._index.match_codes(
            keys.product[product], keys.category[category], keys.segment[customer], sort=False
        )
        cap = self._terms[3]
        usable = self._redeemed_counts(keys.redeemer[customer[rec]], offer) < cap[offer]
        return rec[usable], offer[usable], by_product[usable]

    def _valued(self, recs: pd.DataFrame, codes: RecCodes | None = None) -> _Ranked:
        """Every usable (recommendation, offer) pair, valued, in matching order (``rank`` is
        not set). ``codes`` give the recommendations as codes into :meth:`keys` (else they
        are looked up from the frame's columns)."""
        codes = self._frame_codes(recs) if codes is None else codes
        keys, customer, _, category = codes
        rec, offer, by_product = self.usable_pairs(codes)
        need, flat, per_spend, _ = self._terms
        if self.profile is not None and rec.size:
            median, p80 = self.profile.lookup_codes(
                keys.spender[customer[rec]], keys.spend_category[category[rec]]
            )
        else:
            median = p80 = np.full(rec.shape, np.nan)
        quality = qualification_codes(median, p80, need[offer])
        spend = np.where(np.isnan(median), need[offer], np.fmax(median, need[offer]))
        earned = flat[offer] + per_spend[offer] * spend
        expected = earned * _LIKELIHOOD[quality]
        return _Ranked(rec, offer, by_product, quality, earned, expected, rank=None)

    def _ranked(self, recs: pd.DataFrame, codes: RecCodes | None = None) -> _Ranked:
        """:meth:`_valued`'s pairs, best first within each recommendation (see the class
        docstring), ``rank`` 1 for each recommendation's best."""
        pairs = self._valued(recs, codes)
        rec = pairs.rec
        order = np.lexsort(
            (self._index.offer_rank[pairs.offer], -pairs.expected, _REACH[pairs.codes], rec)
        )
        rec = rec[order]
        first = np.ones(rec.shape, dtype=bool)
        first[1:] = rec[1:] != rec[:-1]
        starts = np.maximum.accumulate(np.where(first, np.arange(rec.size), 0))
        return _Ranked(
            rec=rec,
            offer=pairs.offer[order],
            by_product=pairs.by_product[order],
            codes=pairs.codes[order],
            earned=pairs.earned[order],
            expected=pairs.expected[order],
            rank=np.arange(rec.size, dtype=np.int64) - starts + 1,
        )

    def _best_pairs(self, pairs: _Ranked, n_recs: int) -> tuple[np.ndarray, np.ndarray]:
        """Each recommendation's best pair in ``pairs`` (-1: none) and its number of pairs:
        the first of :meth:`_ranked`'s order, found in one pass instead of a sort."""
        return _best_per_group(
            pairs.rec,
            _REACH[pairs.codes],
            pairs.expected,
            self._index.offer_rank[pairs.offer].astype(np.int64),
            n_recs,
        )

    def _offer_columns(self, positions: np.ndarray) -> dict[str, object]:
        """The offer columns of these valid offers (-1: none, missing values)."""
        offers = self._index.offers
        return {
            col: pd.api.extensions.take(offers[col].array, positions, allow_fill=True)
            for col in OFFER_COLUMNS
            if col != S.MATCH
        }

    def pairs(self, recs: pd.DataFrame) -> pd.DataFrame:
        """Every usable offer of each recommendation, valued and ranked best first.

        Like :func:`recsys.rewards.eligibility.eligible_offers` (same columns, plus
        ``qualifies``, ``reward_if_earned``, ``expected_reward`` and ``offer_rank``), without
        the offers the customer has used up, best first (see the class docstring).
        """
        ranked = self._ranked(recs)
        base = recs.drop(columns=[c for c in recs.columns if c in _ADDED]).reset_index(drop=True)
        out = base.iloc[ranked.rec].reset_index(drop=True)
        for col, values in self._offer_columns(ranked.offer).items():
            out[col] = values
        out[S.MATCH] = np.where(ranked.by_product, MATCH_PRODUCT, MATCH_CATEGORY)
        out = offer_dtypes(out)
        out[S.QUALIFIES] = pd.array(_LABELS[ranked.codes], dtype="str")
        out[S.REWARD_IF_EARNED] = ranked.earned
        out[S.EXPECTED_REWARD] = ranked.expected
        out[S.OFFER_RANK] = ranked.rank
        return out

    def best(self, recs: pd.DataFrame, codes: RecCodes | None = None) -> pd.DataFrame:
        """``recs`` (same rows and order, fresh index) with its best usable offer.

        Adds :data:`~recsys.rewards.eligibility.OFFER_COLUMNS`, ``n_eligible_offers``,
        ``qualifies``, ``reward_if_earned`` and ``expected_reward`` (missing values / 0 when none).
        ``codes``: the rows of ``recs`` as codes into :meth:`keys`, when the caller has them.
        """
        pairs = self._valued(recs, codes)
        n_rows = len(recs)
        top, n_eligible = self._best_pairs(pairs, n_rows)  # position in pairs of each best
        has = top >= 0

        def best_of(values: np.ndarray, missing: object) -> np.ndarray:
            picked = np.full(n_rows, missing, dtype=object if missing is None else values.dtype)
            picked[has] = values[top[has]]
            return picked

        # One frame from the columns: dropping, building and concatenating frames is a fixed
        # cost that dominates a single customer's ten rows.
        columns: dict[str, object] = {c: recs[c].array for c in recs.columns if c not in _ADDED}
        columns.update(self._offer_columns(best_of(pairs.offer, -1)))
        # Text columns of few values: taken by code from the values, not converted cell by cell.
        by_category = best_of((~pairs.by_product).astype(np.int64), -1)
        columns[S.MATCH] = _MATCH_TEXT.take(by_category, allow_fill=True)
        columns[S.QUALIFIES] = _LABEL_TEXT.take(best_of(pairs.codes, -1), allow_fill=True)
        columns[S.REWARD_IF_EARNED] = best_of(pairs.earned, np.nan)
        columns[S.EXPECTED_REWARD] = best_of(pairs.expected, np.nan)
        columns[S.N_ELIGIBLE_OFFERS] = n_eligible
        return offer_dtypes(pd.DataFrame(columns, index=recs.index))

    def best_values(self, recs: pd.DataFrame) -> np.ndarray:
        """Expected reward (currency) of each recommendation's best usable offer; 0 when none."""
        pairs = self._valued(recs)
        top, _ = self._best_pairs(pairs, len(recs))
        has = top >= 0
        out = np.zeros(len(recs), dtype=np.float64)
        out[has] = pairs.expected[top[has]]
        return out


@dataclass(frozen=True)
class RecKeys:
    """An offer book's codes of a vocabulary of customers, products and categories.

    Each array has one entry per distinct value, plus a last one for code -1 (missing):
    ``product`` and ``category`` index the offers' groups, ``segment`` the offers' segments,
    ``redeemer`` the customers with redemptions, ``spender`` and ``spend_category`` the spend
    profile.
    """

    product: np.ndarray
    category: np.ndarray
    segment: np.ndarray
    redeemer: np.ndarray
    spender: np.ndarray
    spend_category: np.ndarray


class RecCodes(NamedTuple):
    """Recommendations as codes: the vocabulary's keys, then per row its customer, product and
    category code into that vocabulary (-1: missing)."""

    keys: RecKeys
    customer: np.ndarray
    product: np.ndarray
    category: np.ndarray


@dataclass(frozen=True)
class _Ranked:
    """Usable (recommendation, offer) pairs, best first per recommendation: parallel arrays."""

    rec: np.ndarray  # position of the recommendation in the matched frame
    offer: np.ndarray  # position of the offer in the book's valid offers
    by_product: np.ndarray  # matched by product (else by category)
    codes: np.ndarray  # qualification code (see qualification_codes)
    earned: np.ndarray  # reward if earned, currency
    expected: np.ndarray  # expected reward, currency
    rank: np.ndarray | None  # 1 = the recommendation's best offer (None: not ranked)


@numba.njit(cache=True, nogil=True)
def _best_per_group(
    group: np.ndarray, reach: np.ndarray, value: np.ndarray, tie: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the first position of the stable sort by (lower ``reach``, higher ``value``
    with nan last, lower ``tie``), and the group's size; -1 for an empty group."""
    best = np.full(n_groups, -1, dtype=np.int64)
    size = np.zeros(n_groups, dtype=np.int64)
    for p in range(group.size):
        g = group[p]
        size[g] += 1
        b = best[g]
        if b < 0 or reach[p] < reach[b]:
            best[g] = p
        elif reach[p] == reach[b]:
            v, w = value[p], value[b]
            same = v == w or (v != v and w != w)
            if v > w or (w != w and v == v) or (same and tie[p] < tie[b]):
                best[g] = p
    return best, size


_VALUE_COLUMNS = (S.QUALIFIES, S.REWARD_IF_EARNED, S.EXPECTED_REWARD)
# Columns the matching writes: a recommendation's own columns of these names are replaced.
_ADDED = (*OFFER_COLUMNS, *_VALUE_COLUMNS, S.N_ELIGIBLE_OFFERS, S.OFFER_RANK)
