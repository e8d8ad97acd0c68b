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

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys.data import schema as S
from recsys.models.matrix import IdIndex
from recsys.rewards.eligibility import OFFER_COLUMNS, eligible_with, segment_lookup, valid_offers

__all__ = [
    "LIKELIHOOD",
    "POINT_VALUE",
    "QUALIFY_LIKELY",
    "QUALIFY_STRETCH",
    "QUALIFY_UNKNOWN",
    "QUALIFY_UNLIKELY",
    "OfferBook",
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
# Order of preference when the best offer is "reachable first": unknown counts as reachable.
_REACH_ORDER = {QUALIFY_LIKELY: 0, QUALIFY_UNKNOWN: 0, QUALIFY_STRETCH: 1, QUALIFY_UNLIKELY: 2}

_REC = "_rec"  # position of a recommendation while its offers are ranked


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
        cust = np.asarray(customer_ids, dtype=object)
        rows = self.customers.get_indexer(pd.Index(cust.astype(str)))
        cats = self.categories.get_indexer(pd.Index(np.asarray(categories, dtype=object)))
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
    lines = purchases.loc[keep]
    category = (
        lines[S.CATEGORY]
        if S.CATEGORY in lines
        else pd.Series(pd.NA, index=lines.index, dtype="str")
    )
    if catalogue is not None and len(catalogue):
        by_product = catalogue.drop_duplicates(S.PRODUCT_ID).set_index(S.PRODUCT_ID)[S.CATEGORY]
        from_catalogue = lines[S.PRODUCT_ID].astype(str).map(by_product)
        category = category.fillna(from_catalogue) if len(category) else category
    cust_codes, customers = pd.factorize(lines[S.CUSTOMER_ID].astype(str), sort=True)
    cat_codes, categories = pd.factorize(category.astype("str"), sort=True)
    width = len(categories) + 1
    values = amount[keep].to_numpy(dtype=np.float64)
    base = cust_codes.astype(np.int64) * width
    has_cat = cat_codes >= 0
    keys = np.concatenate([base, base[has_cat] + cat_codes[has_cat] + 1])
    both = pd.DataFrame({"key": keys, "amount": np.concatenate([values, values[has_cat]])})
    grouped = both.groupby("key", sort=True)["amount"]
    median = grouped.median()
    p80 = grouped.quantile(0.8)
    return SpendProfile(
        customers=pd.Index(np.asarray(customers, dtype=object)),
        categories=pd.Index(np.asarray(categories, dtype=object)),
        keys=median.index.to_numpy(dtype=np.int64),
        median=median.to_numpy(dtype=np.float32),
        p80=p80.to_numpy(dtype=np.float32),
    )


def qualification(median: np.ndarray, p80: np.ndarray, min_spend: np.ndarray) -> np.ndarray:
    """Label each (customer, offer) pair: likely to qualify / stretch / unlikely / unknown.

    Examples
    --------
    >>> qualification(np.array([50., 50., 50., np.nan, np.nan]),
    ...               np.array([90., 90., 90., np.nan, np.nan]),
    ...               np.array([40., 80., 100., 10., 0.])).tolist()
    ['likely to qualify', 'stretch', 'unlikely', 'unknown', 'likely to qualify']
    """
    median, p80 = np.asarray(median, dtype=np.float64), np.asarray(p80, dtype=np.float64)
    need = np.nan_to_num(np.asarray(min_spend, dtype=np.float64), nan=0.0)
    with np.errstate(invalid="ignore"):
        labels = np.where(
            median >= need,
            QUALIFY_LIKELY,
            np.where(p80 >= need, QUALIFY_STRETCH, QUALIFY_UNLIKELY),
        ).astype(object)
    labels[np.isnan(median)] = QUALIFY_UNKNOWN
    labels[need <= 0] = QUALIFY_LIKELY  # nothing to reach
    return labels


def reward_in_currency(reward_type: object, reward_value: object, spend: object) -> np.ndarray:
    """The reward earned at ``spend``, in currency (see the module docstring); 0 when unknown.

    Examples
    --------
    >>> reward_in_currency(["points_multiplier", "cashback", "discount_pct", None],
    ...                    [3, 10, 5, 7], [200, 200, 200, 200]).tolist()
    [6.0, 10.0, 10.0, 0.0]
    """
    kind = pd.Series(np.asarray(reward_type, dtype=object)).astype("str").to_numpy(dtype=object)
    value = np.nan_to_num(np.asarray(reward_value, dtype=np.float64), nan=0.0)
    spend = np.nan_to_num(np.asarray(spend, dtype=np.float64), nan=0.0)
    out = np.zeros(value.shape, dtype=np.float64)
    points = kind == "points_multiplier"
    flat = (kind == "cashback") | (kind == "statement_credit")
    pct = kind == "discount_pct"
    out[points] = value[points] * spend[points] * POINT_VALUE
    out[flat] = value[flat]
    out[pct] = value[pct] / 100.0 * spend[pct]
    return out


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
    frame = pd.DataFrame({"r": rows[ok], "c": cols[ok], "d": days[dated][ok] + 1})
    last = frame.groupby(["r", "c"], sort=True)["d"].max().reset_index()
    return sp.csr_matrix(
        (last["d"].to_numpy(np.int32), (last["r"].to_numpy(), last["c"].to_numpy())),
        shape=(len(customers), len(products)),
    )


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
    def _offers(self) -> pd.DataFrame:
        return valid_offers(self.rewards, self.as_of)

    @cached_property
    def _segments(self) -> pd.Series | None:
        return segment_lookup(self.segments)

    def value(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Add ``qualifies``, ``reward_if_earned`` and ``expected_reward`` to offer pairs."""
        n = len(pairs)
        if self.profile is not None and n:
            median, p80 = self.profile.lookup(pairs[S.CUSTOMER_ID], pairs[S.CATEGORY])
        else:
            median = p80 = np.full(n, np.nan)
        need = pairs[S.MIN_SPEND].to_numpy(dtype=np.float64, na_value=0.0)
        labels = qualification(median, p80, need)
        spend = np.where(np.isnan(median), need, np.fmax(median, need))
        earned = reward_in_currency(pairs[S.REWARD_TYPE], pairs[S.REWARD_VALUE], spend)
        likelihood = pd.Series(labels).map(LIKELIHOOD).to_numpy(dtype=np.float64)
        pairs[S.QUALIFIES] = pd.array(labels, dtype="str")
        pairs[S.REWARD_IF_EARNED] = earned
        pairs[S.EXPECTED_REWARD] = earned * likelihood
        return pairs

    def pairs(self, recs: pd.DataFrame) -> pd.DataFrame:
        """Every usable offer of each recommendation, valued and ranked best first.

        Like :func:`recsys.rewards.eligibility.eligible_offers` (same columns, plus ``qualifies``,
        ``reward_if_earned``, ``expected_reward``), without the offers the customer has used
        up, best first (see the class docstring).
        """
        return self._ranked(recs).drop(columns=_REC)

    def _ranked(self, recs: pd.DataFrame) -> pd.DataFrame:
        """:meth:`pairs` plus ``_rec``, the position of each pair's recommendation in ``recs``."""
        keyed = recs.reset_index(drop=True).assign(**{_REC: np.arange(len(recs))})
        out = eligible_with(keyed, self._offers, self._segments)
        used_up = capped(
            out[S.CUSTOMER_ID], out[S.OFFER_ID], out[S.MAX_PER_CUSTOMER], self.redeemed
        )
        out = self.value(out.loc[~used_up].reset_index(drop=True))
        if len(out):
            out["_reach"] = out[S.QUALIFIES].map(_REACH_ORDER).fillna(0).astype(np.int64)
            out = out.sort_values(
                [_REC, "_reach", S.EXPECTED_REWARD, S.OFFER_ID],
                ascending=[True, True, False, True],
                kind="stable",
            ).drop(columns="_reach")
        out[S.OFFER_RANK] = out.groupby(_REC, sort=False).cumcount().astype(np.int64) + 1
        return out.reset_index(drop=True)

    def best(self, recs: pd.DataFrame) -> pd.DataFrame:
        """``recs`` (same rows and order, fresh index) with its best usable offer.

        Adds :data:`~recsys.rewards.eligibility.OFFER_COLUMNS`, ``n_eligible_offers``,
        ``qualifies``, ``reward_if_earned`` and ``expected_reward`` (missing values / 0 when none).
        """
        # Only the columns the matching and the valuing read: the other columns of recs are
        # not copied into every (recommendation, offer) pair.
        narrow = [c for c in (S.CUSTOMER_ID, S.PRODUCT_ID, S.CATEGORY) if c in recs.columns]
        pairs = self._ranked(recs[narrow])
        n_rows = len(recs)
        top = pairs.loc[pairs[S.OFFER_RANK].eq(1).to_numpy()].set_index(_REC).reindex(range(n_rows))
        out = recs.reset_index(drop=True).drop(
            columns=[c for c in (*OFFER_COLUMNS, *_VALUE_COLUMNS) if c in recs.columns]
        )
        for col in (*OFFER_COLUMNS, *_VALUE_COLUMNS):
            out[col] = top[col].array  # positional: top follows the order of recs
        out[S.N_ELIGIBLE_OFFERS] = np.bincount(
            pairs[_REC].to_numpy(np.int64), minlength=n_rows
        ).astype(np.int64)
        out[S.QUALIFIES] = out[S.QUALIFIES].astype("str")
        out.index = recs.index
        return out

    def best_values(self, recs: pd.DataFrame) -> np.ndarray:
        """Expected reward (currency) of each recommendation's best usable offer; 0 when none."""
        narrow = [c for c in (S.CUSTOMER_ID, S.PRODUCT_ID, S.CATEGORY) if c in recs.columns]
        pairs = self._ranked(recs[narrow])
        best = pairs.loc[pairs[S.OFFER_RANK].eq(1).to_numpy()]
        out = np.zeros(len(recs), dtype=np.float64)
        out[best[_REC].to_numpy(np.int64)] = best[S.EXPECTED_REWARD].to_numpy(np.float64)
        return out


_VALUE_COLUMNS = (S.QUALIFIES, S.REWARD_IF_EARNED, S.EXPECTED_REWARD)
